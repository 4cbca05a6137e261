#include "services/gateway/testing/harness.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/status_macros.h"

namespace labkube::gateway::testing {

void FakeSchedulerService::Set(const std::vector<sched::MachineType>& types) {
  absl::MutexLock lock(&mu_);
  list_.clear_machine_types();
  for (const sched::MachineType& t : types) *list_.add_machine_types() = t;
  ++version_;
}

void FakeSchedulerService::SetQueue(const sched::Queue& queue) {
  absl::MutexLock lock(&mu_);
  queues_[absl::StrCat(queue.group(), "/", queue.machine_type())] = queue;
  ++version_;
}

grpc::Status FakeSchedulerService::GetQueue(grpc::ServerContext*,
                                            const sched::GetAvailabilityRequest* r,
                                            sched::Queue* out) {
  absl::MutexLock lock(&mu_);
  bool known = false;
  for (const sched::MachineType& t : list_.machine_types()) {
    known = known || (t.group() == r->group() && t.name() == r->machine_type());
  }
  if (!known) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown machine type");
  auto it = queues_.find(absl::StrCat(r->group(), "/", r->machine_type()));
  if (it != queues_.end()) {
    *out = it->second;
  } else {
    out->set_group(r->group());
    out->set_machine_type(r->machine_type());
  }
  return grpc::Status::OK;
}

void FakeSchedulerService::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

grpc::Status FakeSchedulerService::ListMachineTypes(grpc::ServerContext*,
                                                    const sched::ListMachineTypesRequest*,
                                                    sched::ListMachineTypesResponse* out) {
  absl::MutexLock lock(&mu_);
  *out = list_;
  return grpc::Status::OK;
}

grpc::Status FakeSchedulerService::WatchAvailability(
    grpc::ServerContext* c, const sched::ListMachineTypesRequest*,
    grpc::ServerWriter<sched::ListMachineTypesResponse>* writer) {
  uint64_t sent = 0;
  while (!c->IsCancelled()) {
    sched::ListMachineTypesResponse update;
    {
      absl::MutexLock lock(&mu_);
      auto changed = [this, sent]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || version_ != sent; };
      mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(50));
      if (closed_) return grpc::Status::OK;
      if (version_ == sent) continue;
      update = list_;
      sent = version_;
    }
    if (!writer->Write(update)) break;
  }
  return grpc::Status::OK;
}

void FakeAuthenticatorService::AddUser(const std::string& member, const std::string& password,
                                       const std::string& token) {
  absl::MutexLock lock(&mu_);
  users_[member] = User{password, token};
}

std::string FakeAuthenticatorService::LastMetadata(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = metadata_.find(key);
  return it == metadata_.end() ? "" : it->second;
}

std::vector<std::string> FakeAuthenticatorService::Calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

void FakeAuthenticatorService::Record(grpc::ServerContext* c, const std::string& call) {
  absl::MutexLock lock(&mu_);
  calls_.push_back(call);
  metadata_.clear();
  for (const auto& [k, v] : c->client_metadata()) {
    metadata_[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
  }
}

void FakeAuthenticatorService::LockAddressesAfter(int failures) {
  absl::MutexLock lock(&mu_);
  lock_after_ = failures;
}

grpc::Status FakeAuthenticatorService::Login(grpc::ServerContext* c, const auth::LoginRequest* r,
                                             auth::LoginResponse* out) {
  Record(c, "Login " + r->username());
  auto forwarded = c->client_metadata().find("x-forwarded-for");
  const std::string address = forwarded == c->client_metadata().end()
                                  ? c->peer()
                                  : std::string(forwarded->second.data(), forwarded->second.size());
  absl::MutexLock lock(&mu_);
  if (lock_after_ > 0 && failures_by_address_[address] >= lock_after_) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("too many failed logins from ", address, "; try again later"));
  }
  auto it = users_.find(r->username());
  if (it == users_.end() || it->second.password != r->password()) {
    ++failures_by_address_[address];
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password");
  }
  out->set_access_token(it->second.token);
  out->mutable_access_token_expiry()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  out->set_refresh_token("refresh-" + r->username());
  out->mutable_refresh_token_expiry()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24)));
  out->set_member(r->username());
  out->set_namespace_("lab-" + r->username());
  out->set_kubeconfig(absl::StrCat("apiVersion: v1\nkind: Config\n# form ", r->form(), "\n"));
  return grpc::Status::OK;
}

grpc::Status FakeAuthenticatorService::Refresh(grpc::ServerContext* c,
                                               const auth::RefreshRequest* r,
                                               auth::RefreshResponse* out) {
  Record(c, "Refresh");
  const std::string prefix = "refresh-";
  if (r->refresh_token().rfind(prefix, 0) != 0) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "session expired: log in again");
  }
  const std::string member = r->refresh_token().substr(prefix.size());
  absl::MutexLock lock(&mu_);
  auto it = users_.find(member);
  if (it == users_.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "session expired: log in again");
  }
  out->set_access_token(it->second.token);
  out->mutable_access_token_expiry()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  out->mutable_refresh_token_expiry()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24)));
  out->set_member(member);
  out->set_namespace_("lab-" + member);
  if (r->want_kubeconfig()) {
    out->set_kubeconfig(absl::StrCat(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: labkube\n  cluster:\n    server: "
        "https://127.0.0.1:6443\nusers:\n- name: ",
        member, "@labkube\n  user:\n",
        r->form() == auth::KUBECONFIG_FORM_EXEC
            ? "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: "
              "labctl\n      args: [credential]\n"
            : absl::StrCat("    token: ", it->second.token, "\n"),
        "contexts:\n- name: ", member,
        "@labkube\n  context:\n    cluster: labkube\n    user: ", member,
        "@labkube\n    namespace: lab-", member, "\ncurrent-context: ", member, "@labkube\n"));
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuthenticatorService::Logout(grpc::ServerContext* c, const auth::LogoutRequest*,
                                              auth::LogoutResponse*) {
  Record(c, "Logout");
  return grpc::Status::OK;
}

grpc::Status FakeAuthenticatorService::CreateMember(grpc::ServerContext* c,
                                                    const auth::CreateMemberRequest* r,
                                                    auth::Member* out) {
  Record(c, "CreateMember " + r->name());
  absl::MutexLock lock(&mu_);
  if (users_.count(r->name()) > 0) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "member " + r->name() + " exists");
  }
  users_[r->name()] = User{r->password(), "token-" + r->name()};
  out->set_name(r->name());
  out->set_namespace_("lab-" + r->name());
  out->set_admin(r->admin());
  out->set_has_password(!r->password().empty());
  out->mutable_created()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  out->mutable_quota()->insert(r->quota().begin(), r->quota().end());
  return grpc::Status::OK;
}

