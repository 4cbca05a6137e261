// GrpcClaimer: the Claimer over the scheduler's gRPC API (Scheduler.Claim) on one shared channel
// (TLS trusting a CA file, or plaintext for local development).
//
// Each call waits for the channel to be ready until its deadline (wait_for_ready), so a
// scheduler that is restarting or failing over gets the whole budget to come back, and one that
// is down gives kDeadlineExceeded at the deadline. Reconnect backoff is capped at one second.
// There is no client-side rate limiting. When a call fails with UNAVAILABLE before the deadline
// (e.g. the connection reached a replica that no longer leads; the scheduler Service routes new
// connections to the leader), the channel is replaced by a fresh one (own subchannel pool, so a
// new connection) and the call is tried once more: Claim is idempotent per admission uid.
//
// Owns its channel. Claim() is thread-safe.
#ifndef LABKUBE_SERVICES_INJECTOR_GRPC_CLAIMER_H_
#define LABKUBE_SERVICES_INJECTOR_GRPC_CLAIMER_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "services/injector/claimer.h"

namespace labkube::injector {

struct GrpcClaimerOptions {
  std::string address = "labkube-scheduler.labkube-system.svc:8443";  // host:port
  std::string ca_file = "";  // PEM CA(s) for the scheduler's certificate; "" = system CAs
  // The injector's own certificate (CN labkube-injector), for a scheduler that requires mutual TLS.
  std::string cert_file = "";
  std::string key_file = "";
  bool plaintext = false;    // no TLS (local development)
};

class GrpcClaimer final : public Claimer {
 public:
  // Checks the CA file and builds the channel (it connects lazily).
  static absl::StatusOr<std::unique_ptr<GrpcClaimer>> Create(const GrpcClaimerOptions& options);

  absl::StatusOr<ClaimResponse> Claim(const ClaimRequest& request, absl::Time deadline) override;
  // kNotFound when the scheduler no longer holds the claim (bound, expired or unknown).
  absl::Status Release(const std::string& claim_id, const std::string& signature,
                       absl::Time deadline) override;

 private:
  GrpcClaimer(std::string address, std::shared_ptr<grpc::ChannelCredentials> credentials);

  using Stub = ::labkube::scheduler::v1alpha1::Scheduler::Stub;
  std::shared_ptr<Stub> CurrentStub() ABSL_LOCKS_EXCLUDED(mu_);
  // Replaces the channel if `used` is still the current one.
  void ResetChannel(const std::shared_ptr<Stub>& used) ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<Stub> NewStub() const;

  const std::string address_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  std::shared_ptr<Stub> stub_ ABSL_GUARDED_BY(mu_);  // holds the channel
};

// Domain <-> proto.
::labkube::scheduler::v1alpha1::ClaimRequest ToProto(const ClaimRequest& in);
ClaimResponse FromProto(const ::labkube::scheduler::v1alpha1::ClaimResponse& in);

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_GRPC_CLAIMER_H_
