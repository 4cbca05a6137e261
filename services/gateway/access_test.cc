#include "services/gateway/access.h"

#include "gtest/gtest.h"
#include "services/gateway/testing/fakes.h"

namespace labkube::gateway {
namespace {

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reviewer_.Add("t-alice", Caller{"sa:alice", "alice", "lab-alice", false});
    reviewer_.Add("t-root", Caller{"sa:root", "root", "lab-root", true});
  }
  testing::FakeTokenReviewer reviewer_;
  Access access_{reviewer_, "lab-"};
};

TEST_F(AccessTest, MissingOrMalformedHeaderIsNotLoggedIn) {
  for (const char* header : {"", "Basic abc", "Bearer ", "t-alice"}) {
    absl::StatusOr<Caller> c = access_.Authenticate(header);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << header;
    EXPECT_NE(c.status().message().find("not logged in"), std::string::npos) << header;
    EXPECT_NE(c.status().message().find("labctl login"), std::string::npos) << header;
  }
}

TEST_F(AccessTest, BearerTokenIsReviewed) {
  absl::StatusOr<Caller> c = access_.Authenticate("Bearer t-alice");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->member, "alice");
  EXPECT_TRUE(access_.Authenticate("bearer   t-root ").ok());
  EXPECT_EQ(access_.Authenticate("Bearer nope").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AccessTest, OnlyAdminsActForOthers) {
  Caller alice = *access_.Authenticate("Bearer t-alice");
  Caller root = *access_.Authenticate("Bearer t-root");
  EXPECT_EQ(access_.Resolve(alice, "")->ns, "lab-alice");
  EXPECT_EQ(access_.Resolve(alice, "alice")->member, "alice");
  absl::StatusOr<Target> denied = access_.Resolve(alice, "bob");
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("not allowed"), std::string::npos);
  absl::StatusOr<Target> bob = access_.Resolve(root, "bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->ns, "lab-bob");
  EXPECT_EQ(access_.Resolve(root, "Bob!").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labkube::gateway
