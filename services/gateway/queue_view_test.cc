#include "services/gateway/queue_view.h"

#include "gtest/gtest.h"

namespace labkube::gateway {
namespace {

gw::Queue Line() {
  gw::Queue q;
  q.set_group("lab");
  q.set_machine_type("rtx3090");
  q.set_estimate_note("no estimate: no maxRuntime");
  const char* pods[][2] = {{"lab-bob", "train-1"},
                           {"lab-alice", "ws-my-nb-7d9f8c6b5-x2x4q"},
                           {"kube-system", "odd"}};
  int position = 0;
  for (const auto& [ns, pod] : pods) {
    gw::QueueEntry* e = q.add_entries();
    e->set_namespace_(ns);
    e->set_pod(pod);
    e->set_position(++position);
    e->mutable_waiting_since()->set_seconds(1000 + position);
  }
  return q;
}

TEST(QueueViewTest, AMemberSeesTheWholeLineButOnlyItsOwnPods) {
  gw::Queue v = QueueView(Line(), Caller{"u", "alice", "lab-alice", false}, "lab-");
  ASSERT_EQ(v.entries_size(), 3);
  EXPECT_EQ(v.estimate_note(), "no estimate: no maxRuntime");
  EXPECT_EQ(v.entries(0).member(), "bob");
  EXPECT_FALSE(v.entries(0).mine());
  EXPECT_EQ(v.entries(0).pod(), "");
  EXPECT_EQ(v.entries(0).waiting_since().seconds(), 1001);
  EXPECT_EQ(v.entries(1).member(), "alice");
  EXPECT_TRUE(v.entries(1).mine());
  EXPECT_EQ(v.entries(1).pod(), "ws-my-nb-7d9f8c6b5-x2x4q");
  EXPECT_EQ(v.entries(1).workspace(), "my-nb");
  EXPECT_EQ(v.entries(1).position(), 2);
  EXPECT_EQ(v.entries(2).member(), "");  // not a member namespace
  EXPECT_EQ(v.entries(2).namespace_(), "kube-system");
}

TEST(QueueViewTest, AnAdminSeesEveryPod) {
  gw::Queue v = QueueView(Line(), Caller{"u", "root", "lab-root", true}, "lab-");
  EXPECT_EQ(v.entries(0).pod(), "train-1");
  EXPECT_FALSE(v.entries(0).mine());
  EXPECT_EQ(v.entries(0).workspace(), "");
}

TEST(QueueViewTest, WorkspaceOfPod) {
  EXPECT_EQ(WorkspaceOfPod("ws-a-7d9f8c-abcde"), "a");
  EXPECT_EQ(WorkspaceOfPod("ws-a-b-7d9f8c-abcde"), "a-b");
  EXPECT_EQ(WorkspaceOfPod("ws-a"), "");
  EXPECT_EQ(WorkspaceOfPod("ws-a-7d9f8c"), "");
  EXPECT_EQ(WorkspaceOfPod("train-1-2-3"), "");
}

TEST(QueueViewTest, FindEntry) {
  gw::Queue q = Line();
  ASSERT_NE(FindEntry(q, "lab-bob", "train-1"), nullptr);
  EXPECT_EQ(FindEntry(q, "lab-bob", "train-1")->position(), 1);
  EXPECT_EQ(FindEntry(q, "lab-alice", "train-1"), nullptr);
}

TEST(QueueViewTest, Ordinal) {
  EXPECT_EQ(Ordinal(1), "1st");
  EXPECT_EQ(Ordinal(2), "2nd");
  EXPECT_EQ(Ordinal(3), "3rd");
  EXPECT_EQ(Ordinal(4), "4th");
  EXPECT_EQ(Ordinal(11), "11th");
  EXPECT_EQ(Ordinal(12), "12th");
  EXPECT_EQ(Ordinal(21), "21st");
  EXPECT_EQ(Ordinal(112), "112th");
}

TEST(QueueViewTest, InLineMessageWithAndWithoutAnEstimate) {
  gw::QueueEntry e;
  e.set_position(2);
  EXPECT_EQ(InLineMessage("rtx3090-x2", e, 3), "waiting for rtx3090-x2: 2nd of 3 in line (no estimate)");
  e.mutable_estimated_start()->set_seconds(1714573200);  // 2024-05-01 14:20 UTC
  EXPECT_EQ(InLineMessage("rtx3090-x2", e, 3),
            "waiting for rtx3090-x2: 2nd of 3 in line (estimated 2024-05-01 14:20 UTC)");
}

}  // namespace
}  // namespace labkube::gateway
