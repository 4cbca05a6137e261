#include "lib/kube/reflector.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"
#include "lib/testing/wait_until.h"

namespace labkube::kube {
namespace {

using labkube::testing::FakeClock;
using labkube::testing::WaitUntil;
using testing::FakeClient;

const Resource& CM() { return resources::ConfigMaps(); }

rapidjson::Document ConfigMap(std::string_view name, std::string_view app = "web") {
  rapidjson::Document doc = json::NewObject("v1", "ConfigMap", "ns1", name);
  json::SetString(doc, {"metadata", "labels", "app"}, app);
  return doc;
}

std::string Name(const ObjectPtr& o) {
  return std::string(json::GetString(*o, {"metadata", "name"}));
}

// Records sink calls as strings: "REPLACE a,b", "ADD c", "UPDATE c", "DELETE c".
class RecordingSink : public ReflectorSink {
 public:
  void Replace(std::vector<ObjectPtr> objects, const std::string& rv) override {
    std::vector<std::string> names;
    for (const ObjectPtr& o : objects) {
      EXPECT_EQ(json::GetString(*o, {"kind"}), "ConfigMap");
      names.push_back(Name(o));
    }
    Record("REPLACE " + absl::StrJoin(names, ","));
  }
  void Add(ObjectPtr o) override { Record("ADD " + Name(o)); }
  void Update(ObjectPtr o) override { Record("UPDATE " + Name(o)); }
  void Delete(ObjectPtr o) override { Record("DELETE " + Name(o)); }

  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  bool WaitFor(std::vector<std::string> expected) {
    return WaitUntil([&] { return events() == expected; });
  }

