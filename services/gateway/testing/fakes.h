// Fakes of the gateway's interfaces for unit tests (test-only):
//   FakeTokenReviewer   token -> Caller table;
//   TokenReviewFakeClient FakeClient that also answers TokenReview creates from a token ->
//                       username table (the real API server's job), for KubeTokenReviewer;
//   FakeAvailability    machine types set by the test, versioned like the real one;
//   FakeAuthForwarder   records requests, answers with canned responses or errors.
// Thread safety: all are safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_TESTING_FAKES_H_
#define LABKUBE_SERVICES_GATEWAY_TESTING_FAKES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "lib/contract.h"
#include "lib/kube/testing/fake_client.h"
#include "services/gateway/auth_forwarder.h"
#include "services/gateway/availability.h"
#include "services/gateway/token_reviewer.h"

namespace labkube::gateway::testing {

class FakeTokenReviewer : public TokenReviewer {
 public:
  void Add(const std::string& token, Caller caller) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Caller> Review(std::string_view token) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::map<std::string, Caller, std::less<>> callers_ ABSL_GUARDED_BY(mu_);
};

class TokenReviewFakeClient : public kube::testing::FakeClient {
 public:
  using FakeClient::FakeClient;
  // `token` authenticates as `username` (e.g. system:serviceaccount:lab-alice:alice) for
  // `audience` (labkube's login tokens: kGatewayAudience; a pod's own token: the API server's).
  void AddToken(const std::string& token, const std::string& username,
                const std::string& audience = contract::kGatewayAudience) ABSL_LOCKS_EXCLUDED(mu_);
  // Creates namespace lab-<member>'s ServiceAccount <member> labelled as the authenticator
  // does, and a token for it.
  void AddMember(const std::string& member, const std::string& token, bool admin);
  int Reviews() ABSL_LOCKS_EXCLUDED(mu_);
  // TokenReviews fail with `status` (OK: answer again).
  void FailReviews(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<rapidjson::Document> Create(const kube::Resource& resource, std::string_view ns,
                                             const rapidjson::Value& object,
                                             const kube::WriteOptions& options = {}) override;

 private:
  absl::Mutex mu_;
  struct Issued {
    std::string username;
    std::string audience;
  };
  std::map<std::string, Issued, std::less<>> users_ ABSL_GUARDED_BY(mu_);
  int reviews_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status review_error_ ABSL_GUARDED_BY(mu_);
};

// A machine type for tests: group/name with `gpus` GPUs of `model` and the given usage.
gw::MachineType TestType(const std::string& group, const std::string& name, int gpus,
                         const std::string& model, int maximum, int reserved);

class FakeAvailability : public Availability {
 public:
  void Set(std::vector<gw::MachineType> types) ABSL_LOCKS_EXCLUDED(mu_);
  void SetError(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<AvailabilitySnapshot> Current() override ABSL_LOCKS_EXCLUDED(mu_);
  AvailabilitySnapshot WaitNewer(uint64_t version, absl::Duration timeout) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // The line Queue() answers for queue.group()/queue.machine_type() (none set: an empty line).
  void SetQueue(gw::Queue queue) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<gw::Queue> Queue(const gw::MachineType& type) override ABSL_LOCKS_EXCLUDED(mu_);
  int queue_calls() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  AvailabilitySnapshot snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, gw::Queue> queues_ ABSL_GUARDED_BY(mu_);
  int queue_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeAuthForwarder : public AuthForwarder {
 public:
  // Every call fails with `status` (OK: answer normally).
  void SetError(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  // The metadata of the last call.
  CallMeta LastMeta() ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> Calls() ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<gw::LoginResponse> Login(const gw::LoginRequest& r, const CallMeta& m) override;
  absl::StatusOr<gw::RefreshResponse> Refresh(const gw::RefreshRequest& r,
                                              const CallMeta& m) override;
  absl::StatusOr<gw::LogoutResponse> Logout(const gw::LogoutRequest& r, const CallMeta& m) override;
  absl::StatusOr<gw::Member> CreateMember(const gw::CreateMemberRequest& r,
                                          const CallMeta& m) override;
  absl::StatusOr<gw::DeleteMemberResponse> DeleteMember(const gw::DeleteMemberRequest& r,
                                                        const CallMeta& m) override;
  absl::StatusOr<gw::SetPasswordResponse> SetPassword(const gw::SetPasswordRequest& r,
                                                      const CallMeta& m) override;
  absl::StatusOr<gw::ListMembersResponse> ListMembers(const gw::ListMembersRequest& r,
                                                      const CallMeta& m) override;

 private:
  absl::Status Record(const std::string& call, const CallMeta& m) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  CallMeta last_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::gateway::testing

#endif  // LABKUBE_SERVICES_GATEWAY_TESTING_FAKES_H_
