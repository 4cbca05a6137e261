// RestClient against the real kube-apiserver: CRUD, errors, patches, paging, dry run,
// unreachable servers.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace labkube::kube {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST_F(ClusterTest, ConfigMapCrud) {
  const Resource& cms = resources::ConfigMaps();
  auto created = client_->Create(cms, ns_, ConfigMapObject(ns_, "one", {{"a", "1"}}));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(json::GetString(*created, {"metadata", "uid"}).empty());

  auto got = client_->Get(cms, ns_, "one");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(json::GetString(*got, {"data", "a"}), "1");

  json::SetString(*got, {"data", "a"}, "2");
  auto updated = client_->Update(cms, ns_, "one", *got);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(json::GetString(*updated, {"data", "a"}), "2");
  EXPECT_NE(json::GetString(*updated, {"metadata", "resourceVersion"}),
            json::GetString(*got, {"metadata", "resourceVersion"}));

  ListOptions lo;
  auto list = client_->List(cms, ns_, lo);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_FALSE(list->resource_version.empty());
  std::set<std::string> names;
  for (const auto& item : list->items().GetArray()) {
    names.insert(std::string(json::GetString(item, {"metadata", "name"})));
  }
  EXPECT_TRUE(names.count("one"));

  ASSERT_TRUE(client_->Delete(cms, ns_, "one").ok());
  auto gone = client_->Get(cms, ns_, "one");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_THAT(Message(gone.status()),
              HasSubstr(absl::StrCat("GET /api/v1/namespaces/", ns_,
                                     "/configmaps/one: 404 NotFound: configmaps \"one\" not "
                                     "found")));
  EXPECT_EQ(client_->Delete(cms, ns_, "one").code(), absl::StatusCode::kNotFound);
}

TEST_F(ClusterTest, CreateTwiceIsAlreadyExists) {
  auto cm = ConfigMapObject(ns_, "dup", {});
  ASSERT_TRUE(client_->Create(resources::ConfigMaps(), ns_, cm).ok());
  auto again = client_->Create(resources::ConfigMaps(), ns_, cm);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
  EXPECT_THAT(Message(again.status()), HasSubstr("409 AlreadyExists"));
}

TEST_F(ClusterTest, StaleUpdateIsAborted) {
  const Resource& cms = resources::ConfigMaps();
  auto v1 = client_->Create(cms, ns_, ConfigMapObject(ns_, "c", {{"k", "1"}}));
  ASSERT_TRUE(v1.ok());
  auto v2 = json::Copy(*v1);
  json::SetString(v2, {"data", "k"}, "2");
  ASSERT_TRUE(client_->Update(cms, ns_, "c", v2).ok());
  json::SetString(*v1, {"data", "k"}, "3");  // still carries the first resourceVersion
  auto stale = client_->Update(cms, ns_, "c", *v1);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted) << stale.status();
  EXPECT_THAT(Message(stale.status()), HasSubstr("409 Conflict: Operation cannot be fulfilled"));
}

TEST_F(ClusterTest, DeletePreconditions) {
  const Resource& cms = resources::ConfigMaps();
  auto cm = client_->Create(cms, ns_, ConfigMapObject(ns_, "p", {}));
  ASSERT_TRUE(cm.ok());
  DeleteOptions wrong;
  wrong.precondition_uid = "00000000-0000-0000-0000-000000000000";
  absl::Status s = client_->Delete(cms, ns_, "p", wrong);
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_THAT(Message(s), HasSubstr("the UID in the precondition"));
  DeleteOptions stale_rv;
  stale_rv.precondition_resource_version = "1";
  EXPECT_EQ(client_->Delete(cms, ns_, "p", stale_rv).code(), absl::StatusCode::kAborted);
  DeleteOptions right;
  right.precondition_uid = std::string(json::GetString(*cm, {"metadata", "uid"}));
  right.grace_period_seconds = 0;
  right.propagation_policy = "Foreground";
  EXPECT_TRUE(client_->Delete(cms, ns_, "p", right).ok());
}

TEST_F(ClusterTest, DryRunDoesNotPersist) {
  WriteOptions w;
  w.dry_run = true;
  auto created = client_->Create(resources::ConfigMaps(), ns_, ConfigMapObject(ns_, "dry", {}), w);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(client_->Get(resources::ConfigMaps(), ns_, "dry").status().code(),
            absl::StatusCode::kNotFound);
  auto invalid = client_->Create(resources::ConfigMaps(), ns_, ConfigMapObject(ns_, "BAD_", {}));
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument) << invalid.status();
  EXPECT_THAT(Message(invalid.status()), HasSubstr("422 Invalid"));
}

