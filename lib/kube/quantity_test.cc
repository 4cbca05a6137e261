#include "lib/kube/quantity.h"

#include "gtest/gtest.h"

namespace labkube::kube {
namespace {

TEST(QuantityTest, CpuInMillicores) {
  EXPECT_EQ(*ParseQuantityMilli("8"), 8000);
  EXPECT_EQ(*ParseQuantityMilli("8000m"), 8000);
  EXPECT_EQ(*ParseQuantityMilli("1.5"), 1500);
  EXPECT_EQ(*ParseQuantityMilli("0.1"), 100);
  EXPECT_EQ(*ParseQuantityMilli("100u"), 1);  // rounded up
  EXPECT_EQ(*ParseQuantityMilli("1e3"), 1000000);
}

TEST(QuantityTest, MemoryInBytes) {
  EXPECT_EQ(*ParseQuantity("32Gi"), int64_t{32} << 30);
  EXPECT_EQ(*ParseQuantity("128974848"), 128974848);
  EXPECT_EQ(*ParseQuantity("129M"), 129000000);
  EXPECT_EQ(*ParseQuantity("123Mi"), 123 * (int64_t{1} << 20));
  EXPECT_EQ(*ParseQuantity("1.5Gi"), int64_t{3} << 29);
  EXPECT_EQ(*ParseQuantity("2"), 2);
  EXPECT_EQ(*ParseQuantity("500m"), 1);  // half a byte rounds up
  EXPECT_EQ(*ParseQuantity("1k"), 1000);
}

TEST(QuantityTest, InvalidQuantitiesNameTheText) {
  for (const char* bad : {"", "abc", "12Q", "1..2", "-1", "1e", "99999999999Ei", "Gi"}) {
    auto q = ParseQuantity(bad);
    EXPECT_FALSE(q.ok()) << bad;
    EXPECT_NE(std::string(q.status().message()).find("invalid quantity"), std::string::npos);
  }
}

TEST(QuantityTest, JsonNumbersAndStrings) {
  rapidjson::Value n(4);
  EXPECT_EQ(*QuantityMilli(n), 4000);
  rapidjson::Value s("16Gi");
  EXPECT_EQ(*QuantityValue(s), int64_t{16} << 30);
  rapidjson::Value b(true);
  EXPECT_FALSE(QuantityValue(b).ok());
}

}  // namespace
}  // namespace labkube::kube

// Found by tools/fuzz.sh machine: digits above INT64_MAX that need no scaling wrapped negative.
namespace labkube::kube {
namespace {
TEST(QuantityRegressionTest, HugeUnscaledNumbersAreTooLargeNotNegative) {
  for (const char* text : {"10000000000000000000", "9223372036854775808"}) {
    absl::StatusOr<int64_t> v = ParseQuantity(text);
    EXPECT_FALSE(v.ok()) << text << " = " << v.value_or(0);
  }
  EXPECT_FALSE(ParseQuantityMilli("9223372036854775808m").ok());
  EXPECT_EQ(ParseQuantity("9223372036854775807").value_or(-1), INT64_MAX);
}
}  // namespace
}  // namespace labkube::kube
