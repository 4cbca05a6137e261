#include "services/gateway/web/json_gateway.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "lib/contract.h"
#include "lib/grpc_server.h"

namespace labkube::gateway::web {
namespace {

// A Gateway that answers from canned data and records the authorization and client address it
// was sent.
class FakeGateway final : public gw::Gateway::Service {
 public:
  grpc::Status ListWorkspaces(grpc::ServerContext* c, const gw::ListWorkspacesRequest* r,
                              gw::ListWorkspacesResponse* out) override {
    auto it = c->client_metadata().find("authorization");
    authorization = it == c->client_metadata().end() ? "" : std::string(it->second.data(),
                                                                         it->second.size());
    auto address = c->client_metadata().find(contract::kWebClientAddressMetadata);
    client_address = address == c->client_metadata().end()
                         ? ""
                         : std::string(address->second.data(), address->second.size());
    member = r->member();
    gw::Workspace* w = out->add_workspaces();
    w->set_name("ws1");
    w->set_kind(gw::WORKSPACE_KIND_JUPYTERLAB);
    w->set_phase(gw::PHASE_RUNNING);
    w->set_node("gpu-node-1");
    w->set_age_seconds(90);
    w->mutable_created()->set_seconds(1700000000);
    return grpc::Status::OK;
  }
  grpc::Status StartWorkspace(grpc::ServerContext*, const gw::StartWorkspaceRequest* r,
                              gw::Workspace*) override {
    started = *r;
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown machine type \"h100\"; valid: lab/rtx3090, lab/cpu");
  }
  grpc::Status WatchWorkspace(grpc::ServerContext* c, const gw::DescribeWorkspaceRequest* r,
                              grpc::ServerWriter<gw::Workspace>* w) override {
    if (r->name() == "gone") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no workspace gone");
    gw::Workspace ws;
    ws.set_name(r->name());
    ws.set_phase(gw::PHASE_STARTING);
    ws.set_age_seconds(1);
    w->Write(ws);
    if (r->name() == "done") return grpc::Status::OK;
    if (r->name() == "quiet") {  // nothing new until the client gives up
      while (!c->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      return grpc::Status::OK;
    }
    ws.set_phase(gw::PHASE_RUNNING);
    ws.set_age_seconds(2);
    w->Write(ws);
    return grpc::Status::OK;
  }

  std::string authorization, client_address, member;
  gw::StartWorkspaceRequest started;
};

class JsonGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcServerOptions o;
    o.address = "127.0.0.1:0";
    o.plaintext = true;
    auto server = GrpcServer::Create(o, {&fake_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    gateway_ = std::make_unique<JsonGateway>(server_->InProcessChannel(), absl::Seconds(10));
  }
  FakeGateway fake_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<JsonGateway> gateway_;
};

TEST_F(JsonGatewayTest, CallsTheGatewayWithTheBearerTokenAndTheBrowsersAddress) {
  JsonReply r =
      gateway_->Call("ListWorkspaces", R"({"member": "bob"})", PageCall{"Bearer tok", "10.0.0.7"});
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(fake_.authorization, "Bearer tok");
  EXPECT_EQ(fake_.client_address, "10.0.0.7");
  EXPECT_EQ(fake_.member, "bob");
  // Protobuf's JSON mapping: lowerCamelCase, enum names, int64 as strings, RFC 3339 times,
  // default values printed.
  for (const char* part : {R"("name":"ws1")", R"("kind":"WORKSPACE_KIND_JUPYTERLAB")",
                           R"("phase":"PHASE_RUNNING")", R"("ageSeconds":"90")",
                           R"("created":"2023-11-14T22:13:20Z")", R"("gpuCount":0)",
                           R"("accessToken":"")"}) {
    EXPECT_TRUE(absl::StrContains(r.body, part)) << part << " in " << r.body;
  }
}

TEST_F(JsonGatewayTest, ParsesEnumsAndBothFieldNameStyles) {
  JsonReply r = gateway_->Call(
      "StartWorkspace",
      R"({"name": "ws1", "kind": "WORKSPACE_KIND_JUPYTERLAB", "machine_type": "h100",)"
      R"( "imagePullSecrets": ["s"]})",
      PageCall{"Bearer tok"});
  EXPECT_EQ(fake_.started.name(), "ws1");
  EXPECT_EQ(fake_.started.kind(), gw::WORKSPACE_KIND_JUPYTERLAB);
  EXPECT_EQ(fake_.started.machine_type(), "h100");
  ASSERT_EQ(fake_.started.image_pull_secrets_size(), 1);
  // The gateway's error, unchanged, with google.rpc's HTTP status.
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.code, absl::StatusCode::kNotFound);
  EXPECT_EQ(r.body,
            R"({"code":"NOT_FOUND","message":"unknown machine type \"h100\"; valid: lab/rtx3090, lab/cpu"})");
}

