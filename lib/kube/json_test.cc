#include "lib/kube/json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labkube::kube::json {
namespace {

using ::testing::HasSubstr;

TEST(JsonTest, ParseAndToStringRoundTrip) {
  auto doc = Parse(R"({"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(ToString(*doc), R"({"a":1,"b":[true,null,"x"],"c":{"d":2.5}})");
}

TEST(JsonTest, ParseErrorNamesOffsetAndReason) {
  auto doc = Parse(R"({"a": 1,, "b": 2})");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(doc.status().message()), HasSubstr("offset 8"));
  EXPECT_THAT(std::string(doc.status().message()), HasSubstr("Missing a name for object member"));
  EXPECT_FALSE(Parse("").ok());
  EXPECT_FALSE(Parse("{} trailing").ok());
}

TEST(JsonTest, GettersTolerateMissingFields) {
  auto doc = Parse(R"({"metadata": {"name": "n", "generation": 7, "ok": true, "num": "3"},
                       "spec": 5})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(GetString(*doc, {"metadata", "name"}), "n");
  EXPECT_EQ(GetString(*doc, {"metadata", "missing"}), "");
  EXPECT_EQ(GetString(*doc, {"spec", "x"}), "");                          // spec is not an object
  EXPECT_EQ(FindString(*doc, {"metadata", "generation"}), std::nullopt);  // wrong type
  EXPECT_EQ(FindString(*doc, {"metadata", "name"}), "n");
  EXPECT_EQ(GetInt(*doc, {"metadata", "generation"}), 7);
  EXPECT_EQ(GetInt(*doc, {"metadata", "num"}, -1), -1);
  EXPECT_EQ(FindInt(*doc, {"nope"}), std::nullopt);
  EXPECT_TRUE(GetBool(*doc, {"metadata", "ok"}));
  EXPECT_FALSE(GetBool(*doc, {"metadata", "name"}));
  EXPECT_EQ(FindBool(*doc, {"x"}), std::nullopt);
  EXPECT_NE(Find(*doc, {"metadata"}), nullptr);
  EXPECT_EQ(Find(*doc, {"metadata", "name", "deeper"}), nullptr);
  EXPECT_EQ(Find(*doc, {}), &static_cast<const rapidjson::Value&>(*doc));
}

TEST(JsonTest, StringsWithEmbeddedNul) {
  auto doc = Parse(R"({"s": "a\u0000b"})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(GetString(*doc, {"s"}), std::string_view("a\0b", 3));
}

TEST(JsonTest, BuildObjects) {
  rapidjson::Document doc = NewObject("v1", "ConfigMap", "ns", "cm");
  SetString(doc, {"data", "key"}, "value");
  SetInt(doc, {"metadata", "generation"}, 3);
  SetBool(doc, {"immutable"}, false);
  SetString(doc, {"metadata", "name"}, "renamed");  // replaces
  EXPECT_EQ(ToString(doc),
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"renamed",)"
            R"("namespace":"ns","generation":3},"data":{"key":"value"},"immutable":false})");
  auto other = Parse(R"({"a":[1,2]})");
  ASSERT_TRUE(other.ok());
  SetValue(doc, {"spec", "copy"}, *other);
  EXPECT_EQ(GetString(doc, {"spec", "copy", "a"}), "");
  EXPECT_EQ(ToString(*Find(doc, {"spec", "copy"})), R"({"a":[1,2]})");
  // Replacing a non-object intermediate.
  SetString(doc, {"immutable", "x"}, "y");
  EXPECT_EQ(GetString(doc, {"immutable", "x"}), "y");
}

TEST(JsonTest, NewObjectLeavesOutEmpty) {
  EXPECT_EQ(ToString(NewObject("labkube.io/v1alpha1", "Machine", "", "m")),
            R"({"apiVersion":"labkube.io/v1alpha1","kind":"Machine","metadata":{"name":"m"}})");
}

TEST(JsonTest, CopyIsDeep) {
  rapidjson::Document a = NewObject("v1", "Pod", "ns", "p");
  rapidjson::Document b = Copy(a);
  SetString(a, {"metadata", "name"}, "changed");
  EXPECT_EQ(GetString(b, {"metadata", "name"}), "p");
}

}  // namespace
}  // namespace labkube::kube::json
