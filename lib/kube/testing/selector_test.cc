#include "lib/kube/testing/selector.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::kube::testing {
namespace {

rapidjson::Document Pod() {
  return *json::Parse(R"({"metadata": {"name": "p1", "namespace": "ns1",
      "labels": {"app": "web", "tier": "front"}}, "spec": {"nodeName": "n1"},
      "status": {"phase": "Running"}})");
}

bool Labels(std::string_view selector) {
  absl::StatusOr<Selector> s = Selector::ParseLabels(selector);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() && s->Matches(Pod());
}

bool Fields(std::string_view selector) {
  absl::StatusOr<Selector> s = Selector::ParseFields(selector);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() && s->Matches(Pod());
}

TEST(SelectorTest, LabelRequirements) {
  EXPECT_TRUE(Labels(""));
  EXPECT_TRUE(Labels("app=web"));
  EXPECT_TRUE(Labels("app==web"));
  EXPECT_FALSE(Labels("app=db"));
  EXPECT_TRUE(Labels("app!=db"));
  EXPECT_TRUE(Labels("missing!=x"));
  EXPECT_TRUE(Labels("app"));
  EXPECT_FALSE(Labels("!app"));
  EXPECT_TRUE(Labels("!missing"));
  EXPECT_TRUE(Labels("app in (db, web)"));
  EXPECT_FALSE(Labels("app notin (db,web)"));
  EXPECT_TRUE(Labels("missing notin (db)"));
  EXPECT_TRUE(Labels("app in (web),tier=front"));
  EXPECT_FALSE(Labels("app in (web), tier=back"));
}

TEST(SelectorTest, FieldRequirements) {
  EXPECT_TRUE(Fields("metadata.name=p1"));
  EXPECT_TRUE(Fields("metadata.namespace==ns1,spec.nodeName=n1"));
  EXPECT_FALSE(Fields("status.phase=Pending"));
  EXPECT_TRUE(Fields("status.phase!=Pending"));
  EXPECT_TRUE(Fields("spec.missing="));
}

TEST(SelectorTest, RejectsMalformed) {
  EXPECT_FALSE(Selector::ParseLabels("app in web").ok());
  EXPECT_FALSE(Selector::ParseLabels("=web").ok());
  EXPECT_FALSE(Selector::ParseLabels("a b").ok());
  EXPECT_FALSE(Selector::ParseFields("metadata.name").ok());
}

}  // namespace
}  // namespace labkube::kube::testing
