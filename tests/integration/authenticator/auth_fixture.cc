#include "tests/integration/authenticator/auth_fixture.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "services/authenticator/bootstrap.h"
#include "services/authenticator/member_provisioner.h"
#include "services/authenticator/member_store.h"
#include "services/authenticator/secret_map.h"
#include "services/authenticator/session_store.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

// Applies the Machine CRD and the authenticator's manifests (not the Deployment: no image here).
std::string ApplyManifests() {
  for (const char* file : {"crds/machines.labkube.io.yaml", "authenticator/member-roles.yaml",
                           "authenticator/rbac.yaml", "authenticator/secrets.yaml",
                           "authenticator/scope-policy.yaml"}) {
    absl::StatusOr<std::string> out =
        it::Kubectl({"apply", "--server-side", "--force-conflicts", "--field-manager=labkube-it",
                     "-f", it::Runfile(absl::StrCat("k8s/", file))});
    if (!out.ok()) return out.status().ToString();
  }
  absl::StatusOr<std::string> out = it::Kubectl(
      {"wait", "--for=condition=Established", "--timeout=60s", "crd/machines.labkube.io"});
  return out.ok() ? "" : out.status().ToString();
}

absl::StatusOr<std::string> ServiceAccountToken(kube::Client& client, const std::string& ns,
                                                const std::string& name) {
  rapidjson::Document body(rapidjson::kObjectType);
  json::SetString(body, {"apiVersion"}, "authentication.k8s.io/v1");
  json::SetString(body, {"kind"}, "TokenRequest");
  json::SetInt(body, {"spec", "expirationSeconds"}, 3600);
  auto reply = client.CreateSubresource(res::ServiceAccounts(), ns, name, "token", body);
  if (!reply.ok()) return reply.status();
  return std::string(json::GetString(*reply, {"status", "token"}));
}

}  // namespace

kube::ClusterConfig AuthClusterTest::admin_config_;
std::unique_ptr<kube::RestClient> AuthClusterTest::admin_client_;
kube::ClusterConfig AuthClusterTest::self_config_;
std::string AuthClusterTest::admin_name_;
std::string AuthClusterTest::admin_password_;
std::string AuthClusterTest::setup_error_;

void AuthClusterTest::SetUpTestSuite() {
  setup_error_.clear();
  absl::StatusOr<std::string> kubeconfig = it::Kubeconfig();
  if (!kubeconfig.ok()) return void(setup_error_ = kubeconfig.status().ToString());
  auto config = kube::LoadKubeconfig(*kubeconfig);
  if (!config.ok()) return void(setup_error_ = config.status().ToString());
  admin_config_ = *config;
  admin_client_ = std::move(kube::RestClient::Create(admin_config_).value());
  if (setup_error_ = ApplyManifests(); !setup_error_.empty()) return;
  auto token = ServiceAccountToken(*admin_client_, "labkube-system", "labkube-authenticator");
  if (!token.ok()) return void(setup_error_ = token.status().ToString());
  self_config_ = kube::ClusterConfig{};
  self_config_.server = admin_config_.server;
  self_config_.ca_pem = admin_config_.ca_pem;
  self_config_.token = *token;
  auto self = std::move(kube::RestClient::Create(self_config_).value());
  admin_name_ = it::UniqueName("itadmin");
  admin_password_ = it::UniqueName("pw") + it::UniqueName("x");
  // Bootstrap with the authenticator's own credentials; RBAC may take a moment to apply.
  absl::Status s;
  for (absl::Time deadline = absl::Now() + absl::Seconds(20);;) {
    s = BootstrapAdmin(*self, Clock::Real(), Options{}, admin_name_, admin_password_);
    if (s.code() != absl::StatusCode::kPermissionDenied || absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(200));  // poll until the RBAC cache has the new rules
  }
  if (!s.ok()) setup_error_ = absl::StrCat("bootstrap-admin: ", s.ToString());
}

