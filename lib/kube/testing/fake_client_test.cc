// FakeClient storage semantics: create/get/update/patch/delete/list, errors, injection.
#include "lib/kube/testing/fake_client.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/testing/fake_clock.h"

namespace labkube::kube::testing {
namespace {

const Resource& CM() { return resources::ConfigMaps(); }

rapidjson::Document ConfigMap(std::string_view ns, std::string_view name,
                              std::string_view labels_json = "{}") {
  rapidjson::Document doc = json::NewObject("v1", "ConfigMap", ns, name);
  json::SetValue(doc, {"metadata", "labels"}, *json::Parse(labels_json));
  json::SetString(doc, {"data", "k"}, "v");
  return doc;
}

std::string Rv(const rapidjson::Value& o) {
  return std::string(json::GetString(o, {"metadata", "resourceVersion"}));
}

// (Option structs are filled by helpers: designated initializers that skip members trip
// -Wmissing-field-initializers.)
ListOptions Selecting(std::string labels, std::string fields = "") {
  ListOptions options;
  options.label_selector = std::move(labels);
  options.field_selector = std::move(fields);
  return options;
}

ListOptions Page(int64_t limit, std::string continue_token = "", std::string labels = "") {
  ListOptions options = Selecting(std::move(labels));
  options.limit = limit;
  options.continue_token = std::move(continue_token);
  return options;
}

DeleteOptions Preconditions(std::string uid, std::string rv = "") {
  DeleteOptions options;
  options.precondition_uid = std::move(uid);
  options.precondition_resource_version = std::move(rv);
  return options;
}

class FakeClientTest : public ::testing::Test {
 protected:
  labkube::testing::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  FakeClient client_{clock_};
};

TEST_F(FakeClientTest, CreateFillsMetadataAndGetReturnsIt) {
  absl::StatusOr<rapidjson::Document> created = client_.Create(CM(), "ns1", ConfigMap("", "a"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(json::GetString(*created, {"metadata", "namespace"}), "ns1");
  EXPECT_FALSE(json::GetString(*created, {"metadata", "uid"}).empty());
  EXPECT_EQ(json::GetInt(*created, {"metadata", "generation"}), 1);
  EXPECT_EQ(json::GetString(*created, {"metadata", "creationTimestamp"}), "2023-11-14T22:13:20Z");
  EXPECT_EQ(Rv(*created), client_.CurrentResourceVersion());
  absl::StatusOr<rapidjson::Document> got = client_.Get(CM(), "ns1", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(json::ToString(*got), json::ToString(*created));
  EXPECT_EQ(client_.Get(CM(), "ns2", "a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FakeClientTest, CreateRejectsDuplicatesAndExpandsGenerateName) {
  ASSERT_TRUE(client_.Create(CM(), "ns1", ConfigMap("ns1", "a")).ok());
  EXPECT_EQ(client_.Create(CM(), "ns1", ConfigMap("ns1", "a")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(client_.Create(CM(), "ns2", ConfigMap("ns1", "b")).status().code(),
            absl::StatusCode::kInvalidArgument);
  rapidjson::Document gen = ConfigMap("ns1", "");
  json::SetString(gen, {"metadata", "generateName"}, "job-");
  absl::StatusOr<rapidjson::Document> created = client_.Create(CM(), "ns1", gen);
  ASSERT_TRUE(created.ok());
  std::string_view name = json::GetString(*created, {"metadata", "name"});
  EXPECT_EQ(name.substr(0, 4), "job-");
  EXPECT_EQ(name.size(), 9u);
}

TEST_F(FakeClientTest, UpdateChecksResourceVersionAndBumpsGeneration) {
  rapidjson::Document v1 = *client_.Create(CM(), "ns1", ConfigMap("ns1", "a"));
  rapidjson::Document change = json::Copy(v1);
  json::SetString(change, {"data", "k"}, "v2");
  absl::StatusOr<rapidjson::Document> v2 = client_.Update(CM(), "ns1", "a", change);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_NE(Rv(*v2), Rv(v1));
  EXPECT_EQ(json::GetInt(*v2, {"metadata", "generation"}), 2);
  // Stale resourceVersion: 409 Conflict.
  EXPECT_EQ(client_.Update(CM(), "ns1", "a", change).status().code(), absl::StatusCode::kAborted);
  // A write that changes nothing keeps the resourceVersion.
  absl::StatusOr<rapidjson::Document> same = client_.Update(CM(), "ns1", "a", *v2);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(Rv(*same), Rv(*v2));
  // Label changes do not bump the generation.
  json::SetString(*v2, {"metadata", "labels", "x"}, "y");
  absl::StatusOr<rapidjson::Document> v3 = client_.Update(CM(), "ns1", "a", *v2);
  EXPECT_EQ(json::GetInt(*v3, {"metadata", "generation"}), 2);
  EXPECT_EQ(client_.Update(CM(), "ns1", "missing", *v2).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FakeClientTest, StatusSubresourceOnlyChangesStatus) {
  rapidjson::Document pod = json::NewObject("v1", "Pod", "ns1", "p");
  json::SetString(pod, {"spec", "nodeName"}, "n1");
  ASSERT_TRUE(client_.Create(resources::Pods(), "ns1", pod).ok());
  rapidjson::Document change = json::NewObject("v1", "Pod", "ns1", "p");
  json::SetString(change, {"status", "phase"}, "Running");
  absl::StatusOr<rapidjson::Document> updated =
      client_.Update(resources::Pods(), "ns1", "p", change, "status");
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(json::GetString(*updated, {"status", "phase"}), "Running");
  EXPECT_EQ(json::GetString(*updated, {"spec", "nodeName"}), "n1");
  // The main resource keeps the stored status.
  json::SetString(change, {"status", "phase"}, "Failed");
  json::SetString(change, {"spec", "nodeName"}, "n2");
  updated = client_.Update(resources::Pods(), "ns1", "p", change);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(json::GetString(*updated, {"status", "phase"}), "Running");
  EXPECT_EQ(json::GetString(*updated, {"spec", "nodeName"}), "n2");
}

TEST_F(FakeClientTest, PatchTypes) {
  rapidjson::Document v1 = *client_.Create(CM(), "ns1", ConfigMap("ns1", "a"));
  absl::StatusOr<rapidjson::Document> merged =
      client_.Patch(CM(), "ns1", "a", PatchType::kMergePatch, R"({"data":{"k":null,"n":"1"}})");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(json::ToString(*json::Find(*merged, {"data"})), R"({"n":"1"})");
  absl::StatusOr<rapidjson::Document> patched = client_.Patch(
      CM(), "ns1", "a", PatchType::kJsonPatch,
      R"([{"op":"test","path":"/data/n","value":"1"},{"op":"add","path":"/data/m","value":"2"}])");
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(json::GetString(*patched, {"data", "m"}), "2");
  EXPECT_EQ(client_
                .Patch(CM(), "ns1", "a", PatchType::kJsonPatch,
                       R"([{"op":"test","path":"/data/n","value":"9"}])")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // A resourceVersion in the patch is a precondition.
  std::string stale = R"({"metadata":{"resourceVersion":")" + Rv(v1) + R"("}})";
  EXPECT_EQ(client_.Patch(CM(), "ns1", "a", PatchType::kMergePatch, stale).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(client_.Patch(CM(), "ns1", "b", PatchType::kMergePatch, "{}").status().code(),
            absl::StatusCode::kNotFound);
  // Apply creates missing objects.
  absl::StatusOr<rapidjson::Document> applied =
      client_.Patch(CM(), "ns1", "b", PatchType::kApply,
                    R"({"apiVersion":"v1","kind":"ConfigMap","data":{"x":"y"}})", PatchOptions());
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(json::GetString(*applied, {"data", "x"}), "y");
}

TEST_F(FakeClientTest, DeletePreconditionsAndFinalizers) {
  rapidjson::Document cm = ConfigMap("ns1", "a");
  json::SetValue(cm, {"metadata", "finalizers"}, *json::Parse(R"(["labkube.io/x"])"));
  rapidjson::Document v1 = *client_.Create(CM(), "ns1", cm);
  EXPECT_EQ(client_.Delete(CM(), "ns1", "a", Preconditions("other")).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(client_.Delete(CM(), "ns1", "a", Preconditions("", "1")).code(),
            absl::StatusCode::kAborted);
  std::string uid(json::GetString(v1, {"metadata", "uid"}));
  ASSERT_TRUE(client_.Delete(CM(), "ns1", "a", Preconditions(uid)).ok());
  // Finalizers keep the object, now terminating.
  absl::StatusOr<rapidjson::Document> terminating = client_.Get(CM(), "ns1", "a");
  ASSERT_TRUE(terminating.ok());
  EXPECT_NE(json::Find(*terminating, {"metadata", "deletionTimestamp"}), nullptr);
  // Removing the last finalizer deletes it.
  ASSERT_TRUE(
      client_.Patch(CM(), "ns1", "a", PatchType::kMergePatch, R"({"metadata":{"finalizers":null}})")
          .ok());
  EXPECT_EQ(client_.Get(CM(), "ns1", "a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.Delete(CM(), "ns1", "a").code(), absl::StatusCode::kNotFound);
}

std::vector<std::string> Names(const ObjectList& list) {
  std::vector<std::string> names;
  for (const rapidjson::Value& item : list.doc["items"].GetArray()) {
    names.emplace_back(json::GetString(item, {"metadata", "name"}));
  }
  return names;
}

TEST_F(FakeClientTest, ListFiltersBySelectorsAndNamespace) {
  client_.Create(CM(), "ns1", ConfigMap("ns1", "a", R"({"app":"web"})")).IgnoreError();
  client_.Create(CM(), "ns1", ConfigMap("ns1", "b", R"({"app":"db"})")).IgnoreError();
  client_.Create(CM(), "ns2", ConfigMap("ns2", "c", R"({"app":"web"})")).IgnoreError();
  absl::StatusOr<ObjectList> all = client_.List(CM(), "", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(all->resource_version, client_.CurrentResourceVersion());
  EXPECT_EQ(Names(*client_.List(CM(), "ns1", {})), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Names(*client_.List(CM(), "", Selecting("app=web"))),
            (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(Names(*client_.List(CM(), "", Selecting("app notin (web)"))),
            (std::vector<std::string>{"b"}));
  EXPECT_EQ(Names(*client_.List(CM(), "", Selecting("", "metadata.namespace=ns2"))),
            (std::vector<std::string>{"c"}));
  EXPECT_EQ(client_.List(CM(), "", Selecting("app in web")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FakeClientTest, ListPages) {
  for (std::string name : {"a", "b", "c", "d", "e"}) {
    client_.Create(CM(), "ns1", ConfigMap("ns1", name, R"({"app":"web"})")).IgnoreError();
  }
  client_.Create(CM(), "ns1", ConfigMap("ns1", "bb")).IgnoreError();  // filtered out
  std::vector<std::string> names;
  ListOptions options = Page(2, "", "app");
  int pages = 0;
  do {
    absl::StatusOr<ObjectList> page = client_.List(CM(), "ns1", options);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const std::string& n : Names(*page)) names.push_back(n);
    options.continue_token = page->continue_token;
    ++pages;
  } while (!options.continue_token.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages, 3);
  // A continue token from before a compaction has expired.
  absl::StatusOr<ObjectList> first = client_.List(CM(), "ns1", Page(1));
  client_.Create(CM(), "ns1", ConfigMap("ns1", "z")).IgnoreError();
  client_.CompactHistory();
  EXPECT_EQ(client_.List(CM(), "ns1", Page(1, first->continue_token)).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(FakeClientTest, InjectedErrorsAndCallCounts) {
  client_.InjectError("Get", absl::UnavailableError("down"), 2);
  EXPECT_EQ(client_.Get(CM(), "ns1", "a").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.Get(CM(), "ns1", "a").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.Get(CM(), "ns1", "a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.CallCount("Get"), 3);
  client_.InjectError("Create", absl::InternalError("boom"), -1);
  EXPECT_FALSE(client_.Create(CM(), "ns1", ConfigMap("ns1", "a")).ok());
  EXPECT_FALSE(client_.Create(CM(), "ns1", ConfigMap("ns1", "a")).ok());
  client_.ClearInjectedErrors();
  EXPECT_TRUE(client_.Create(CM(), "ns1", ConfigMap("ns1", "a")).ok());
}

TEST_F(FakeClientTest, SubresourceHandler) {
  rapidjson::Document body = json::NewObject("policy/v1", "Eviction", "ns1", "p");
  EXPECT_EQ(
      client_.CreateSubresource(resources::Pods(), "ns1", "p", "eviction", body).status().code(),
      absl::StatusCode::kUnimplemented);
  client_.SetSubresourceHandler([](const Resource&, std::string_view, std::string_view name,
                                   std::string_view sub, const rapidjson::Value&) {
    return json::NewObject("v1", "Status", "", std::string(name) + "/" + std::string(sub));
  });
  absl::StatusOr<rapidjson::Document> r =
      client_.CreateSubresource(resources::Pods(), "ns1", "p", "eviction", body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::GetString(*r, {"metadata", "name"}), "p/eviction");
}

}  // namespace
}  // namespace labkube::kube::testing
