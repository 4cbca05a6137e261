#include "lib/kube/testing/patch.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::kube::testing {
namespace {

rapidjson::Document Doc(std::string_view text) {
  absl::StatusOr<rapidjson::Document> doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return std::move(doc).value();
}

std::string Merge(std::string_view target, std::string_view patch) {
  rapidjson::Document doc = Doc(target);
  ApplyMergePatch(doc, Doc(patch));
  return json::ToString(doc);
}

TEST(MergePatchTest, Rfc7386Examples) {
  EXPECT_EQ(Merge(R"({"a":"b"})", R"({"a":"c"})"), R"({"a":"c"})");
  EXPECT_EQ(Merge(R"({"a":"b"})", R"({"b":"c"})"), R"({"a":"b","b":"c"})");
  EXPECT_EQ(Merge(R"({"a":"b"})", R"({"a":null})"), R"({})");
  EXPECT_EQ(Merge(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"), R"({"a":{"b":"d"}})");
  EXPECT_EQ(Merge(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"), R"({"a":[1]})");
  EXPECT_EQ(Merge(R"(["a","b"])", R"({"a":"b"})"), R"({"a":"b"})");
  EXPECT_EQ(Merge(R"({"e":null})", R"({"a":1})"), R"({"e":null,"a":1})");
  EXPECT_EQ(Merge(R"({})", R"({"a":{"bb":{"ccc":null}}})"), R"({"a":{"bb":{}}})");
}

absl::StatusOr<std::string> Json(std::string_view target, std::string_view patch) {
  rapidjson::Document doc = Doc(target);
  absl::Status s = ApplyJsonPatch(doc, Doc(patch));
  if (!s.ok()) return s;
  return json::ToString(doc);
}

TEST(JsonPatchTest, Operations) {
  EXPECT_EQ(*Json(R"({"a":1})", R"([{"op":"add","path":"/b","value":{"c":2}}])"),
            R"({"a":1,"b":{"c":2}})");
  EXPECT_EQ(*Json(R"({"a":[1,3]})", R"([{"op":"add","path":"/a/1","value":2}])"),
            R"({"a":[1,2,3]})");
  EXPECT_EQ(*Json(R"({"a":[1]})", R"([{"op":"add","path":"/a/-","value":2}])"), R"({"a":[1,2]})");
  EXPECT_EQ(*Json(R"({"a":[1,2],"b":1})",
                  R"([{"op":"remove","path":"/a/0"},{"op":"remove","path":"/b"}])"),
            R"({"a":[2]})");
  EXPECT_EQ(*Json(R"({"a":1})", R"([{"op":"test","path":"/a","value":1},
                                   {"op":"replace","path":"/a","value":5}])"),
            R"({"a":5})");
  EXPECT_EQ(
      *Json(R"({"m":{"a/b":1,"c~d":2}})",
            R"([{"op":"remove","path":"/m/a~1b"},{"op":"replace","path":"/m/c~0d","value":3}])"),
      R"({"m":{"c~d":3}})");
  EXPECT_EQ(*Json(R"({"a":1})", R"([{"op":"copy","from":"/a","path":"/b"},
                                   {"op":"move","from":"/a","path":"/c"}])"),
            R"({"b":1,"c":1})");
}

TEST(JsonPatchTest, ErrorsLeaveTargetUnchanged) {
  rapidjson::Document doc = Doc(R"({"a":1})");
  absl::Status s = ApplyJsonPatch(doc, Doc(R"([{"op":"replace","path":"/a","value":2},
                                               {"op":"test","path":"/a","value":1}])"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(json::ToString(doc), R"({"a":1})");
  EXPECT_FALSE(Json(R"({"a":1})", R"([{"op":"remove","path":"/b"}])").ok());
  EXPECT_FALSE(Json(R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])").ok());
  EXPECT_FALSE(Json(R"({"a":[]})", R"([{"op":"add","path":"/a/3","value":1}])").ok());
  EXPECT_FALSE(Json(R"({"a":1})", R"([{"op":"frobnicate","path":"/a"}])").ok());
  EXPECT_FALSE(Json(R"({"a":1})", R"({"op":"add"})").ok());
}

}  // namespace
}  // namespace labkube::kube::testing