void AuthClusterTest::TearDownTestSuite() {
  if (admin_client_ == nullptr || admin_name_.empty()) return;
  MemberProvisioner provisioner(*admin_client_, ProvisionerOptions{});
  EXPECT_TRUE(provisioner.Deprovision(admin_name_, true).ok());
  SecretMap members_map(*admin_client_, Clock::Real(), "labkube-system", "labkube-members");
  EXPECT_TRUE(MemberStore(members_map).Delete(admin_name_).ok());
  SecretMap sessions_map(*admin_client_, Clock::Real(), "labkube-system", "labkube-sessions");
  EXPECT_TRUE(SessionStore(sessions_map, Clock::Real(), {}).RevokeMember(admin_name_).ok());
  admin_client_.reset();
}

void AuthClusterTest::SetUp() {
  ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  StartServer();
}

void AuthClusterTest::StartServer(const std::function<void(Options&)>& tweak) {
  server_.reset();
  Options o;
  o.grpc_address = "127.0.0.1:0";
  o.http_address = "127.0.0.1";
  o.http_port = 0;
  o.plaintext = true;
  o.public_server = admin_config_.server;
  o.public_ca_pem = admin_config_.ca_pem;
  if (tweak) tweak(o);
  auto client = kube::RestClient::Create(self_config_);
  ASSERT_TRUE(client.ok()) << client.status();
  auto server = Server::Create(o, std::move(*client), Clock::Real());
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  stub_ = api::Authenticator::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->grpc_port()), grpc::InsecureChannelCredentials()));
}

void AuthClusterTest::TearDown() {
  if (server_ == nullptr) return;
  std::string admin = created_.empty() ? "" : AdminToken();
  for (const std::string& name : created_) {
    auto ctx = Context(admin);
    api::DeleteMemberRequest req;
    req.set_name(name);
    req.set_delete_namespace(true);
    api::DeleteMemberResponse res;
    grpc::Status s = stub_->DeleteMember(ctx.get(), req, &res);
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND) << s.error_message();
  }
  server_.reset();
}

std::unique_ptr<grpc::ClientContext> AuthClusterTest::Context(const std::string& bearer) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
  return ctx;
}

grpc::Status AuthClusterTest::Login(const std::string& user, const std::string& password,
                                    api::LoginResponse* out, api::KubeconfigForm form) {
  auto ctx = Context();
  api::LoginRequest req;
  req.set_username(user);
  req.set_password(password);
  req.set_form(form);
  return stub_->Login(ctx.get(), req, out);
}

grpc::Status AuthClusterTest::Refresh(const std::string& refresh_token, api::RefreshResponse* out) {
  auto ctx = Context();
  api::RefreshRequest req;
  req.set_refresh_token(refresh_token);
  req.set_want_kubeconfig(true);
  return stub_->Refresh(ctx.get(), req, out);
}

std::string AuthClusterTest::AdminToken() {
  api::LoginResponse r;
  grpc::Status s = Login(admin_name_, admin_password_, &r);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return r.access_token();
}

std::string AuthClusterTest::NewMember(const std::string& prefix, const std::string& password) {
  std::string name = it::UniqueName(prefix);
  auto ctx = Context(AdminToken());
  api::CreateMemberRequest req;
  req.set_name(name);
  req.set_password(password);
  api::Member member;
  grpc::Status s = stub_->CreateMember(ctx.get(), req, &member);
  EXPECT_TRUE(s.ok()) << s.error_message();
  created_.push_back(name);
  return name;
}

it::CommandResult AuthClusterTest::Kubectl(const std::string& kubeconfig,
                                           const std::vector<std::string>& args) {
  // In TEST_TMPDIR (not the kept outputs): the file holds a token.
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string path =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/kubeconfig-", ++kubeconfig_files_);
  std::ofstream(path) << kubeconfig;
  std::vector<std::string> command = {it::KubectlPath(), "--kubeconfig", path};
  command.insert(command.end(), args.begin(), args.end());
  absl::StatusOr<it::CommandResult> r = it::RunCommand(command);
  return r.ok() ? *r : it::CommandResult{-1, r.status().ToString()};
}

bool AuthClusterTest::TokenAccepted(const std::string& token) {
  rapidjson::Document review(rapidjson::kObjectType);
  json::SetString(review, {"apiVersion"}, "authentication.k8s.io/v1");
  json::SetString(review, {"kind"}, "TokenReview");
  json::SetString(review, {"spec", "token"}, token);
  auto reply = admin_client_->Create(res::TokenReviews(), "", review);
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() && json::GetBool(*reply, {"status", "authenticated"});
}

}  // namespace labkube::authenticator
