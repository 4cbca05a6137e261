#include "services/scheduler/claims.h"

#include "gtest/gtest.h"

namespace labkube::scheduler {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

ClaimRecord Record(const std::string& id, const std::string& admission_uid) {
  ClaimRecord r;
  r.id = id;
  r.admission_uid = admission_uid;
  r.group = "gpu";
  r.type = "rtx3090-x1";
  r.node = "node-a";
  r.reservation_uid = "res-" + id;
  return r;
}

TEST(ClaimTableTest, FindsClaimsByAdmissionUid) {
  ClaimTable table(absl::Seconds(30));
  table.Add(Record("c1", "adm-1"), kStart);
  ASSERT_NE(table.FindByAdmissionUid("adm-1"), nullptr);
  EXPECT_EQ(table.FindByAdmissionUid("adm-1")->id, "c1");
  EXPECT_EQ(table.FindByAdmissionUid("adm-2"), nullptr);
  EXPECT_TRUE(table.IsReservationClaimed("res-c1"));
  EXPECT_FALSE(table.IsReservationClaimed("res-c2"));
}

TEST(ClaimTableTest, BindEndsTheClaim) {
  ClaimTable table(absl::Seconds(30));
  table.Add(Record("c1", "adm-1"), kStart);
  EXPECT_TRUE(table.Bind("c1"));
  EXPECT_FALSE(table.Bind("c1"));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.FindByAdmissionUid("adm-1"), nullptr);
}

TEST(ClaimTableTest, ExpiresAfterTtl) {
  ClaimTable table(absl::Seconds(30));
  table.Add(Record("c1", "adm-1"), kStart);
  table.Add(Record("c2", "adm-2"), kStart + absl::Seconds(20));
  EXPECT_TRUE(table.Expire(kStart + absl::Seconds(29)).empty());
  auto expired = table.Expire(kStart + absl::Seconds(30));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, "c1");
  ASSERT_EQ(table.Live().size(), 1u);
  EXPECT_EQ(table.Live()[0].id, "c2");
  EXPECT_EQ(table.Live()[0].node, "node-a");
}

TEST(ClaimTableTest, RefusalsAreCountedPerGuestWithinTheWindow) {
  ClaimTable table(absl::Seconds(30), absl::Seconds(60));
  table.RecordRefusal("gpu", "x1", "ns/web-", kStart);
  table.RecordRefusal("gpu", "x1", "ns/web-", kStart + absl::Seconds(5));  // same guest again
  table.RecordRefusal("gpu", "x1", "ns/other", kStart + absl::Seconds(10));
  EXPECT_EQ(table.RecentRefusals(kStart + absl::Seconds(11))["gpu/x1"], 2);
  table.ClearRefusal("gpu", "x1", "ns/other");
  EXPECT_EQ(table.RecentRefusals(kStart + absl::Seconds(11))["gpu/x1"], 1);
  EXPECT_TRUE(table.RecentRefusals(kStart + absl::Seconds(70)).empty());
}

}  // namespace
}  // namespace labkube::scheduler
