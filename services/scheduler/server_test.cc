// In-process scheduler: fake Kubernetes API (our interface), real gRPC server on port 0 with
// real stubs and deadlines, plaintext on loopback.
#include "services/scheduler/server.h"

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/wait_until.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
namespace api = ::labkube::scheduler::v1alpha1;
using labkube::testing::WaitUntil;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<kube::testing::FakeClient>();
    fake_ = fake.get();
    ASSERT_TRUE(fake_->Create(res::Machines(), "", Json(R"({"apiVersion":"labkube.io/v1alpha1",
        "kind":"Machine","metadata":{"name":"lab"},"spec":{
        "nodePool":[{"name":"node-a","mode":"ready","machineType":[{"name":"x1"}]}],
        "machineTypes":[{"name":"x1","spec":{"cpu":"1","memory":"1Gi","gpu":{"num":1}},"available":1}]}})"))
                    .ok());
    ASSERT_TRUE(fake_->Create(res::Nodes(), "", Json(R"({"metadata":{"name":"node-a"},
        "status":{"allocatable":{"cpu":"8","memory":"8Gi","nvidia.com/gpu":"2"},
        "conditions":[{"type":"Ready","status":"True"}]}})"))
                    .ok());
    Options o;
    o.grpc_address = "127.0.0.1:0";
    o.http_address = "127.0.0.1";
    o.http_port = 0;
    o.plaintext = true;
    o.leader_elect = false;
    auto server = Server::Create(o, std::move(fake), Clock::Real());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    stub_ = api::Scheduler::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->grpc_port()), grpc::InsecureChannelCredentials()));
  }

  // Marks every reservation pod Running on node-a, as kube-scheduler + kwok would.
  void RunReservations() {
    auto pods = fake_->List(res::Pods(), "labkube-system", {});
    for (const auto& p : pods->items().GetArray()) {
      std::string name(json::GetString(p, {"metadata", "name"}));
      kube::PatchOptions status;
      status.subresource = "status";
      fake_->Patch(res::Pods(), "labkube-system", name, kube::PatchType::kMergePatch,
                   R"({"spec":{"nodeName":"node-a"}})");
      fake_->Patch(res::Pods(), "labkube-system", name, kube::PatchType::kMergePatch,
                   R"({"status":{"phase":"Running"}})", status);
    }
  }

  grpc::Status Claim(const std::string& type, const std::string& uid, api::ClaimResponse* out,
                     bool dry_run = false) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    api::ClaimRequest req;
    req.set_group("lab");
    req.set_machine_type(type);
    req.set_namespace_("lab-alice");
    req.set_generate_name("ws-");
    req.set_admission_uid(uid);
    req.set_dry_run(dry_run);
    return stub_->Claim(&ctx, req, out);
  }

  kube::testing::FakeClient* fake_ = nullptr;
  std::unique_ptr<Server> server_;
  std::unique_ptr<api::Scheduler::Stub> stub_;
};

TEST_F(ServerTest, ClaimsTheOneSlotThenQueues) {
  ASSERT_TRUE(WaitUntil([&] { return fake_->List(res::Pods(), "labkube-system", {})->items().Size() == 1; }));
  RunReservations();
  api::ClaimResponse dry;
  ASSERT_TRUE(WaitUntil([&] { return Claim("x1", "d", &dry, true).ok(); }));
  EXPECT_TRUE(dry.dry_run());
  api::ClaimResponse r;
  grpc::Status s = Claim("x1", "adm-1", &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.node(), "node-a");
  EXPECT_EQ(r.requests().at("nvidia.com/gpu"), "1");
  EXPECT_EQ(r.annotations().at("labkube.io/claim"), r.claim_id());
  // The type is full: the next guest is told to wait in line, with what waiting needs.
  api::ClaimResponse again;
  s = Claim("x1", "adm-2", &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(again.queued());
  EXPECT_EQ(again.position(), 1);
  EXPECT_TRUE(again.claim_id().empty());
  EXPECT_EQ(again.annotations().count("labkube.io/claim"), 0u);
  EXPECT_FALSE(again.annotations().at("labkube.io/queue-ticket").empty());
  EXPECT_EQ(again.annotations().at("labkube.io/waiting"), "lab/x1");
  EXPECT_EQ(again.requests().at("nvidia.com/gpu"), "1");
  api::Queue queue;
  grpc::ClientContext ctx;
  api::GetAvailabilityRequest req;
  req.set_group("lab");
  req.set_machine_type("x1");
  ASSERT_TRUE(stub_->GetQueue(&ctx, req, &queue).ok());
  EXPECT_EQ(queue.entries_size(), 0);  // the pod is not created in this test
  EXPECT_NE(queue.estimate_note().find("no estimate"), std::string::npos);
}

TEST_F(ServerTest, UnknownTypeAndBadRequestsAreClear) {
  api::ClaimResponse r;
  grpc::Status s;
  ASSERT_TRUE(WaitUntil([&] {
    s = Claim("nope", "u", &r);
    return s.error_code() == grpc::StatusCode::NOT_FOUND;
  }));
  EXPECT_NE(s.error_message().find("valid group/type: lab/x1"), std::string::npos);
  s = Claim("", "u", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("machine_type is required"), std::string::npos);
}

TEST_F(ServerTest, ListsAndWatchesAvailability) {
  api::ListMachineTypesResponse list;
  ASSERT_TRUE(WaitUntil([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub_->ListMachineTypes(&ctx, {}, &list).ok() && list.machine_types_size() == 1;
  }));
  EXPECT_EQ(list.machine_types(0).usage().maximum(), 1);
  EXPECT_EQ(list.machine_types(0).spec().gpu().num(), 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub_->WatchAvailability(&ctx, {});
  api::ListMachineTypesResponse update;
  ASSERT_TRUE(stream->Read(&update));
  RunReservations();
  bool saw_reserved = false;
  while (!saw_reserved && stream->Read(&update)) {
    saw_reserved = update.machine_types(0).usage().reserved() == 1;
  }
  EXPECT_TRUE(saw_reserved);
  ctx.TryCancel();
}

}  // namespace
}  // namespace labkube::scheduler