 private:
  void Record(std::string event) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class ReflectorTest : public ::testing::Test {
 protected:
  void StartReflector(ReflectorOptions options = {}) {
    options.ns = "ns1";
    reflector_ = std::make_unique<Reflector>(client_, CM(), options, sink_, clock_);
    reflector_->Start();
  }
  bool WaitWatching() {
    return WaitUntil([&] { return client_.ActiveWatches() == 1; });
  }
  void Create(std::string_view name, std::string_view app = "web") {
    ASSERT_TRUE(client_.Create(CM(), "ns1", ConfigMap(name, app)).ok());
  }

  FakeClock clock_;
  FakeClient client_{clock_};
  RecordingSink sink_;
  std::unique_ptr<Reflector> reflector_;  // declared last: stopped first
};

TEST_F(ReflectorTest, ListsInPagesThenWatchesInOrder) {
  Create("a");
  Create("b");
  Create("c");
  ReflectorOptions options;
  options.page_size = 2;
  StartReflector(options);
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a,b,c"}));
  EXPECT_TRUE(reflector_->HasSynced());
  EXPECT_EQ(client_.CallCount("List"), 2);
  Create("d");
  ASSERT_TRUE(
      client_.Patch(CM(), "ns1", "d", PatchType::kMergePatch, R"({"data":{"x":"1"}})").ok());
  ASSERT_TRUE(client_.Delete(CM(), "ns1", "a").ok());
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a,b,c", "ADD d", "UPDATE d", "DELETE a"}));
  EXPECT_TRUE(WaitUntil(
      [&] { return reflector_->LastResourceVersion() == client_.CurrentResourceVersion(); }));
}

TEST_F(ReflectorTest, ReconnectsFromLastVersionAfterWatchEnds) {
  Create("a");
  StartReflector();
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a"}));
  ASSERT_TRUE(WaitWatching());
  client_.CloseWatches();
  Create("b");  // before or after the reconnect: delivered once either way
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a", "ADD b"}));
  ASSERT_TRUE(WaitUntil([&] { return client_.CallCount("Watch") == 2; }));
  ASSERT_TRUE(WaitWatching());
  Create("c");
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a", "ADD b", "ADD c"}));
  EXPECT_EQ(client_.CallCount("List"), 1);
}

TEST_F(ReflectorTest, RelistsAfterGoneAndDeliversMissedDelete) {
  Create("a");
  Create("b");
  StartReflector();
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a,b"}));
  ASSERT_TRUE(WaitWatching());
  // Disconnect and keep the reflector away (backing off) while history moves on.
  client_.InjectError("Watch", absl::UnavailableError("connection refused"));
  client_.CloseWatches();
  ASSERT_TRUE(WaitUntil([&] { return clock_.NumWaiters() == 1; }));
  ASSERT_TRUE(client_.Delete(CM(), "ns1", "a").ok());
  Create("c");
  client_.CompactHistory();
  clock_.Advance(absl::Minutes(1));
  // The watch from the old version gets 410 Gone; the relist shows a gone and c new.
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a,b", "REPLACE b,c"}));
  EXPECT_EQ(reflector_->LastError().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(client_.CallCount("List"), 2);
  ASSERT_TRUE(WaitWatching());
  Create("d");
  ASSERT_TRUE(sink_.WaitFor({"REPLACE a,b", "REPLACE b,c", "ADD d"}));
}

TEST_F(ReflectorTest, BacksOffOnTheClockWithCapAndResets) {
  client_.InjectError("List", absl::UnavailableError("apiserver down"), 4);
  ReflectorOptions options;
  options.initial_backoff = absl::Seconds(1);
  options.max_backoff = absl::Seconds(3);
  StartReflector(options);
  for (size_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(WaitUntil([&] { return clock_.RequestedWaits().size() == i; }));
    EXPECT_FALSE(reflector_->HasSynced());
    EXPECT_EQ(client_.CallCount("List"), static_cast<int>(i));
    clock_.Advance(absl::Seconds(3));
  }
  ASSERT_TRUE(WaitUntil([&] { return reflector_->HasSynced(); }));
  std::vector<absl::Duration> waits = clock_.RequestedWaits();
  EXPECT_GE(waits[0], absl::Seconds(1));
  EXPECT_LE(waits[0], absl::Seconds(1.5));
  EXPECT_GE(waits[1], absl::Seconds(2));
  EXPECT_LE(waits[1], absl::Seconds(3));
  EXPECT_EQ(waits[2], absl::Seconds(3));
  EXPECT_EQ(waits[3], absl::Seconds(3));
  // A watch that ends normally counts as success: the next failure starts from the beginning.
  ASSERT_TRUE(WaitWatching());
  client_.InjectError("Watch", absl::UnavailableError("connection reset"));
  client_.CloseWatches();
  ASSERT_TRUE(WaitUntil([&] { return clock_.RequestedWaits().size() == 5; }));
  EXPECT_LE(clock_.RequestedWaits()[4], absl::Seconds(1.5));
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(WaitWatching());
  EXPECT_EQ(client_.CallCount("List"), 5);  // no relist for an ordinary watch error
}

TEST_F(ReflectorTest, BookmarksOnlyAdvanceResourceVersion) {
  ReflectorOptions options;
  options.label_selector = "app=web";
  StartReflector(options);
  ASSERT_TRUE(sink_.WaitFor({"REPLACE "}));
  ASSERT_TRUE(WaitWatching());
  Create("other", "db");  // not selected: no event
  client_.SendBookmarks();
  ASSERT_TRUE(WaitUntil(
      [&] { return reflector_->LastResourceVersion() == client_.CurrentResourceVersion(); }));
  EXPECT_EQ(sink_.events(), std::vector<std::string>{"REPLACE "});
}

TEST_F(ReflectorTest, StopIsPromptWhileWatching) {
  ReflectorOptions options;
  options.watch_timeout = absl::Hours(1);
  StartReflector(options);
  ASSERT_TRUE(WaitWatching());
  absl::Time start = absl::Now();
  reflector_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(client_.ActiveWatches(), 0);
}

TEST_F(ReflectorTest, StopIsPromptWhileBackingOff) {
  client_.InjectError("List", absl::UnavailableError("down"), -1);
  StartReflector();
  ASSERT_TRUE(WaitUntil([&] { return clock_.NumWaiters() == 1; }));
  absl::Time start = absl::Now();
  reflector_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  reflector_->Stop();  // idempotent
}

}  // namespace
}  // namespace labkube::kube
