#include "services/gateway/testing/fakes.h"

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::gateway::testing {

namespace json = kube::json;

void FakeTokenReviewer::Add(const std::string& token, Caller caller) {
  absl::MutexLock lock(&mu_);
  callers_[token] = std::move(caller);
}

absl::StatusOr<Caller> FakeTokenReviewer::Review(std::string_view token) {
  absl::MutexLock lock(&mu_);
  auto it = callers_.find(token);
  if (it == callers_.end()) return absl::UnauthenticatedError("token rejected: run `labctl login`");
  return it->second;
}

void TokenReviewFakeClient::AddToken(const std::string& token, const std::string& username,
                                     const std::string& audience) {
  absl::MutexLock lock(&mu_);
  users_[token] = Issued{username, audience};
}

void TokenReviewFakeClient::AddMember(const std::string& member, const std::string& token,
                                      bool admin) {
  const std::string ns = "lab-" + member;
  rapidjson::Document sa = json::NewObject("v1", "ServiceAccount", ns, member);
  json::SetString(sa, {"metadata", "labels", contract::kUserLabel}, member);
  if (admin) json::SetString(sa, {"metadata", "labels", contract::kAdminLabel}, "true");
  (void)FakeClient::Create(kube::resources::ServiceAccounts(), ns, sa);
  AddToken(token, absl::StrCat("system:serviceaccount:", ns, ":", member));
}

int TokenReviewFakeClient::Reviews() {
  absl::MutexLock lock(&mu_);
  return reviews_;
}

void TokenReviewFakeClient::FailReviews(absl::Status status) {
  absl::MutexLock lock(&mu_);
  review_error_ = std::move(status);
}

absl::StatusOr<rapidjson::Document> TokenReviewFakeClient::Create(
    const kube::Resource& resource, std::string_view ns, const rapidjson::Value& object,
    const kube::WriteOptions& options) {
  if (resource.plural != "tokenreviews") return FakeClient::Create(resource, ns, object, options);
  rapidjson::Document reply = json::Copy(object);
  std::string_view token = json::GetString(object, {"spec", "token"});
  absl::MutexLock lock(&mu_);
  ++reviews_;
  if (!review_error_.ok()) return review_error_;
  // Like the API server: a token is valid only for a request naming its audience (or none).
  auto it = users_.find(token);
  const rapidjson::Value* wanted = json::Find(object, {"spec", "audiences"});
  bool for_wanted = wanted == nullptr || !wanted->IsArray() || wanted->Empty();
  if (!for_wanted && it != users_.end()) {
    for (const rapidjson::Value& a : wanted->GetArray()) {
      for_wanted |= a.IsString() && json::View(a) == it->second.audience;
    }
  }
  json::SetBool(reply, {"status", "authenticated"}, it != users_.end() && for_wanted);
  if (it == users_.end()) {
    json::SetString(reply, {"status", "error"}, "invalid bearer token");
  } else if (!for_wanted) {
    json::SetString(reply, {"status", "error"},
                    "token audiences is invalid for the target audiences");
  } else {
    json::SetString(reply, {"status", "user", "username"}, it->second.username);
    rapidjson::Value list(rapidjson::kArrayType);
    list.PushBack(json::String(it->second.audience, reply.GetAllocator()), reply.GetAllocator());
    json::SetPath(reply, {"status", "audiences"}, std::move(list), reply.GetAllocator());
  }
  return reply;
}

gw::MachineType TestType(const std::string& group, const std::string& name, int gpus,
                         const std::string& model, int maximum, int reserved) {
  gw::MachineType t;
  t.set_group(group);
  t.set_name(name);
  t.set_cpu("8");
  t.set_memory("32Gi");
  if (gpus > 0) {
    t.mutable_gpu()->set_resource("nvidia.com/gpu");
    t.mutable_gpu()->set_count(gpus);
    t.mutable_gpu()->set_model(model);
  }
  t.set_maximum(maximum);
  t.set_reserved(reserved);
  t.set_free(reserved);
  return t;
}

void FakeAvailability::Set(std::vector<gw::MachineType> types) {
  absl::MutexLock lock(&mu_);
  snapshot_.types = std::move(types);
  ++snapshot_.version;
}

void FakeAvailability::SetError(absl::Status status) {
  absl::MutexLock lock(&mu_);
  error_ = std::move(status);
}

absl::StatusOr<AvailabilitySnapshot> FakeAvailability::Current() {
  absl::MutexLock lock(&mu_);
  if (!error_.ok()) return error_;
  return snapshot_;
}

AvailabilitySnapshot FakeAvailability::WaitNewer(uint64_t version, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto changed = [this, version]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return snapshot_.version != version; };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return snapshot_;
}

