// GetQueue through the whole gateway: real gRPC to the gateway and from it to a fake scheduler.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "services/gateway/testing/harness.h"

namespace labkube::gateway {
namespace {

namespace gw = ::labkube::gateway::v1alpha1;

class QueueServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = testing::GatewayHarness::Start();
    ASSERT_TRUE(h.ok()) << h.status();
    h_ = std::move(h).value();
    h_->AddMember("alice", "alice-pw", false);
    h_->AddMember("root", "root-pw", true);
    h_->SetDefaultMachineTypes();
    stub_ = gw::Gateway::NewStub(
        grpc::CreateChannel(h_->address(), grpc::InsecureChannelCredentials()));
    testing::sched::Queue q;
    q.set_group("lab");
    q.set_machine_type("rtx3090");
    q.set_estimate_note("estimated starts are the latest ones");
    auto add = [&q](const char* ns, const char* pod, const char* estimate) {
      testing::sched::QueueEntry* e = q.add_entries();
      e->set_namespace_(ns);
      e->set_pod(pod);
      e->set_position(q.entries_size());
      e->set_waiting_since("2024-05-01T12:00:00Z");
      e->set_estimated_start(estimate);
    };
    add("lab-bob", "train-1", "2024-05-01T14:20:00Z");
    add("lab-alice", "ws-nb-5f7d8-abcde", "");
    h_->scheduler().SetQueue(q);
  }

  grpc::Status Get(const std::string& token, const std::string& type, gw::Queue* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ctx.AddMetadata("authorization", "Bearer " + token);
    gw::GetQueueRequest req;
    req.set_machine_type(type);
    return stub_->GetQueue(&ctx, req, out);
  }

  std::unique_ptr<testing::GatewayHarness> h_;
  std::unique_ptr<gw::Gateway::Stub> stub_;
};

TEST_F(QueueServiceTest, AMemberSeesTheLineWithItsOwnEntriesFlagged) {
  gw::Queue q;
  grpc::Status s = Get("token-alice", "rtx3090", &q);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(q.group(), "lab");
  EXPECT_EQ(q.machine_type(), "rtx3090");
  EXPECT_EQ(q.estimate_note(), "estimated starts are the latest ones");
  ASSERT_EQ(q.entries_size(), 2);
  EXPECT_EQ(q.entries(0).member(), "bob");
  EXPECT_EQ(q.entries(0).pod(), "");
  EXPECT_FALSE(q.entries(0).mine());
  EXPECT_EQ(q.entries(0).estimated_start().seconds(), 1714573200);
  EXPECT_EQ(q.entries(0).waiting_since().seconds(), 1714564800);
  EXPECT_TRUE(q.entries(1).mine());
  EXPECT_EQ(q.entries(1).position(), 2);
  EXPECT_EQ(q.entries(1).pod(), "ws-nb-5f7d8-abcde");
  EXPECT_EQ(q.entries(1).workspace(), "nb");
  EXPECT_FALSE(q.entries(1).has_estimated_start());
}

TEST_F(QueueServiceTest, AnAdminSeesEveryPodAndGroupTypeWorks) {
  gw::Queue q;
  grpc::Status s = Get("token-root", "lab/rtx3090", &q);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(q.entries_size(), 2);
  EXPECT_EQ(q.entries(0).pod(), "train-1");
  EXPECT_FALSE(q.entries(1).mine());
}

TEST_F(QueueServiceTest, AnEmptyLineAndBadRequestsSayWhy) {
  gw::Queue q;
  ASSERT_TRUE(Get("token-alice", "cpu", &q).ok());
  EXPECT_EQ(q.entries_size(), 0);
  grpc::Status s = Get("token-alice", "h100", &q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("lab/rtx3090"), std::string::npos) << s.error_message();
  s = Get("token-alice", "", &q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Get("stolen", "rtx3090", &q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace labkube::gateway
