// RestClient with a CustomResourceDefinition: create it, wait until Established, then CRUD,
// status subresource, patches and server-side apply on its objects.
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "lib/testing/wait_until.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace labkube::kube {
namespace {

using labkube::testing::WaitUntil;

const Resource kWidgets{"test.labkube.io", "v1", "widgets", "Widget", true};

// Left installed after the test (cluster-scoped, shared by runs; creating it is idempotent).
constexpr char kCrd[] = R"({
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.test.labkube.io"},
  "spec": {
    "group": "test.labkube.io", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
          "size": {"type": "integer"}, "color": {"type": "string"},
          "tags": {"type": "array", "items": {"type": "string"}}}},
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}
    }]
  }
})";

bool Established(const rapidjson::Value& crd) {
  const rapidjson::Value* conditions = json::Find(crd, {"status", "conditions"});
  if (conditions == nullptr || !conditions->IsArray()) return false;
  for (const auto& c : conditions->GetArray()) {
    if (json::GetString(c, {"type"}) == "Established" && json::GetString(c, {"status"}) == "True") {
      return true;
    }
  }
  return false;
}

class CrdTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    auto crd = json::Parse(kCrd);
    ASSERT_TRUE(crd.ok());
    auto created = client_->Create(resources::CustomResourceDefinitions(), "", *crd);
    ASSERT_TRUE(created.ok() || created.status().code() == absl::StatusCode::kAlreadyExists)
        << created.status();
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto got =
              client_->Get(resources::CustomResourceDefinitions(), "", "widgets.test.labkube.io");
          return got.ok() && Established(*got);
        },
        absl::Seconds(30)))
        << "CRD widgets.test.labkube.io not Established within 30 s";
    // Serving can trail the condition briefly: wait until a list works.
    ASSERT_TRUE(
        WaitUntil([&] { return client_->List(kWidgets, ns_, {}).ok(); }, absl::Seconds(30)));
  }

  rapidjson::Document Widget(const std::string& name, int size) {
    auto doc = json::Parse(absl::StrFormat(
        R"({"apiVersion":"test.labkube.io/v1","kind":"Widget","metadata":{"name":"%s"},)"
        R"("spec":{"size":%d,"color":"red","tags":["a"]}})",
        name, size));
    EXPECT_TRUE(doc.ok());
    return std::move(*doc);
  }
};

TEST_F(CrdTest, Crud) {
  auto created = client_->Create(kWidgets, ns_, Widget("w1", 1));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(json::GetString(*created, {"metadata", "namespace"}), ns_);

  auto got = client_->Get(kWidgets, ns_, "w1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(json::GetInt(*got, {"spec", "size"}), 1);

  json::SetInt(*got, {"spec", "size"}, 2);
  auto updated = client_->Update(kWidgets, ns_, "w1", *got);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(json::GetInt(*updated, {"spec", "size"}), 2);

  // The status subresource ignores spec changes and the main resource ignores status.
  json::SetBool(*updated, {"status", "ready"}, true);
  json::SetInt(*updated, {"spec", "size"}, 99);
  auto status = client_->Update(kWidgets, ns_, "w1", *updated, "status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(json::GetBool(*status, {"status", "ready"}));
  EXPECT_EQ(json::GetInt(*status, {"spec", "size"}), 2);

  ASSERT_TRUE(client_->Create(kWidgets, ns_, Widget("w2", 5)).ok());
  auto list = client_->List(kWidgets, ns_, {});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->items().Size(), 2u);
  auto all = client_->List(kWidgets, "", {});  // all namespaces
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_GE(all->items().Size(), 2u);

  ASSERT_TRUE(client_->Delete(kWidgets, ns_, "w1").ok());
  EXPECT_EQ(client_->Get(kWidgets, ns_, "w1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CrdTest, PatchesAndApply) {
  ASSERT_TRUE(client_->Create(kWidgets, ns_, Widget("p", 1)).ok());
  auto merged = client_->Patch(kWidgets, ns_, "p", PatchType::kMergePatch,
                               R"({"spec":{"color":"blue","tags":["x","y"]}})");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(json::GetString(*merged, {"spec", "color"}), "blue");
  EXPECT_EQ(json::Find(*merged, {"spec", "tags"})->Size(), 2u);

  auto patched = client_->Patch(kWidgets, ns_, "p", PatchType::kJsonPatch,
                                R"([{"op":"add","path":"/spec/tags/-","value":"z"}])");
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(json::Find(*patched, {"spec", "tags"})->Size(), 3u);

  // Custom resources have no strategic merge: the server answers 415.
  auto strategic =
      client_->Patch(kWidgets, ns_, "p", PatchType::kStrategicMergePatch, R"({"spec":{}})");
  EXPECT_EQ(strategic.status().code(), absl::StatusCode::kInvalidArgument) << strategic.status();

  PatchOptions apply;
  apply.field_manager = "labkube-test";
  apply.force = true;
  auto applied = client_->Patch(
      kWidgets, ns_, "p", PatchType::kApply,
      R"({"apiVersion":"test.labkube.io/v1","kind":"Widget","metadata":{"name":"p"},)"
      R"("spec":{"size":7}})",
      apply);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(json::GetInt(*applied, {"spec", "size"}), 7);
  EXPECT_EQ(json::GetString(*applied, {"spec", "color"}), "blue");  // not owned: kept

  apply.subresource = "status";
  auto status = client_->Patch(
      kWidgets, ns_, "p", PatchType::kApply,
      R"({"apiVersion":"test.labkube.io/v1","kind":"Widget","metadata":{"name":"p"},)"
      R"("status":{"ready":true}})",
      apply);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(json::GetBool(*status, {"status", "ready"}));
}

}  // namespace
}  // namespace labkube::kube
