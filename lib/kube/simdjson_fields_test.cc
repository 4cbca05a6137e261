#include "lib/kube/simdjson_fields.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace labkube::kube::sj {
namespace {

const At kRoot{nullptr, ""};
const At kSpec{&kRoot, "spec"};

// Runs `read(value, at)` on the value of "v" in {"v": <value_json>}.
template <typename Read>
absl::Status ReadValue(const std::string& value_json, Read read) {
  simdjson::padded_string text(absl::StrCat(R"({"v":)", value_json, "}"));
  od::parser parser;
  od::document doc;
  if (simdjson::error_code e = parser.iterate(text).get(doc)) return JsonError(e);
  od::object object;
  if (simdjson::error_code e = doc.get_object().get(object)) return JsonError(e);
  constexpr std::string_view kKeys[] = {"v"};
  return Fields(object, kKeys,
                [&](int, std::string_view key, od::value& v) { return read(v, key); });
}

TEST(SimdjsonFieldsTest, PathsAsTypesCc) {
  At list{&kSpec, "containers"};
  At item{&list, {}, 1};
  At resources{&item, "resources"};
  EXPECT_EQ(resources.str(), "spec.containers[1].resources");
  EXPECT_EQ(Bad(kRoot, "metadata", "an object").message(), "metadata: must be an object");
  EXPECT_EQ(Bad(resources, "requests", "an object").message(),
            "spec.containers[1].resources.requests: must be an object");
}

TEST(SimdjsonFieldsTest, FirstErrorKeepsTheLowestRankUnlessJsonIsBad) {
  FirstError first;
  EXPECT_TRUE(first.Add(5, absl::InvalidArgumentError("five")));
  EXPECT_TRUE(first.Add(2, absl::InvalidArgumentError("two")));
  EXPECT_TRUE(first.Add(3, absl::InvalidArgumentError("three")));
  EXPECT_TRUE(first.Add(0, absl::OkStatus()));
  EXPECT_EQ(std::move(first).status().message(), "two");
  FirstError bad;
  EXPECT_TRUE(bad.Add(1, absl::InvalidArgumentError("one")));
  EXPECT_FALSE(bad.Add(4, JsonError(simdjson::TAPE_ERROR)));
  EXPECT_TRUE(IsJsonError(std::move(bad).status()));
}

std::string IntResult(const std::string& value) {
  std::optional<int64_t> out;
  absl::Status s =
      ReadValue(value, [&](od::value& v, std::string_view key) { return Int(v, kSpec, key, out); });
  if (IsJsonError(s)) return "json error";
  if (!s.ok()) return std::string(s.message());
  return out ? std::to_string(*out) : "absent";
}

TEST(SimdjsonFieldsTest, IntegersAsRapidJsonIsInt64) {
  EXPECT_EQ(IntResult("null"), "absent");
  EXPECT_EQ(IntResult("-0"), "0");
  EXPECT_EQ(IntResult("-9223372036854775808"), "-9223372036854775808");
  for (const char* not_int : {"1.0", "1e2", "9223372036854775808", "-9223372036854775809",
                              "18446744073709551616", R"("1")", "true", "[]", "{}"}) {
    EXPECT_EQ(IntResult(not_int), "spec.v: must be an integer") << not_int;
  }
  for (const char* malformed : {"1.5.5", "12abc", "-", "1e400", "nul"}) {
    EXPECT_EQ(IntResult(malformed), "json error") << malformed;
  }
}

std::string MapResult(const std::string& value, bool numbers_ok) {
  StringMap out;
  absl::Status s = ReadValue(value, [&](od::value& v, std::string_view key) {
    return Map(v, kSpec, key, out, numbers_ok);
  });
  if (!s.ok()) return std::string(s.message());
  std::string text;
  for (const auto& [k, v] : out) absl::StrAppend(&text, k, "=", v, ";");
  return text;
}

TEST(SimdjsonFieldsTest, MapsAsTypesCc) {
  EXPECT_EQ(MapResult(R"({"b":"1","a":"2","b":"3"})", false), "a=2;b=1;");
  EXPECT_EQ(MapResult(R"({"a":1})", false), "spec.v.a: must be a string");
  EXPECT_EQ(MapResult(R"({"cpu":true})", true), "spec.v.cpu: must be a quantity");
  EXPECT_EQ(MapResult(R"({"a":1,"b":1.5,"c":1e2,"d":-0,"e":18446744073709551615})", true),
            "a=1;b=1.5;c=100;d=0;e=1.84467e+19;");
  EXPECT_EQ(MapResult(R"({"k\u0065y\n":"v\"\u00e9"})", false), "key\n=v\"\xc3\xa9;");
  EXPECT_EQ(MapResult("[]", false), "spec.v: must be an object");
  EXPECT_EQ(MapResult("null", false), "");
}

TEST(SimdjsonFieldsTest, StringsBoolsTimesLists) {
  std::string str = "kept";
  EXPECT_TRUE(ReadValue("null", [&](od::value& v, std::string_view k) {
                return Str(v, kSpec, k, str);
              }).ok());
  EXPECT_EQ(str, "kept");
  EXPECT_EQ(ReadValue("1", [&](od::value& v, std::string_view k) { return Str(v, kSpec, k, str); })
                .message(),
            "spec.v: must be a string");
  bool b = false;
  EXPECT_TRUE(ReadValue("true", [&](od::value& v, std::string_view k) {
                return Bool(v, kSpec, k, b);
              }).ok());
  EXPECT_TRUE(b);
  absl::Time t;
  bool present;
  EXPECT_TRUE(ReadValue(R"("2024-05-01T10:00:00Z")", [&](od::value& v, std::string_view k) {
                return Time(v, kSpec, k, t, present);
              }).ok());
  EXPECT_EQ(t, absl::FromUnixSeconds(1714557600));
  std::vector<std::string> list;
  EXPECT_EQ(ReadValue(R"(["a",2])",
                      [&](od::value& v, std::string_view k) { return StrList(v, kSpec, k, list); })
                .message(),
            "spec.v: must be a list of strings");
  bool non_empty = true;
  EXPECT_TRUE(ReadValue("{}", [&](od::value& v, std::string_view k) {
                return NonEmptyObject(v, kSpec, k, non_empty);
              }).ok());
  EXPECT_FALSE(non_empty);
}

}  // namespace
}  // namespace labkube::kube::sj
