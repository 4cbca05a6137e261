// SchedulerService: the gRPC face of the scheduler (labkube.scheduler.v1alpha1.Scheduler).
// Handlers check the request, convert it to domain types, call ClaimHandler / read the
// AvailabilityBoard, and map the result once (ToGrpcStatus). Claim is answered only when
// `can_claim` returns OK (caches synced and this replica leads); otherwise its UNAVAILABLE
// status, which says why, goes back so the caller retries.
//
// Borrows the handler, board and metrics registry. Thread-safe (gRPC calls it from its pool).
#ifndef LABKUBE_SERVICES_SCHEDULER_SCHEDULER_SERVICE_H_
#define LABKUBE_SERVICES_SCHEDULER_SCHEDULER_SERVICE_H_

#include <functional>

#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/metrics.h"
#include "lib/peer_identity.h"
#include "lib/call_limiter.h"
#include "services/scheduler/availability.h"
#include "services/scheduler/claim_handler.h"

namespace labkube::scheduler {

namespace api = ::labkube::scheduler::v1alpha1;

// Who may call what, checked on every call when the server requires client certificates.
struct SchedulerCallers {
  CallerPolicy claim;         // Claim: the injector
  CallerPolicy availability;  // List/Get/WatchAvailability: the gateway (and admins' tools)
};

class SchedulerService final : public api::Scheduler::Service {
 public:
  SchedulerService(ClaimHandler& claims, AvailabilityBoard& board,
                   std::function<absl::Status()> can_claim, metrics::Registry& registry,
                   SchedulerCallers callers = {});

  grpc::Status Claim(grpc::ServerContext* context, const api::ClaimRequest* request,
                     api::ClaimResponse* response) override;
  grpc::Status Release(grpc::ServerContext* context, const api::ReleaseRequest* request,
                       api::ReleaseResponse* response) override;
  grpc::Status ListMachineTypes(grpc::ServerContext* context,
                                const api::ListMachineTypesRequest* request,
                                api::ListMachineTypesResponse* response) override;
  grpc::Status GetAvailability(grpc::ServerContext* context,
                               const api::GetAvailabilityRequest* request,
                               api::MachineType* response) override;
  grpc::Status GetQueue(grpc::ServerContext* context, const api::GetAvailabilityRequest* request,
                        api::Queue* response) override;
  grpc::Status WatchAvailability(grpc::ServerContext* context,
                                 const api::ListMachineTypesRequest* request,
                                 grpc::ServerWriter<api::ListMachineTypesResponse>* writer) override;

 private:
  absl::StatusOr<ClaimDecision> DoClaim(const api::ClaimRequest& request);

  ClaimHandler& claims_;
  AvailabilityBoard& board_;
  std::function<absl::Status()> can_claim_;
  metrics::CounterFamily* claim_results_;
  metrics::HistogramFamily* claim_latency_;
  // WatchAvailability streams: each holds a server thread (max_threads 1024 by default); the
  // gateway keeps one per replica.
  CallLimiter streams_{/*total=*/256, /*per_caller=*/16};
  // Unary calls in progress, per caller (certificate identity, else address): no one caller
  // (a compromised gateway, say) can hold more than a quarter of the threads Claim needs.
  CallLimiter unary_{/*total=*/768, /*per_caller=*/256, "calls in progress"};
  const SchedulerCallers callers_;
};

// Domain -> proto.
void ToProto(const TypeAvailability& in, api::MachineType* out);
void ToProto(const ClaimDecision& in, bool dry_run, api::ClaimResponse* out);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_SCHEDULER_SERVICE_H_
