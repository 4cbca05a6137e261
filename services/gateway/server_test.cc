// In-process gateway: real gRPC stubs with deadlines against the gateway on 127.0.0.1:0
// (plaintext loopback), which talks gRPC to an in-process fake scheduler and fake
// authenticator, and to a fake Kubernetes API (our interface) that answers TokenReviews.
#include "services/gateway/server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/testing/wait_until.h"
#include "services/gateway/testing/harness.h"

namespace labkube::gateway {
namespace {

namespace gw = ::labkube::gateway::v1alpha1;
using labkube::testing::WaitUntil;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = testing::GatewayHarness::Start();
    ASSERT_TRUE(h.ok()) << h.status();
    h_ = std::move(h).value();
    h_->AddMember("alice", "alice-pw", false);
    h_->AddMember("root", "root-pw", true);
    h_->SetDefaultMachineTypes();
    channel_ = grpc::CreateChannel(h_->address(), grpc::InsecureChannelCredentials());
    stub_ = gw::Gateway::NewStub(channel_);
  }

  // A context with a deadline and, unless "", a bearer token.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds = 5) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  std::unique_ptr<testing::GatewayHarness> h_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gw::Gateway::Stub> stub_;
};

TEST_F(ServerTest, LoginIsForwardedWithTheCallersAddress) {
  gw::LoginRequest req;
  req.set_username("alice");
  req.set_password("alice-pw");
  gw::LoginResponse resp;
  grpc::Status s = stub_->Login(Ctx("").get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.access_token(), "token-alice");
  EXPECT_EQ(resp.namespace_(), "lab-alice");
  EXPECT_GT(resp.access_token_expiry().seconds(), 0);
  EXPECT_EQ(h_->authenticator().LastMetadata("x-forwarded-for"), "127.0.0.1");
  req.set_password("wrong");
  s = stub_->Login(Ctx("").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  req.set_username("Alice!");
  s = stub_->Login(Ctx("").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().substr(0, 9), "username:");
}

TEST_F(ServerTest, RefusedCallsSayWhy) {
  gw::WhoAmIResponse who;
  grpc::Status s = stub_->WhoAmI(Ctx("").get(), {}, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("not logged in"), std::string::npos);
  s = stub_->WhoAmI(Ctx("stolen").get(), {}, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("labctl login"), std::string::npos);
  s = stub_->WhoAmI(Ctx("token-alice").get(), {}, &who);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(who.member(), "alice");
  EXPECT_FALSE(who.admin());
  gw::ListWorkspacesRequest other;
  other.set_member("root");
  gw::ListWorkspacesResponse list;
  s = stub_->ListWorkspaces(Ctx("token-alice").get(), other, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("not allowed"), std::string::npos);
}

TEST_F(ServerTest, MemberAdministrationIsForAdminsAndForwardsTheToken) {
  gw::CreateMemberRequest req;
  req.set_name("bob");
  req.set_password("bob-pw");
  gw::Member member;
  grpc::Status s = stub_->CreateMember(Ctx("token-alice").get(), req, &member);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = stub_->CreateMember(Ctx("token-root").get(), req, &member);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(member.namespace_(), "lab-bob");
  EXPECT_EQ(h_->authenticator().LastMetadata("authorization"), "Bearer token-root");
  s = stub_->CreateMember(Ctx("token-root").get(), req, &member);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  gw::ListMembersResponse members;
  ASSERT_TRUE(stub_->ListMembers(Ctx("token-root").get(), {}, &members).ok());
  EXPECT_EQ(members.members_size(), 3);
  // Members change their own password; the name defaults to the caller.
  gw::SetPasswordRequest pw;
  pw.set_new_password("new");
  pw.set_old_password("alice-pw");
  gw::SetPasswordResponse pw_resp;
  ASSERT_TRUE(stub_->SetPassword(Ctx("token-alice").get(), pw, &pw_resp).ok());
  EXPECT_EQ(h_->authenticator().Calls().back(), "SetPassword alice");
  gw::DeleteMemberRequest del;
  del.set_name("bob");
  del.set_delete_namespace(true);
  gw::DeleteMemberResponse del_resp;
  ASSERT_TRUE(stub_->DeleteMember(Ctx("token-root").get(), del, &del_resp).ok());
  EXPECT_EQ(h_->authenticator().Calls().back(), "DeleteMember bob +ns");
}

TEST_F(ServerTest, OneMemberCannotTakeEveryCallSlot) {
  // A gateway with 2 unary call slots per member: root's two slow calls (ListMembers waits
  // upstream) fill root's share; root's third call is refused at once, alice's is served.
  Options options;
  options.max_calls_per_member = 2;
  auto h = testing::GatewayHarness::Start(options);
  ASSERT_TRUE(h.ok()) << h.status();
  h_ = std::move(h).value();
  h_->AddMember("alice", "alice-pw", false);
  h_->AddMember("root", "root-pw", true);
  stub_ = gw::Gateway::NewStub(grpc::CreateChannel(h_->address(), grpc::InsecureChannelCredentials()));
  h_->authenticator().HoldListMembers(true);
  std::vector<std::thread> slow;
  std::vector<grpc::Status> results(2);
  for (int i = 0; i < 2; ++i) {
    slow.emplace_back([&, i] {
      gw::ListMembersResponse out;
      results[i] = stub_->ListMembers(Ctx("token-root", 20).get(), {}, &out);
    });
  }
  auto upstream_calls = [&] {
    std::vector<std::string> calls = h_->authenticator().Calls();
    return std::count(calls.begin(), calls.end(), "ListMembers");
  };
  ASSERT_TRUE(WaitUntil([&] { return upstream_calls() == 2; }));
  gw::WhoAmIResponse who;
  grpc::Status third = stub_->WhoAmI(Ctx("token-root").get(), {}, &who);
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(third.error_message().find("root already has 2 calls in progress"), std::string::npos)
      << third.error_message();
  EXPECT_TRUE(stub_->WhoAmI(Ctx("token-alice").get(), {}, &who).ok()) << "alice is not starved";
  h_->authenticator().HoldListMembers(false);
  for (std::thread& t : slow) t.join();
  for (const grpc::Status& r : results) EXPECT_TRUE(r.ok()) << r.error_message();
  EXPECT_TRUE(stub_->WhoAmI(Ctx("token-root").get(), {}, &who).ok()) << "slots come back";
}

TEST_F(ServerTest, MachineTypesComeFromTheScheduler) {
  gw::ListMachineTypesResponse list;
  // The gateway's availability stream may deliver the fake scheduler's first (empty) answer
  // before the fixture's machine types: poll until they arrive.
  ASSERT_TRUE(WaitUntil([&] {
    list.Clear();
    return stub_->ListMachineTypes(Ctx("token-alice").get(), {}, &list).ok() &&
           list.machine_types_size() == 2;
  })) << list.DebugString();
  const gw::MachineType& gpu = list.machine_types(0);
  EXPECT_EQ(gpu.name(), "rtx3090");
  EXPECT_EQ(gpu.gpu().model(), "NVIDIA-GeForce-RTX-3090");
  EXPECT_EQ(gpu.maximum(), 2);
  EXPECT_EQ(gpu.free(), 1);
  EXPECT_EQ(gpu.used(), 1);
  EXPECT_FALSE(list.machine_types(1).has_gpu());

  auto ctx = Ctx("token-alice", 20);
  auto stream = stub_->WatchMachineTypes(ctx.get(), {});
  gw::ListMachineTypesResponse update;
  ASSERT_TRUE(stream->Read(&update));
  EXPECT_EQ(update.machine_types_size(), 2);
  h_->scheduler().Set({});
  bool emptied = false;
  while (!emptied && stream->Read(&update)) emptied = update.machine_types_size() == 0;
  EXPECT_TRUE(emptied);
  ctx->TryCancel();
}

TEST_F(ServerTest, WorkspaceLifecycle) {
  gw::StartWorkspaceRequest start;
  start.set_name("nb");
  start.set_kind(gw::WORKSPACE_KIND_JUPYTERLAB);
  start.set_machine_type("rtx3090");
  gw::Workspace ws;
  grpc::Status s;
  // The scheduler's list reaches the gateway through its watch; wait for it.
  ASSERT_TRUE(WaitUntil([&] {
    s = stub_->StartWorkspace(Ctx("token-alice").get(), start, &ws);
    return s.error_code() != grpc::StatusCode::NOT_FOUND;
  }));
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ws.phase(), gw::PHASE_STARTING);
  EXPECT_EQ(ws.url(), "https://labkube.local/alice/nb/");
  s = stub_->StartWorkspace(Ctx("token-alice").get(), start, &ws);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  start.set_name("other");
  start.set_machine_type("h100");
  s = stub_->StartWorkspace(Ctx("token-alice").get(), start, &ws);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("valid: lab/rtx3090, lab/cpu"), std::string::npos);

  gw::DescribeWorkspaceRequest describe;
  describe.set_name("nb");
  auto ctx = Ctx("token-alice", 20);
  auto stream = stub_->WatchWorkspace(ctx.get(), describe);
  ASSERT_TRUE(stream->Read(&ws));
  EXPECT_EQ(ws.phase(), gw::PHASE_STARTING);
  gw::StopWorkspaceRequest stop;
  stop.set_name("nb");
  gw::StopWorkspaceResponse stopped;
  ASSERT_TRUE(stub_->StopWorkspace(Ctx("token-alice").get(), stop, &stopped).ok());
  // The Workspace, and its objects the gateway's controller had made by then (they go with it).
  ASSERT_GE(stopped.deleted_size(), 1);
  EXPECT_EQ(stopped.deleted(0), "Workspace/nb");
  while (stream->Read(&ws) && ws.phase() != gw::PHASE_STOPPED) {
  }
  EXPECT_EQ(ws.phase(), gw::PHASE_STOPPED);
  EXPECT_TRUE(stream->Finish().ok());
  // An admin acts for another member.
  gw::ListWorkspacesRequest list;
  list.set_member("alice");
  gw::ListWorkspacesResponse listed;
  EXPECT_TRUE(stub_->ListWorkspaces(Ctx("token-root").get(), list, &listed).ok());
}

