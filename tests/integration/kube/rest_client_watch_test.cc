// RestClient::Watch against the real kube-apiserver: event order, 410 Gone for an expired
// resourceVersion, and stopping.
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace labkube::kube {
namespace {

using ::testing::ElementsAre;

const char* TypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "?";
}

TEST_F(ClusterTest, WatchDeliversEventsInOrder) {
  const Resource& cms = resources::ConfigMaps();
  auto list = client_->List(cms, ns_, {});
  ASSERT_TRUE(list.ok()) << list.status();

  std::vector<std::string> events;
  absl::Status watch_status;
  std::thread watcher([&] {
    WatchOptions o;
    o.resource_version = list->resource_version;
    o.timeout = absl::Seconds(30);
    // Only ours: kube-controller-manager adds kube-root-ca.crt to new namespaces at any moment.
    o.field_selector = "metadata.name=w";
    watch_status = client_->Watch(cms, ns_, o, [&](WatchEvent&& e) {
      if (e.type == WatchEventType::kBookmark) return true;
      std::string name(json::GetString(e.object, {"metadata", "name"}));
      events.push_back(absl::StrCat(TypeName(e.type), " ", name, " ",
                                    std::string(json::GetString(e.object, {"data", "v"}))));
      return !(e.type == WatchEventType::kDeleted && name == "w");
    });
  });
  auto created = client_->Create(cms, ns_, ConfigMapObject(ns_, "w", {{"v", "1"}}));
  ASSERT_TRUE(created.ok());
  json::SetString(*created, {"data", "v"}, "2");
  ASSERT_TRUE(client_->Update(cms, ns_, "w", *created).ok());
  ASSERT_TRUE(client_->Delete(cms, ns_, "w").ok());
  watcher.join();
  EXPECT_TRUE(watch_status.ok()) << watch_status;
  EXPECT_THAT(events, ElementsAre("ADDED w 1", "MODIFIED w 2", "DELETED w 2"));
}

TEST_F(ClusterTest, WatchFromAncientResourceVersionIsOutOfRange) {
  // Make sure there is history beyond resourceVersion 1 (a fresh cluster already has plenty).
  ASSERT_TRUE(client_->Create(resources::ConfigMaps(), ns_, ConfigMapObject(ns_, "h", {})).ok());
  WatchOptions o;
  o.resource_version = "1";
  o.timeout = absl::Seconds(2);
  std::vector<WatchEventType> types;
  absl::Time start = absl::Now();
  absl::Status s;
  // A cluster younger than two compaction intervals (cluster.sh: 30 s) may still hold revision 1
  // and replay it: then try again until etcd has compacted it.
  for (absl::Time deadline = start + absl::Seconds(120); absl::Now() < deadline;) {
    types.clear();
    s = client_->Watch(resources::ConfigMaps(), "", o, [&](WatchEvent&& e) {
      types.push_back(e.type);
      return e.type == WatchEventType::kError;  // history replayed: not compacted yet
    });
    if (!s.ok()) break;
    absl::SleepFor(absl::Seconds(2));  // the compactor runs on its own clock; nothing to poll
  }
  // kube-apiserver answers a watch from a compacted resourceVersion with an ERROR event (code
  // 410, reason Expired) or an HTTP 410; both map to kOutOfRange.
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange)
      << s << " after " << types.size() << " events in " << (absl::Now() - start);
  if (!types.empty()) {
    EXPECT_EQ(types.back(), WatchEventType::kError);
  }
}

TEST_F(ClusterTest, WatchStopsOnRequest) {
  WatchOptions o;
  o.timeout = absl::Seconds(60);
  absl::Time start = absl::Now();
  absl::Time stop_at = start + absl::Seconds(1);
  o.should_stop = [&] { return absl::Now() >= stop_at; };
  absl::Status s =
      client_->Watch(resources::ConfigMaps(), ns_, o, [](WatchEvent&&) { return true; });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
}

TEST_F(ClusterTest, WatchEndsAtServerTimeout) {
  WatchOptions o;
  o.timeout = absl::Seconds(2);
  absl::Time start = absl::Now();
  absl::Status s =
      client_->Watch(resources::ConfigMaps(), ns_, o, [](WatchEvent&&) { return true; });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace labkube::kube
