#include "lib/status_macros.h"

#include <string>

#include "gtest/gtest.h"

namespace labkube {
namespace {

absl::Status FailIf(bool fail) {
  return fail ? absl::NotFoundError("missing") : absl::OkStatus();
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status Chain(bool fail) {
  LK_RETURN_IF_ERROR(FailIf(fail));
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int x) {
  LK_ASSIGN_OR_RETURN(int half, Half(x));
  LK_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusMacrosTest, ReturnIfErrorPassesErrorsThrough) {
  EXPECT_TRUE(Chain(false).ok());
  EXPECT_EQ(Chain(true).code(), absl::StatusCode::kNotFound);
}

TEST(StatusMacrosTest, AssignOrReturnUnwrapsOrReturns) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

}  // namespace
}  // namespace labkube
