#include "clients/cli/queue_views.h"

#include "gtest/gtest.h"

namespace labkube::cli {
namespace {

// 2024-05-01 12:00 UTC.
const absl::Time kNow = absl::FromUnixSeconds(1714564800);

TEST(QueueViewsTest, Ordinal) {
  EXPECT_EQ(Ordinal(1), "1st");
  EXPECT_EQ(Ordinal(2), "2nd");
  EXPECT_EQ(Ordinal(3), "3rd");
  EXPECT_EQ(Ordinal(4), "4th");
  EXPECT_EQ(Ordinal(11), "11th");
  EXPECT_EQ(Ordinal(13), "13th");
  EXPECT_EQ(Ordinal(22), "22nd");
  EXPECT_EQ(Ordinal(101), "101st");
}

TEST(QueueViewsTest, ClockTextShowsTheDayOnlyWhenItIsNotToday) {
  absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(ClockText(kNow + absl::Minutes(140), kNow, utc), "14:20");
  EXPECT_EQ(ClockText(kNow + absl::Hours(13), kNow, utc), "May 02 01:00");
  // In UTC+11 it is 23:00 now, so 14:20 UTC is tomorrow there.
  absl::TimeZone plus11 = absl::FixedTimeZone(11 * 3600);
  EXPECT_EQ(ClockText(kNow + absl::Minutes(140), kNow, plus11), "May 02 01:20");
  EXPECT_EQ(ClockText(kNow + absl::Minutes(30), kNow, plus11), "23:30");
}

TEST(QueueViewsTest, InLineTextWithAndWithoutAnEstimate) {
  gw::Workspace w;
  w.set_machine_type("rtx3090-x2");
  EXPECT_EQ(InLineText(w, kNow, absl::UTCTimeZone()), "");
  w.set_queue_position(2);
  w.set_queue_length(3);
  EXPECT_EQ(InLineText(w, kNow, absl::UTCTimeZone()),
            "waiting for rtx3090-x2: 2nd of 3 in line (no estimate)");
  w.mutable_estimated_start()->set_seconds(absl::ToUnixSeconds(kNow + absl::Minutes(140)));
  EXPECT_EQ(InLineText(w, kNow, absl::UTCTimeZone()),
            "waiting for rtx3090-x2: 2nd of 3 in line (estimated 14:20)");
}

gw::Queue Line() {
  gw::Queue q;
  q.set_group("lab");
  q.set_machine_type("rtx3090");
  gw::QueueEntry* bob = q.add_entries();
  bob->set_position(1);
  bob->set_member("bob");
  bob->set_namespace_("lab-bob");
  bob->mutable_waiting_since()->set_seconds(absl::ToUnixSeconds(kNow - absl::Minutes(12)));
  bob->mutable_estimated_start()->set_seconds(absl::ToUnixSeconds(kNow + absl::Minutes(140)));
  gw::QueueEntry* me = q.add_entries();
  me->set_position(2);
  me->set_member("alice");
  me->set_namespace_("lab-alice");
  me->set_pod("ws-nb-5f7-abcde");
  me->set_workspace("nb");
  me->set_mine(true);
  me->mutable_waiting_since()->set_seconds(absl::ToUnixSeconds(kNow - absl::Seconds(30)));
  return q;
}

TEST(QueueViewsTest, TheLineOfAType) {
  gw::Queue q = Line();
  rapidjson::Document doc(rapidjson::kArrayType);
  for (const gw::QueueEntry& e : q.entries()) {
    doc.PushBack(QueueEntryView(q, e, doc.GetAllocator()), doc.GetAllocator());
  }
  EXPECT_EQ(doc[1]["length"].GetInt(), 2);
  EXPECT_TRUE(doc[1]["mine"].GetBool());
  EXPECT_EQ(std::string(doc[0]["estimated_start"].GetString()), "2024-05-01T14:20:00Z");
  EXPECT_EQ(std::string(doc[1]["estimated_start"].GetString()), "");
  EXPECT_EQ(RenderList(doc, QueueColumns(kNow, absl::UTCTimeZone()), Format::kTable),
            "#  MEMBER  POD                             WAITING  ESTIMATED START  MINE\n"
            "1  bob     -                               12m      14:20\n"
            "2  alice   ws-nb-5f7-abcde (workspace nb)  30s      no estimate      yes\n");
}

TEST(QueueViewsTest, MyEntries) {
  gw::Queue q = Line();
  rapidjson::Document doc(rapidjson::kArrayType);
  doc.PushBack(QueueEntryView(q, q.entries(1), doc.GetAllocator()), doc.GetAllocator());
  EXPECT_EQ(RenderList(doc, MyQueueColumns(kNow, absl::UTCTimeZone()), Format::kTable),
            "MACHINE TYPE  PLACE   WORKSPACE  POD              WAITING  ESTIMATED START\n"
            "lab/rtx3090   2 of 2  nb         ws-nb-5f7-abcde  30s      no estimate\n");
}

}  // namespace
}  // namespace labkube::cli