TEST_F(ServerTest, StorageThroughTheGateway) {
  gw::CreateStorageRequest create;
  create.set_size("ten");
  gw::Storage storage;
  grpc::Status s = stub_->CreateStorage(Ctx("token-alice").get(), create, &storage);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().substr(0, 5), "size:");
  create.set_size("10Gi");
  ASSERT_TRUE(stub_->CreateStorage(Ctx("token-alice").get(), create, &storage).ok());
  EXPECT_EQ(storage.volumes_size(), 2);
  gw::ListStorageRequest list;
  ASSERT_TRUE(stub_->ListStorage(Ctx("token-alice").get(), list, &storage).ok());
  EXPECT_EQ(storage.volumes(0).size(), "10Gi");
  gw::DeleteStorageRequest del;
  gw::DeleteStorageResponse deleted;
  s = stub_->DeleteStorage(Ctx("token-alice").get(), del, &deleted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  del.set_confirm("alice");
  ASSERT_TRUE(stub_->DeleteStorage(Ctx("token-alice").get(), del, &deleted).ok());
  EXPECT_EQ(deleted.deleted_size(), 4);
}

TEST_F(ServerTest, OversizedFieldsAreInvalidArgument) {
  gw::LoginRequest req;
  req.set_username("alice");
  req.set_password(std::string(5000, 'x'));
  gw::LoginResponse resp;
  grpc::Status s = stub_->Login(Ctx("").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "password: longer than 1024 characters");
}

TEST_F(ServerTest, HealthAndReflection) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("labkube.gateway.v1alpha1.Gateway");
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(Ctx("").get(), req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace labkube::gateway
