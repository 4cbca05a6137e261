#include "clients/cli/output.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::cli {
namespace {

rapidjson::Document J(const std::string& text) {
  return std::move(kube::json::Parse(text)).value();
}

TEST(OutputTest, ParseFormat) {
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseFormat("yaml"), Format::kYaml);
  EXPECT_EQ(*ParseFormat("table"), Format::kTable);
  EXPECT_EQ(ParseFormat("xml").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OutputTest, TableAlignsColumns) {
  rapidjson::Document items = J(R"([{"name":"nb","phase":"running","n":1},
                                    {"name":"long-name","phase":"waiting","n":22}])");
  std::vector<Column> columns = {
      {"NAME", "name"}, {"PHASE", "phase"}, {"N+1", "", [](const rapidjson::Value& v) {
                                               return std::to_string(v["n"].GetInt() + 1);
                                             }}};
  EXPECT_EQ(RenderList(items, columns, Format::kTable),
            "NAME       PHASE    N+1\n"
            "nb         running  2\n"
            "long-name  waiting  23\n");
  rapidjson::Document empty = J("[]");
  EXPECT_EQ(RenderList(empty, columns, Format::kTable, "Nothing."), "Nothing.\n");
  EXPECT_EQ(RenderList(empty, columns, Format::kJson), "[]\n");
  EXPECT_EQ(RenderList(empty, columns, Format::kYaml), "[]\n");
}

TEST(OutputTest, JsonAndYaml) {
  rapidjson::Document items = J(R"([{"name":"nb","free":1,"ok":true,"tags":["a"]}])");
  EXPECT_EQ(RenderList(items, {}, Format::kJson),
            "[\n  {\n    \"name\": \"nb\",\n    \"free\": 1,\n    \"ok\": true,\n    \"tags\": [\n"
            "      \"a\"\n    ]\n  }\n]\n");
  EXPECT_EQ(RenderList(items, {}, Format::kYaml),
            "- name: nb\n  free: 1\n  ok: true\n  tags:\n    - a\n");
  rapidjson::Document tricky = J(R"({"v":"yes","n":"007"})");
  std::string yaml = RenderObject(tricky, Format::kYaml);
  EXPECT_NE(yaml.find("\"yes\""), std::string::npos) << yaml;
}

TEST(OutputTest, ObjectAsKeyValueLines) {
  rapidjson::Document obj = J(R"({"name":"nb","volumes":["a","b"],"admin":false})");
  EXPECT_EQ(RenderObject(obj, Format::kTable), "name:    nb\nvolumes: a, b\nadmin:   false\n");
}

TEST(OutputTest, Durations) {
  EXPECT_EQ(HumanDuration(absl::Seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(absl::Minutes(12)), "12m");
  EXPECT_EQ(HumanDuration(absl::Hours(5)), "5h");
  EXPECT_EQ(HumanDuration(absl::Hours(72)), "3d");
  EXPECT_EQ(Rfc3339(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace labkube::cli

namespace labkube::cli {
namespace {

TEST(OutputTest, YamlQuotingAndEmptyCollections) {
  rapidjson::Document obj = J(R"({"url":"https://x/a/","image":"q.io/i:1","empty":[],"m":{},
                                  "s":"a: b","r":""})");
  EXPECT_EQ(RenderObject(obj, Format::kYaml),
            "url: https://x/a/\nimage: q.io/i:1\nempty: []\nm: {}\ns: \"a: b\"\nr: \"\"\n");
}

}  // namespace
}  // namespace labkube::cli
