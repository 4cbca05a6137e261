// FakeClient watch semantics: ordering, resume, selectors, bookmarks, close, timeout, 410.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/wait_until.h"

namespace labkube::kube::testing {
namespace {

using labkube::testing::WaitUntil;

const Resource& CM() { return resources::ConfigMaps(); }

rapidjson::Document ConfigMap(std::string_view ns, std::string_view name,
                              std::string_view app = "web") {
  rapidjson::Document doc = json::NewObject("v1", "ConfigMap", ns, name);
  json::SetString(doc, {"metadata", "labels", "app"}, app);
  return doc;
}

std::string Describe(const WatchEvent& e) {
  static constexpr const char* kTypes[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
  std::string name(json::GetString(e.object, {"metadata", "name"}));
  return std::string(kTypes[static_cast<int>(e.type)]) + (name.empty() ? "" : " " + name);
}

// (Designated initializers that skip members trip -Wmissing-field-initializers.)
WatchOptions From(std::string rv, std::string labels = "", bool bookmarks = true) {
  WatchOptions options;
  options.resource_version = std::move(rv);
  options.label_selector = std::move(labels);
  options.allow_bookmarks = bookmarks;
  return options;
}

// Runs a watch on its own thread and records the events it sees.
class Watcher {
 public:
  Watcher(FakeClient& client, WatchOptions options, std::string ns = "")
      : client_(client), thread_([this, &client, options, ns] {
          absl::Status status = client.Watch(CM(), ns, options, [this](WatchEvent&& e) {
            absl::MutexLock lock(&mu_);
            events_.push_back(Describe(e));
            return !stop_;
          });
          absl::MutexLock lock(&mu_);
          status_ = status;
          done_ = true;
        }) {}
  // Ends every watch of the client if this one is still running (after a failed expectation).
  ~Watcher() {
    if (!WaitUntil([&] { return done(); }, absl::Seconds(1))) client_.CloseWatches();
    thread_.join();
  }

  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  bool WaitForEvents(size_t n) {
    return WaitUntil([&] { return events().size() >= n; });
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  bool WaitDone() {
    return WaitUntil([&] { return done(); });
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  void StopAfterNextEvent() {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }

 private:
  FakeClient& client_;
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

TEST(FakeClientWatchTest, DeliversEventsInOrderFromResourceVersion) {
  FakeClient client;
  client.Create(CM(), "ns1", ConfigMap("ns1", "old")).IgnoreError();
  std::string rv = client.CurrentResourceVersion();
  client.Create(CM(), "ns1", ConfigMap("ns1", "a")).IgnoreError();
  Watcher watcher(client, From(rv));
  ASSERT_TRUE(watcher.WaitForEvents(1));
  client.Patch(CM(), "ns1", "a", PatchType::kMergePatch, R"({"data":{"x":"1"}})").IgnoreError();
  client.Delete(CM(), "ns1", "a").IgnoreError();
  client.Create(resources::Secrets(), "ns1", ConfigMap("ns1", "secret")).IgnoreError();
  ASSERT_TRUE(watcher.WaitForEvents(3));
  client.CloseWatches();
  ASSERT_TRUE(watcher.WaitDone());
  EXPECT_TRUE(watcher.status().ok());
  EXPECT_EQ(watcher.events(), (std::vector<std::string>{"ADDED a", "MODIFIED a", "DELETED a"}));
}

TEST(FakeClientWatchTest, EmptyVersionStartsNowAndZeroSendsCurrentState) {
  FakeClient client;
  client.Create(CM(), "ns1", ConfigMap("ns1", "a")).IgnoreError();
  Watcher now(client, From(""));
  Watcher any(client, From("0"));
  ASSERT_TRUE(WaitUntil([&] { return client.ActiveWatches() == 2; }));
  client.Create(CM(), "ns1", ConfigMap("ns1", "b")).IgnoreError();
  ASSERT_TRUE(now.WaitForEvents(1));
  ASSERT_TRUE(any.WaitForEvents(2));
  client.CloseWatches();
  EXPECT_EQ(now.events(), (std::vector<std::string>{"ADDED b"}));
  EXPECT_EQ(any.events(), (std::vector<std::string>{"ADDED a", "ADDED b"}));
}

TEST(FakeClientWatchTest, SelectorsAndNamespaceFilter) {
  FakeClient client;
  std::string rv = client.CurrentResourceVersion();
  client.Create(CM(), "ns1", ConfigMap("ns1", "a", "web")).IgnoreError();
  client.Create(CM(), "ns2", ConfigMap("ns2", "b", "web")).IgnoreError();
  client.Create(CM(), "ns1", ConfigMap("ns1", "c", "db")).IgnoreError();
  // a stops matching (DELETED), c starts matching (ADDED).
  client.Patch(CM(), "ns1", "a", PatchType::kMergePatch, R"({"metadata":{"labels":{"app":"x"}}})")
      .IgnoreError();
  client.Patch(CM(), "ns1", "c", PatchType::kMergePatch, R"({"metadata":{"labels":{"app":"web"}}})")
      .IgnoreError();
  Watcher watcher(client, From(rv, "app=web"), "ns1");
  ASSERT_TRUE(watcher.WaitForEvents(3));
  client.CloseWatches();
  ASSERT_TRUE(watcher.WaitDone());
  EXPECT_EQ(watcher.events(), (std::vector<std::string>{"ADDED a", "DELETED a", "ADDED c"}));
}

TEST(FakeClientWatchTest, TooOldResourceVersionIsOutOfRange) {
  FakeClient client;
  client.SetHistoryLimit(2);
  std::string rv = client.CurrentResourceVersion();
  for (std::string name : {"a", "b", "c"}) {
    client.Create(CM(), "ns1", ConfigMap("ns1", name)).IgnoreError();
  }
  absl::Status status = client.Watch(CM(), "", From(rv), [](WatchEvent&&) { return false; });
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  // From a version still in the history it works.
  std::vector<std::string> seen;
  std::string recent = std::to_string(std::stoll(rv) + 1);
  status = client.Watch(CM(), "", From(recent), [&](WatchEvent&& e) {
    seen.push_back(Describe(e));
    return seen.size() < 2;
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED b", "ADDED c"}));
}

TEST(FakeClientWatchTest, CallbackFalseEndsWatch) {
  FakeClient client;
  std::string rv = client.CurrentResourceVersion();
  client.Create(CM(), "ns1", ConfigMap("ns1", "a")).IgnoreError();
  client.Create(CM(), "ns1", ConfigMap("ns1", "b")).IgnoreError();
  int calls = 0;
  EXPECT_TRUE(client
                  .Watch(CM(), "", From(rv),
                         [&](WatchEvent&&) {
                           ++calls;
                           return false;
                         })
                  .ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(client.ActiveWatches(), 0);
}

TEST(FakeClientWatchTest, BookmarksAndTimeout) {
  FakeClient client;
  client.Create(CM(), "ns1", ConfigMap("ns1", "a")).IgnoreError();
  Watcher with(client, From("", "", true));
  Watcher without(client, From("", "", false));
  ASSERT_TRUE(WaitUntil([&] { return client.ActiveWatches() == 2; }));
  client.SendBookmarks();
  client.Create(CM(), "ns1", ConfigMap("ns1", "b")).IgnoreError();
  ASSERT_TRUE(with.WaitForEvents(2));
  ASSERT_TRUE(without.WaitForEvents(1));
  client.SetBookmarkInterval(absl::Milliseconds(10));
  ASSERT_TRUE(with.WaitForEvents(3));
  EXPECT_EQ(with.events()[2], "BOOKMARK");
  with.StopAfterNextEvent();
  ASSERT_TRUE(with.WaitDone());
  client.CloseWatches();
  ASSERT_TRUE(without.WaitDone());
  EXPECT_EQ(without.events(), (std::vector<std::string>{"ADDED b"}));
  // options.timeout ends a quiet watch with OK.
  absl::Time start = absl::Now();
  WatchOptions quiet = From("", "", false);
  quiet.timeout = absl::Milliseconds(50);
  EXPECT_TRUE(client.Watch(CM(), "", quiet, [](WatchEvent&&) { return true; }).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
}

TEST(FakeClientWatchTest, ShouldStopEndsIdleWatch) {
  FakeClient client;
  std::atomic<bool> stop{false};
  WatchOptions options = From("", "", false);
  options.timeout = absl::Hours(1);
  options.should_stop = [&stop] { return stop.load(); };
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    EXPECT_TRUE(client.Watch(CM(), "", options, [](WatchEvent&&) { return true; }).ok());
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return client.ActiveWatches() == 1; }));
  stop = true;
  EXPECT_TRUE(WaitUntil([&] { return done.load(); }, absl::Seconds(2)));
  watcher.join();
}

TEST(FakeClientWatchTest, InjectedWatchError) {
  FakeClient client;
  client.InjectError("Watch", absl::UnavailableError("connection refused"));
  EXPECT_EQ(client.Watch(CM(), "", {}, [](WatchEvent&&) { return true; }).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.CallCount("Watch"), 1);
}

}  // namespace
}  // namespace labkube::kube::testing