void FakeAvailability::SetQueue(gw::Queue queue) {
  absl::MutexLock lock(&mu_);
  std::string key = absl::StrCat(queue.group(), "/", queue.machine_type());
  queues_[key] = std::move(queue);
  ++snapshot_.version;  // as the scheduler's usage.waiting would change
}

absl::StatusOr<gw::Queue> FakeAvailability::Queue(const gw::MachineType& type) {
  absl::MutexLock lock(&mu_);
  ++queue_calls_;
  if (!error_.ok()) return error_;
  auto it = queues_.find(absl::StrCat(type.group(), "/", type.name()));
  if (it != queues_.end()) return it->second;
  gw::Queue empty;
  empty.set_group(type.group());
  empty.set_machine_type(type.name());
  return empty;
}

int FakeAvailability::queue_calls() {
  absl::MutexLock lock(&mu_);
  return queue_calls_;
}

void FakeAuthForwarder::SetError(absl::Status status) {
  absl::MutexLock lock(&mu_);
  error_ = std::move(status);
}

CallMeta FakeAuthForwarder::LastMeta() {
  absl::MutexLock lock(&mu_);
  return last_;
}

std::vector<std::string> FakeAuthForwarder::Calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

absl::Status FakeAuthForwarder::Record(const std::string& call, const CallMeta& m) {
  absl::MutexLock lock(&mu_);
  calls_.push_back(call);
  last_ = m;
  return error_;
}

absl::StatusOr<gw::LoginResponse> FakeAuthForwarder::Login(const gw::LoginRequest& r,
                                                           const CallMeta& m) {
  if (absl::Status s = Record("Login " + r.username(), m); !s.ok()) return s;
  gw::LoginResponse out;
  out.set_access_token("access-" + r.username());
  out.set_refresh_token("refresh-" + r.username());
  out.set_member(r.username());
  out.set_namespace_("lab-" + r.username());
  return out;
}

absl::StatusOr<gw::RefreshResponse> FakeAuthForwarder::Refresh(const gw::RefreshRequest& r,
                                                               const CallMeta& m) {
  if (absl::Status s = Record("Refresh", m); !s.ok()) return s;
  gw::RefreshResponse out;
  out.set_access_token("access-refreshed");
  if (r.want_kubeconfig()) out.set_kubeconfig("apiVersion: v1\nkind: Config\n");
  return out;
}

absl::StatusOr<gw::LogoutResponse> FakeAuthForwarder::Logout(const gw::LogoutRequest&,
                                                             const CallMeta& m) {
  if (absl::Status s = Record("Logout", m); !s.ok()) return s;
  return gw::LogoutResponse();
}

absl::StatusOr<gw::Member> FakeAuthForwarder::CreateMember(const gw::CreateMemberRequest& r,
                                                           const CallMeta& m) {
  if (absl::Status s = Record("CreateMember " + r.name(), m); !s.ok()) return s;
  gw::Member out;
  out.set_name(r.name());
  out.set_namespace_("lab-" + r.name());
  out.set_has_password(!r.password().empty());
  return out;
}

absl::StatusOr<gw::DeleteMemberResponse> FakeAuthForwarder::DeleteMember(
    const gw::DeleteMemberRequest& r, const CallMeta& m) {
  if (absl::Status s = Record("DeleteMember " + r.name(), m); !s.ok()) return s;
  return gw::DeleteMemberResponse();
}

absl::StatusOr<gw::SetPasswordResponse> FakeAuthForwarder::SetPassword(
    const gw::SetPasswordRequest& r, const CallMeta& m) {
  if (absl::Status s = Record("SetPassword " + r.name(), m); !s.ok()) return s;
  return gw::SetPasswordResponse();
}

absl::StatusOr<gw::ListMembersResponse> FakeAuthForwarder::ListMembers(
    const gw::ListMembersRequest&, const CallMeta& m) {
  if (absl::Status s = Record("ListMembers", m); !s.ok()) return s;
  return gw::ListMembersResponse();
}

}  // namespace labkube::gateway::testing
