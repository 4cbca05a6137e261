#include "clients/cli/exit_codes.h"

#include "gtest/gtest.h"

namespace labkube::cli {
namespace {

TEST(ExitCodesTest, MapsErrorsToTheDocumentedCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(LocalError("cannot write")), 1);
  EXPECT_EQ(ExitCodeFor(UsageError("--size is required")), 2);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("name: bad")), 2);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("not logged in")), 3);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("not allowed")), 3);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("unknown machine type")), 2);
  EXPECT_EQ(ExitCodeFor(absl::AlreadyExistsError("workspace nb exists")), 2);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("storage in use")), 2);
  EXPECT_EQ(ExitCodeFor(absl::ResourceExhaustedError("no free slot")), 4);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("timed out")), 4);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("cannot reach")), 4);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("server bug")), 4);
}

}  // namespace
}  // namespace labkube::cli
