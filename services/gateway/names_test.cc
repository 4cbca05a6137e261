#include "services/gateway/names.h"

#include "gtest/gtest.h"

namespace labkube::gateway {
namespace {

TEST(NamesTest, ParseSize) {
  EXPECT_EQ(*ParseSize("size", "10Gi"), int64_t{10} << 30);
  absl::StatusOr<int64_t> bad = ParseSize("size", "ten gigs");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("size: \"ten gigs\" is not a size"), std::string::npos);
  EXPECT_EQ(ParseSize("size", "").status().message(), "size is required (e.g. 10Gi)");
  EXPECT_FALSE(ParseSize("size", "1").ok());      // below 1Mi
  EXPECT_FALSE(ParseSize("size", "100Pi").ok());  // above 1Pi
}

TEST(NamesTest, ExpandPatternAndSelector) {
  EXPECT_EQ(ExpandPattern("/{member}/{workspace}/", "alice", "nb", "lab-alice"), "/alice/nb/");
  EXPECT_EQ(ExpandPattern("{workspace}-{member}.lab.org", "a", "w", "n"), "w-a.lab.org");
  EXPECT_EQ(Selector({{"b", "2"}, {"a", "1"}}), "a=1,b=2");
}

TEST(NamesTest, KubeErrorRewordsRbacProblems) {
  absl::Status s = KubeError(absl::PermissionDeniedError("forbidden"), "create PVC", "lab-a");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("namespace lab-a"), std::string::npos);
  EXPECT_EQ(KubeError(absl::UnavailableError("down"), "x", "n").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(KubeError(absl::OkStatus(), "x", "n").ok());
}

TEST(NamesTest, ParseTimeAndQuote) {
  ASSERT_TRUE(ParseTime("2024-05-01T03:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("").has_value());
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_EQ(JsonQuote("a\"b"), "\"a\\\"b\"");
}

}  // namespace
}  // namespace labkube::gateway