grpc::Status FakeAuthenticatorService::DeleteMember(grpc::ServerContext* c,
                                                    const auth::DeleteMemberRequest* r,
                                                    auth::DeleteMemberResponse* out) {
  Record(c, absl::StrCat("DeleteMember ", r->name(), r->delete_namespace() ? " +ns" : ""));
  absl::MutexLock lock(&mu_);
  if (users_.erase(r->name()) == 0) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no member " + r->name());
  }
  out->set_revoked_sessions(1);
  return grpc::Status::OK;
}

grpc::Status FakeAuthenticatorService::SetPassword(grpc::ServerContext* c,
                                                   const auth::SetPasswordRequest* r,
                                                   auth::SetPasswordResponse*) {
  Record(c, "SetPassword " + r->name());
  absl::MutexLock lock(&mu_);
  auto it = users_.find(r->name());
  if (it == users_.end())
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no member " + r->name());
  it->second.password = r->new_password();
  return grpc::Status::OK;
}

void FakeAuthenticatorService::HoldListMembers(bool hold) {
  absl::MutexLock lock(&mu_);
  hold_list_members_ = hold;
}

grpc::Status FakeAuthenticatorService::ListMembers(grpc::ServerContext* c,
                                                   const auth::ListMembersRequest*,
                                                   auth::ListMembersResponse* out) {
  Record(c, "ListMembers");
  absl::MutexLock lock(&mu_);
  auto released = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !hold_list_members_; };
  mu_.AwaitWithTimeout(absl::Condition(&released), absl::Seconds(30));
  for (const auto& [name, user] : users_) {
    auth::Member* m = out->add_members();
    m->set_name(name);
    m->set_namespace_("lab-" + name);
    m->set_has_password(!user.password.empty());
  }
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<GatewayHarness>> GatewayHarness::Start(Options options) {
  std::unique_ptr<GatewayHarness> h(new GatewayHarness());
  GrpcServerOptions upstream;
  upstream.address = "127.0.0.1:0";
  upstream.plaintext = true;
  LK_ASSIGN_OR_RETURN(h->upstream_,
                      GrpcServer::Create(upstream, {&h->scheduler_, &h->authenticator_}));
  const std::string target = absl::StrCat("127.0.0.1:", h->upstream_->port());
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  options.grpc_address = "127.0.0.1:0";
  options.http_address = "127.0.0.1";
  options.http_port = 0;
  options.plaintext = true;
  options.scheduler = options.authenticator = target;
  auto kube = std::make_unique<TokenReviewFakeClient>();
  h->kube_ = kube.get();
  LK_ASSIGN_OR_RETURN(h->gateway_,
                      Server::Create(options, std::move(kube), Clock::Real(), channel, channel));
  return h;
}

GatewayHarness::~GatewayHarness() {
  scheduler_.Close();
  gateway_.reset();
  upstream_.reset();
}

void GatewayHarness::AddMember(const std::string& name, const std::string& password, bool admin) {
  const std::string token = "token-" + name;
  kube_->AddMember(name, token, admin);
  authenticator_.AddUser(name, password, token);
}

void GatewayHarness::SetDefaultMachineTypes() {
  sched::MachineType gpu;
  gpu.set_group("lab");
  gpu.set_name("rtx3090");
  gpu.mutable_spec()->set_cpu("8");
  gpu.mutable_spec()->set_memory("32Gi");
  gpu.mutable_spec()->mutable_gpu()->set_type("nvidia.com/gpu");
  gpu.mutable_spec()->mutable_gpu()->set_num(1);
  gpu.mutable_spec()->mutable_gpu()->set_product("NVIDIA-GeForce-RTX-3090");
  gpu.mutable_usage()->set_maximum(2);
  gpu.mutable_usage()->set_reserved(1);
  gpu.mutable_usage()->set_used(1);
  gpu.mutable_usage()->set_fits(2);
  sched::MachineType cpu;
  cpu.set_group("lab");
  cpu.set_name("cpu");
  cpu.mutable_spec()->set_cpu("4");
  cpu.mutable_spec()->set_memory("8Gi");
  cpu.mutable_usage()->set_maximum(4);
  cpu.mutable_usage()->set_reserved(4);
  cpu.mutable_usage()->set_fits(4);
  scheduler_.Set({gpu, cpu});
}

std::string GatewayHarness::address() const {
  return absl::StrCat("127.0.0.1:", gateway_->grpc_port());
}

}  // namespace labkube::gateway::testing