TEST_F(JsonGatewayTest, BadJsonIsAClearError) {
  for (const char* bad : {"{", R"({"nmae": "x"})", R"({"kind": "BANANA"})", "[1]"}) {
    JsonReply r = gateway_->Call("StartWorkspace", bad, PageCall{"Bearer tok"});
    EXPECT_EQ(r.http_status, 400) << bad;
    EXPECT_TRUE(absl::StrContains(r.body, "request body: ")) << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "send StartWorkspaceRequest in Protobuf's JSON mapping"))
        << r.body;
  }
  EXPECT_EQ(gateway_->Call("StartWorkspace", "", PageCall{"Bearer tok"}).http_status, 404)
      << "an empty body is the empty request";
}

TEST_F(JsonGatewayTest, SessionMethodsAndStreamsAreNotOnThePageApi) {
  for (const char* m : {"Login", "Refresh", "Logout", "WatchWorkspace", "Nope"}) {
    JsonReply r = gateway_->Call(m, "{}", PageCall{});
    EXPECT_EQ(r.http_status, 404) << m;
  }
  std::vector<std::string> methods = PageMethods();
  EXPECT_EQ(methods.size(), 15u);  // 20 methods, less 3 session methods and 2 streams
  for (const char* m : {"WhoAmI", "CreateMember", "ListMachineTypes", "GetQueue",
                        "StartWorkspace", "DeleteStorage", "DescribeWorkspace"}) {
    EXPECT_NE(std::find(methods.begin(), methods.end(), m), methods.end()) << m;
  }
  EXPECT_EQ(WatchMethods(), (std::vector<std::string>{"WatchMachineTypes", "WatchWorkspace"}));
}

TEST_F(JsonGatewayTest, WatchGivesTheFirstMessageNotSeenYet) {
  std::string first = gateway_->WatchEvent("WatchWorkspace", R"({"name":"ws1"})", {"Bearer t"}, "",
                                           absl::Seconds(10));
  EXPECT_TRUE(absl::StartsWith(first, "retry: 250\nid: ")) << first;
  EXPECT_TRUE(absl::StrContains(first, R"("phase":"PHASE_STARTING")")) << first;
  std::string id = first.substr(first.find("id: ") + 4, 24);
  std::string next = gateway_->WatchEvent("WatchWorkspace", R"({"name":"ws1"})", {"Bearer t"}, id,
                                          absl::Seconds(10));
  EXPECT_TRUE(absl::StrContains(next, R"("phase":"PHASE_RUNNING")")) << next;

  gw::Workspace a, b;
  a.set_phase(gw::PHASE_RUNNING);
  b = a;
  b.set_age_seconds(77);
  EXPECT_EQ(EventId(a), EventId(b)) << "age alone is not news";
  b.set_node("n");
  EXPECT_NE(EventId(a), EventId(b));
}

TEST_F(JsonGatewayTest, WatchEndsFailsOrIdles) {
  gw::Workspace quiet;
  quiet.set_name("quiet");
  quiet.set_phase(gw::PHASE_STARTING);
  std::string quiet_id = EventId(quiet);
  absl::StatusCode code;
  std::string idle = gateway_->WatchEvent("WatchWorkspace", R"({"name":"quiet"})", {"Bearer t"},
                                          quiet_id, absl::Milliseconds(200), &code);
  EXPECT_EQ(idle, "retry: 250\n: nothing new\n\n");

  auto starting_id = [](const char* name) {
    gw::Workspace w;
    w.set_name(name);
    w.set_phase(gw::PHASE_STARTING);
    return EventId(w);
  };
  std::string end = gateway_->WatchEvent("WatchWorkspace", R"({"name":"done"})", {"Bearer t"},
                                         starting_id("done"), absl::Seconds(10), &code);
  EXPECT_EQ(end, "retry: 250\nevent: end\ndata: {}\n\n");
  EXPECT_EQ(code, absl::StatusCode::kOk);

  std::string failed = gateway_->WatchEvent("WatchWorkspace", R"({"name":"gone"})", {"Bearer t"},
                                            "", absl::Seconds(10), &code);
  EXPECT_EQ(code, absl::StatusCode::kNotFound);
  EXPECT_EQ(failed,
            "retry: 250\nevent: failure\ndata: {\"code\":\"NOT_FOUND\",\"message\":\"no "
            "workspace gone\"}\n\n");

  std::string bad = gateway_->WatchEvent("WatchWorkspace", R"({"nope":1})", {"Bearer t"}, "",
                                         absl::Seconds(10), &code);
  EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad, "retry: 250\nevent: failure\ndata: {\"code\":\"INVALID_ARGUMENT\""))
      << bad;
}

TEST(JsonMappingTest, HttpStatusesFollowGoogleRpc) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInternal), 500);
}

TEST(JsonMappingTest, ErrorsAndParamsAreEscapedJson) {
  EXPECT_EQ(ErrorJson(absl::InvalidArgumentError("name: \"A\\b\" is bad\n")),
            R"({"code":"INVALID_ARGUMENT","message":"name: \"A\\b\" is bad\n"})");
  EXPECT_EQ(ParamsToJson({{"name", "w\"1"}, {"member", "bob"}}),
            R"({"member":"bob","name":"w\"1"})");
}

}  // namespace
}  // namespace labkube::gateway::web
