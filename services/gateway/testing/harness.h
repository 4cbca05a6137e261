// GatewayHarness: a whole gateway in-process for tests, with real gRPC everywhere: a fake
// scheduler and a fake authenticator (gRPC services on one loopback port, plaintext), a
// TokenReviewFakeClient as the Kubernetes API, and the gateway Server on 127.0.0.1:0.
//
//   auto h = GatewayHarness::Start();
//   h->AddMember("alice", "pw", /*admin=*/false);   // ServiceAccount, password, token
//   stub = Gateway::NewStub(grpc::CreateChannel(h->address(), Insecure...));
//
// Test-only. Owns everything; thread-safe.
#ifndef LABKUBE_SERVICES_GATEWAY_TESTING_HARNESS_H_
#define LABKUBE_SERVICES_GATEWAY_TESTING_HARNESS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/grpc_server.h"
#include "services/gateway/server.h"
#include "services/gateway/testing/fakes.h"

namespace labkube::gateway::testing {

namespace sched = ::labkube::scheduler::v1alpha1;
namespace auth = ::labkube::auth::v1alpha1;

class FakeSchedulerService final : public sched::Scheduler::Service {
 public:
  void Set(const std::vector<sched::MachineType>& types) ABSL_LOCKS_EXCLUDED(mu_);
  grpc::Status ListMachineTypes(grpc::ServerContext* c, const sched::ListMachineTypesRequest* r,
                                sched::ListMachineTypesResponse* out) override;
  grpc::Status WatchAvailability(grpc::ServerContext* c, const sched::ListMachineTypesRequest* r,
                                 grpc::ServerWriter<sched::ListMachineTypesResponse>* w) override;
  // The line GetQueue answers for queue.group()/queue.machine_type() (others: empty; unknown
  // types: NOT_FOUND). Also bumps the watch version, as a change of usage.waiting would.
  void SetQueue(const sched::Queue& queue) ABSL_LOCKS_EXCLUDED(mu_);
  grpc::Status GetQueue(grpc::ServerContext* c, const sched::GetAvailabilityRequest* r,
                        sched::Queue* out) override;
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  sched::ListMachineTypesResponse list_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, sched::Queue> queues_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

class FakeAuthenticatorService final : public auth::Authenticator::Service {
 public:
  // `password` logs `member` in; Login answers `token` as the access token.
  void AddUser(const std::string& member, const std::string& password, const std::string& token)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Metadata `key` of the last call ("" when absent).
  std::string LastMetadata(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> Calls() ABSL_LOCKS_EXCLUDED(mu_);
  // While held, ListMembers waits (a slow upstream call that keeps a gateway thread busy).
  void HoldListMembers(bool hold) ABSL_LOCKS_EXCLUDED(mu_);
  // After `failures` wrong passwords from one client address (the x-forwarded-for the gateway
  // sends), Login from that address answers RESOURCE_EXHAUSTED, as the authenticator's
  // per-address lockout does. 0 (the default): never.
  void LockAddressesAfter(int failures) ABSL_LOCKS_EXCLUDED(mu_);

  grpc::Status Login(grpc::ServerContext* c, const auth::LoginRequest* r,
                     auth::LoginResponse* out) override;
  grpc::Status Refresh(grpc::ServerContext* c, const auth::RefreshRequest* r,
                       auth::RefreshResponse* out) override;
  grpc::Status Logout(grpc::ServerContext* c, const auth::LogoutRequest* r,
                      auth::LogoutResponse* out) override;
  grpc::Status CreateMember(grpc::ServerContext* c, const auth::CreateMemberRequest* r,
                            auth::Member* out) override;
  grpc::Status DeleteMember(grpc::ServerContext* c, const auth::DeleteMemberRequest* r,
                            auth::DeleteMemberResponse* out) override;
  grpc::Status SetPassword(grpc::ServerContext* c, const auth::SetPasswordRequest* r,
                           auth::SetPasswordResponse* out) override;
  grpc::Status ListMembers(grpc::ServerContext* c, const auth::ListMembersRequest* r,
                           auth::ListMembersResponse* out) override;

 private:
  struct User {
    std::string password;
    std::string token;
  };
  void Record(grpc::ServerContext* c, const std::string& call) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::map<std::string, User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> metadata_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  bool hold_list_members_ ABSL_GUARDED_BY(mu_) = false;
  int lock_after_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> failures_by_address_ ABSL_GUARDED_BY(mu_);
};

class GatewayHarness {
 public:
  // `options`: gateway options (addresses and plaintext are set by the harness).
  static absl::StatusOr<std::unique_ptr<GatewayHarness>> Start(Options options = {});
  ~GatewayHarness();

  // A member with ServiceAccount lab-<name>/<name>, password `password` and access token
  // "token-<name>".
  void AddMember(const std::string& name, const std::string& password, bool admin);
  // Two machine types in group "lab": "rtx3090" (1 GPU, 2 slots, 1 free) and "cpu" (0 GPUs).
  void SetDefaultMachineTypes();

  std::string address() const;
  TokenReviewFakeClient& kube() { return *kube_; }
  FakeSchedulerService& scheduler() { return scheduler_; }
  FakeAuthenticatorService& authenticator() { return authenticator_; }
  Server& gateway() { return *gateway_; }

 private:
  GatewayHarness() = default;

  FakeSchedulerService scheduler_;
  FakeAuthenticatorService authenticator_;
  std::unique_ptr<GrpcServer> upstream_;
  TokenReviewFakeClient* kube_ = nullptr;  // owned by gateway_
  std::unique_ptr<Server> gateway_;
};

}  // namespace labkube::gateway::testing

#endif  // LABKUBE_SERVICES_GATEWAY_TESTING_HARNESS_H_
