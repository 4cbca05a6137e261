#include "services/scheduler/queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace labkube::scheduler {
namespace {

absl::Time At(int seconds) { return absl::FromUnixSeconds(1'800'000'000 + seconds); }

WaitingPod Pod(std::string ns, std::string name, int created) {
  WaitingPod p;
  p.ns = std::move(ns);
  p.name = std::move(name);
  p.group = "g";
  p.type = "t";
  p.created = At(created);
  return p;
}

std::vector<std::string> Names(const QueueOrder& order) {
  std::vector<std::string> out;
  for (const WaitingPod* p : order.pods) out.push_back(p->ns + "/" + p->name);
  return out;
}

std::vector<const WaitingPod*> Ptrs(const std::vector<WaitingPod>& pods) {
  std::vector<const WaitingPod*> out;
  for (const WaitingPod& p : pods) out.push_back(&p);
  return out;
}

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() {
    group_.group = "g";
    type_.name = "t";
  }
  MachineGroup group_;
  MachineType type_;
};

TEST_F(QueueTest, FirstComeFirstServedWithinOneMember) {
  std::vector<WaitingPod> pods = {Pod("a", "p3", 3), Pod("a", "p1", 1), Pod("a", "p2", 2)};
  QueueOrder order = OrderQueue(group_, type_, Ptrs(pods), {}, {});
  EXPECT_EQ(Names(order), (std::vector<std::string>{"a/p1", "a/p2", "a/p3"}));
  EXPECT_EQ(order.eligible, 3u);
}

TEST_F(QueueTest, TheMemberHoldingFewerSlotsGoesFirst) {
  // A has five waiting (the oldest of all), B one: B's is next, then they take turns.
  std::vector<WaitingPod> pods = {Pod("a", "a1", 1), Pod("a", "a2", 2), Pod("a", "a3", 3),
                                  Pod("a", "a4", 4), Pod("a", "a5", 5), Pod("b", "b1", 9)};
  QueueOrder order = OrderQueue(group_, type_, Ptrs(pods), {{"a", 1}}, {{"a", 1}});
  EXPECT_EQ(Names(order),
            (std::vector<std::string>{"b/b1", "a/a1", "a/a2", "a/a3", "a/a4", "a/a5"}));
}

TEST_F(QueueTest, EqualHoldersTakeTurnsInArrivalOrder) {
  std::vector<WaitingPod> pods = {Pod("a", "a1", 1), Pod("a", "a2", 2), Pod("b", "b1", 3),
                                  Pod("b", "b2", 4), Pod("c", "c1", 5)};
  QueueOrder order = OrderQueue(group_, type_, Ptrs(pods), {}, {});
  EXPECT_EQ(Names(order), (std::vector<std::string>{"a/a1", "b/b1", "c/c1", "a/a2", "b/b2"}));
}

TEST_F(QueueTest, PriorityComesBeforeFairness) {
  group_.queue_priority["b"] = 10;
  std::vector<WaitingPod> pods = {Pod("a", "a1", 1), Pod("b", "b1", 2), Pod("b", "b2", 3)};
  QueueOrder order = OrderQueue(group_, type_, Ptrs(pods), {}, {{"b", 4}});
  EXPECT_EQ(Names(order), (std::vector<std::string>{"b/b1", "b/b2", "a/a1"}));
  group_.queue_priority["a"] = 20;
  order = OrderQueue(group_, type_, Ptrs(pods), {}, {});
  EXPECT_EQ(Names(order), (std::vector<std::string>{"a/a1", "b/b1", "b/b2"}));
}

TEST_F(QueueTest, MembersAtACapArePassedOverAndComeLast) {
  type_.max_per_member = 1;
  std::vector<WaitingPod> pods = {Pod("a", "a1", 1), Pod("a", "a2", 2), Pod("b", "b1", 3)};
  QueueOrder order = OrderQueue(group_, type_, Ptrs(pods), {}, {});
  // a1 takes a's one slot; a2 waits for it to end, behind b1.
  EXPECT_EQ(Names(order), (std::vector<std::string>{"a/a1", "b/b1", "a/a2"}));
  EXPECT_EQ(order.eligible, 2u);

  group_.max_per_member = 2;  // the group's cap counts slots of every type
  type_.max_per_member = 0;
  order = OrderQueue(group_, type_, Ptrs(pods), {}, {{"a", 2}});
  EXPECT_EQ(Names(order), (std::vector<std::string>{"b/b1", "a/a1", "a/a2"}));
  EXPECT_EQ(order.eligible, 1u);
}

TEST_F(QueueTest, SameInputSameOrder) {
  // A restarted or new leader rebuilds the queue from the same pods: the order is a function of
  // them, not of the order they were listed in.
  std::vector<WaitingPod> pods;
  for (int i = 0; i < 50; ++i) {
    pods.push_back(Pod(std::string(1, static_cast<char>('a' + i % 3)), "p" + std::to_string(i),
                       i % 7));
  }
  std::vector<WaitingPod> reversed(pods.rbegin(), pods.rend());
  EXPECT_EQ(Names(OrderQueue(group_, type_, Ptrs(pods), {{"a", 2}}, {})),
            Names(OrderQueue(group_, type_, Ptrs(reversed), {{"a", 2}}, {})));
}

}  // namespace
}  // namespace labkube::scheduler

namespace labkube::scheduler {
namespace {

TEST(LatestStartsTest, EachSlotHandedOnRunsItsLimitAgain) {
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  // Two slots: one frees at +1h, one at +3h; each guest then may run 2h.
  std::vector<absl::Time> starts =
      LatestStarts({t0 + absl::Hours(3), t0 + absl::Hours(1)}, absl::Hours(2), 4);
  std::vector<absl::Time> want = {t0 + absl::Hours(1), t0 + absl::Hours(3), t0 + absl::Hours(3),
                                  t0 + absl::Hours(5)};
  EXPECT_EQ(starts, want);
  EXPECT_TRUE(LatestStarts({}, absl::Hours(2), 3).empty());  // no slot: nothing to promise
}

}  // namespace
}  // namespace labkube::scheduler