TEST_F(ClusterTest, Patches) {
  const Resource& cms = resources::ConfigMaps();
  ASSERT_TRUE(client_->Create(cms, ns_, ConfigMapObject(ns_, "p", {{"a", "1"}})).ok());
  auto merged = client_->Patch(cms, ns_, "p", PatchType::kMergePatch,
                               R"({"data":{"b":"2","a":null},"metadata":{"labels":{"x":"y"}}})");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(json::Find(*merged, {"data", "a"}), nullptr);
  EXPECT_EQ(json::GetString(*merged, {"data", "b"}), "2");
  EXPECT_EQ(json::GetString(*merged, {"metadata", "labels", "x"}), "y");

  auto jsonpatch = client_->Patch(cms, ns_, "p", PatchType::kJsonPatch,
                                  R"([{"op":"test","path":"/data/b","value":"2"},)"
                                  R"({"op":"replace","path":"/data/b","value":"3"}])");
  ASSERT_TRUE(jsonpatch.ok()) << jsonpatch.status();
  EXPECT_EQ(json::GetString(*jsonpatch, {"data", "b"}), "3");
  auto failed_test = client_->Patch(cms, ns_, "p", PatchType::kJsonPatch,
                                    R"([{"op":"test","path":"/data/b","value":"nope"}])");
  EXPECT_FALSE(failed_test.ok());

  auto strategic =
      client_->Patch(cms, ns_, "p", PatchType::kStrategicMergePatch, R"({"data":{"c":"4"}})");
  ASSERT_TRUE(strategic.ok()) << strategic.status();
  EXPECT_EQ(json::GetString(*strategic, {"data", "c"}), "4");
  EXPECT_EQ(json::GetString(*strategic, {"data", "b"}), "3");
}

TEST_F(ClusterTest, StrategicMergeMergesContainersByName) {
  auto deployment = json::Parse(absl::StrFormat(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"%s"},)"
      R"("spec":{"replicas":0,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":)"
      R"({"labels":{"app":"d"}},"spec":{"containers":[{"name":"a","image":"img-a:1"},)"
      R"({"name":"b","image":"img-b:1"}]}}}})",
      ns_));
  ASSERT_TRUE(deployment.ok());
  ASSERT_TRUE(client_->Create(resources::Deployments(), ns_, *deployment).ok());
  auto patched = client_->Patch(
      resources::Deployments(), ns_, "d", PatchType::kStrategicMergePatch,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"b","image":"img-b:2"}]}}}})");
  ASSERT_TRUE(patched.ok()) << patched.status();
  const auto* containers = json::Find(*patched, {"spec", "template", "spec", "containers"});
  ASSERT_NE(containers, nullptr);
  ASSERT_EQ(containers->Size(), 2u);  // merged by name, not replaced
  EXPECT_EQ(json::GetString((*containers)[0], {"image"}), "img-a:1");
  EXPECT_EQ(json::GetString((*containers)[1], {"image"}), "img-b:2");
}

TEST_F(ClusterTest, ServerSideApply) {
  const Resource& cms = resources::ConfigMaps();
  std::string apply = absl::StrFormat(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa","namespace":"%s"},)"
      R"("data":{"owned":"1"}})",
      ns_);
  PatchOptions first;
  first.field_manager = "labkube-a";
  auto applied = client_->Patch(cms, ns_, "ssa", PatchType::kApply, apply, first);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(json::GetString(*applied, {"data", "owned"}), "1");
  const auto* managed = json::Find(*applied, {"metadata", "managedFields"});
  ASSERT_NE(managed, nullptr);
  EXPECT_EQ(json::GetString((*managed)[0], {"manager"}), "labkube-a");

  // Another manager setting the same field conflicts unless it forces.
  std::string other = absl::StrFormat(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa","namespace":"%s"},)"
      R"("data":{"owned":"2"}})",
      ns_);
  PatchOptions second;
  second.field_manager = "labkube-b";
  auto conflict = client_->Patch(cms, ns_, "ssa", PatchType::kApply, other, second);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAborted) << conflict.status();
  second.force = true;
  auto forced = client_->Patch(cms, ns_, "ssa", PatchType::kApply, other, second);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(json::GetString(*forced, {"data", "owned"}), "2");
}

TEST_F(ClusterTest, PagingThroughTwoThousandConfigMaps) {
  constexpr int kCount = 2000;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < kCount;) {
        auto cm = ConfigMapObject(ns_, absl::StrFormat("page-%04d", i), {{"i", std::to_string(i)}});
        json::SetString(cm, {"metadata", "labels", "paging"}, "yes");
        if (!client_->Create(resources::ConfigMaps(), ns_, cm).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures, 0);

  ListOptions lo;
  lo.limit = 500;
  lo.label_selector = "paging=yes";
  std::set<std::string> seen;
  int pages = 0;
  std::string first_rv;
  do {
    auto page = client_->List(resources::ConfigMaps(), ns_, lo);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    if (first_rv.empty()) first_rv = page->resource_version;
    EXPECT_LE(page->items().Size(), 500u);
    for (const auto& item : page->items().GetArray()) {
      seen.insert(std::string(json::GetString(item, {"metadata", "name"})));
    }
    lo.continue_token = page->continue_token;
  } while (!lo.continue_token.empty());
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kCount));
  // Namespace deletion (TearDown) removes them.
}

TEST(UnreachableTest, ClosedPortIsUnavailableFast) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  ClusterConfig config;
  config.server = absl::StrCat("https://127.0.0.1:", ntohs(addr.sin_port));
  auto client = RestClient::Create(config);
  ASSERT_TRUE(client.ok());
  absl::Time start = absl::Now();
  auto got = (*client)->Get(resources::ConfigMaps(), "default", "x");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::Status watch =
      (*client)->Watch(resources::Pods(), "", {}, [](WatchEvent&&) { return true; });
  EXPECT_EQ(watch.code(), absl::StatusCode::kUnavailable) << watch;
}

}  // namespace
}  // namespace labkube::kube
