#include "lib/kube/informer.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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

std::string Name(const ObjectPtr& o) {
  return o == nullptr ? "null" : std::string(json::GetString(*o, {"metadata", "name"}));
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> names;
  for (const ObjectPtr& o : objects) names.push_back(Name(o));
  return names;
}

// Records handler calls as "add a", "update a", "delete a" (plus "(unsynced)" before sync).
class Recorder {
 public:
  explicit Recorder(Informer& informer) : informer_(informer) {}

  EventHandlers Handlers() {
    return EventHandlers{
        .on_add = [this](const ObjectPtr& o) { Record("add " + Name(o)); },
        .on_update =
            [this](const ObjectPtr& old_object, const ObjectPtr& new_object) {
              EXPECT_EQ(Name(old_object), Name(new_object));
              Record("update " + Name(new_object));
            },
        .on_delete = [this](const ObjectPtr& o) { Record("delete " + Name(o)); },
    };
  }
  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  bool WaitFor(const std::vector<std::string>& expected) {
    return WaitUntil([&] { return events() == expected; });
  }

 private:
  void Record(std::string event) {
    // Handlers run outside the store lock: reading the informer here must not deadlock.
    informer_.List();
    if (!informer_.HasSynced()) event += " (unsynced)";
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }

  Informer& informer_;
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class InformerTest : public ::testing::Test {
 protected:
  void Create(std::string_view ns, std::string_view name, std::string_view app = "web") {
    rapidjson::Document doc = json::NewObject("v1", "ConfigMap", ns, name);
    json::SetString(doc, {"metadata", "labels", "app"}, app);
    json::SetString(doc, {"data", "owner"}, std::string(name) + "-owner");
    ASSERT_TRUE(client_.Create(CM(), ns, doc).ok());
  }
  void SetApp(std::string_view ns, std::string_view name, std::string_view app) {
    std::string patch = R"({"metadata":{"labels":{"app":")" + std::string(app) + R"("}}})";
    ASSERT_TRUE(client_.Patch(CM(), ns, name, PatchType::kMergePatch, patch).ok());
  }
  bool WaitWatching() {
    return WaitUntil([&] { return client_.ActiveWatches() == 1; });
  }

  FakeClock clock_;
  FakeClient client_{clock_};
  Informer informer_{client_, CM(), ReflectorOptions(), clock_};
  Recorder recorder_{informer_};
};

TEST_F(InformerTest, CacheAndIndexes) {
  Create("ns1", "a", "web");
  Create("ns1", "b", "db");
  Create("ns2", "c", "web");
  informer_.AddIndex("owner", [](const rapidjson::Value& o) {
    return std::vector<std::string>{std::string(json::GetString(o, {"data", "owner"}))};
  });
  informer_.Start();
  ASSERT_TRUE(informer_.WaitForSync(clock_.Now() + absl::Seconds(10)));
  EXPECT_EQ(Name(informer_.Get("ns1", "a")), "a");
  EXPECT_EQ(informer_.Get("ns2", "a"), nullptr);
  EXPECT_EQ(Names(informer_.List()), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Names(informer_.ByIndex(Informer::kNamespaceIndex, "ns1")),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Names(informer_.ByIndex(Informer::kLabelIndex, "app=web")),
            (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(Names(informer_.ByIndex("owner", "b-owner")), std::vector<std::string>{"b"});
  EXPECT_TRUE(informer_.ByIndex("nope", "x").empty());
  ObjectPtr snapshot = informer_.Get("ns1", "a");
  SetApp("ns1", "a", "db");
  ASSERT_TRUE(client_.Delete(CM(), "ns2", "c").ok());
  ASSERT_TRUE(WaitUntil([&] { return informer_.List().size() == 2; }));
  ASSERT_TRUE(
      WaitUntil([&] { return informer_.ByIndex(Informer::kLabelIndex, "app=db").size() == 2; }));
  EXPECT_TRUE(informer_.ByIndex(Informer::kLabelIndex, "app=web").empty());
  EXPECT_TRUE(informer_.ByIndex(Informer::kNamespaceIndex, "ns2").empty());
  // Snapshots stay as they were.
  EXPECT_EQ(json::GetString(*snapshot, {"metadata", "labels", "app"}), "web");
  EXPECT_EQ(Informer::KeyOf(*snapshot), "ns1/a");
}

TEST_F(InformerTest, HandlersRunInOrderAndSyncFollowsInitialAdds) {
  Create("ns1", "a");
  Create("ns1", "b");
  informer_.AddEventHandlers(recorder_.Handlers());
  std::atomic<int> second_handler_adds{0};
  informer_.AddEventHandlers({.on_add = [&](const ObjectPtr&) { ++second_handler_adds; }});
  EXPECT_FALSE(informer_.HasSynced());
  informer_.Start();
  ASSERT_TRUE(informer_.WaitForSync(clock_.Now() + absl::Seconds(10)));
  EXPECT_EQ(recorder_.events(), (std::vector<std::string>{"add a (unsynced)", "add b (unsynced)"}));
  Create("ns1", "c");
  SetApp("ns1", "c", "db");
  ASSERT_TRUE(client_.Delete(CM(), "ns1", "a").ok());
  ASSERT_TRUE(
      recorder_.WaitFor({"add a (unsynced)", "add b (unsynced)", "add c", "update c", "delete a"}));
  EXPECT_EQ(second_handler_adds.load(), 3);
}

TEST_F(InformerTest, RelistNotifiesWhatHappenedWhileDisconnected) {
  Create("ns1", "a");
  Create("ns1", "b");
  Create("ns1", "keep");
  informer_.AddEventHandlers(recorder_.Handlers());
  informer_.Start();
  ASSERT_TRUE(informer_.WaitForSync(clock_.Now() + absl::Seconds(10)));
  ASSERT_TRUE(WaitWatching());
  client_.InjectError("Watch", absl::UnavailableError("connection refused"));
  client_.CloseWatches();
  ASSERT_TRUE(WaitUntil([&] { return clock_.NumWaiters() == 1; }));  // backing off
  ASSERT_TRUE(client_.Delete(CM(), "ns1", "a").ok());
  SetApp("ns1", "b", "db");
  Create("ns1", "c");
  client_.CompactHistory();  // the informer's resourceVersion is now too old: 410 Gone
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(recorder_.WaitFor({"add a (unsynced)", "add b (unsynced)", "add keep (unsynced)",
                                 "delete a", "update b", "add c"}));
  EXPECT_EQ(informer_.Get("ns1", "a"), nullptr);
  EXPECT_EQ(json::GetString(*informer_.Get("ns1", "b"), {"metadata", "labels", "app"}), "db");
  EXPECT_EQ(client_.CallCount("List"), 2);
}

TEST_F(InformerTest, WaitForSyncTimesOutOnTheClock) {
  client_.InjectError("List", absl::UnavailableError("down"), -1);
  informer_.Start();
  std::atomic<bool> done{false};
  std::atomic<bool> synced{true};
  std::thread waiter([&] {
    synced = informer_.WaitForSync(clock_.Now() + absl::Seconds(5));
    done = true;
  });
  // The reflector's backoff and the sync wait both wait on the clock.
  ASSERT_TRUE(WaitUntil([&] { return clock_.NumWaiters() == 2; }));
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(WaitUntil([&] { return done.load(); }));
  waiter.join();
  EXPECT_FALSE(synced.load());
  EXPECT_FALSE(informer_.HasSynced());
}

TEST_F(InformerTest, StopIsPromptAndEndsNotifications) {
  Create("ns1", "a");
  informer_.AddEventHandlers(recorder_.Handlers());
  informer_.Start();
  ASSERT_TRUE(informer_.WaitForSync(clock_.Now() + absl::Seconds(10)));
  ASSERT_TRUE(WaitWatching());
  absl::Time start = absl::Now();
  informer_.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(client_.ActiveWatches(), 0);
  Create("ns1", "b");
  informer_.Stop();  // idempotent
  EXPECT_EQ(recorder_.events(), std::vector<std::string>{"add a (unsynced)"});
}

}  // namespace
}  // namespace labkube::kube
