#include "services/authenticator/lockout.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_clock.h"

namespace labkube::authenticator {
namespace {

class LockoutTest : public ::testing::Test {
 protected:
  labkube::testing::FakeClock clock_;
  Lockout lockout_{clock_, LockoutOptions{}};
};

TEST_F(LockoutTest, FiveFailuresForOneUserLockIt) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(lockout_.Check("alice", "10.0.0.1").ok());
    lockout_.RecordFailure("alice", absl::StrCat("10.0.0.", i));  // different peers
    clock_.Advance(absl::Seconds(10));
  }
  ASSERT_TRUE(lockout_.Check("alice", "10.0.0.9").ok());
  lockout_.RecordFailure("alice", "10.0.0.9");
  absl::Status s = lockout_.Check("alice", "10.0.0.20");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("user"), absl::string_view::npos);
  // The first failure was 40 s before the last: it ages out 5 min after it happened.
  EXPECT_EQ(RetryAfter(s), absl::Seconds(260));
  EXPECT_NE(s.message().find("260 s"), absl::string_view::npos);
  // Other users from a clean peer are unaffected.
  EXPECT_TRUE(lockout_.Check("bob", "10.0.0.20").ok());
}

TEST_F(LockoutTest, LockLiftsWhenFailuresAgeOut) {
  for (int i = 0; i < 5; ++i) lockout_.RecordFailure("alice", "");
  EXPECT_FALSE(lockout_.Check("alice", "").ok());
  clock_.Advance(absl::Minutes(5) - absl::Seconds(1));
  EXPECT_FALSE(lockout_.Check("alice", "").ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(lockout_.Check("alice", "").ok());
}

TEST_F(LockoutTest, OnePeerGuessingManyUsersIsLocked) {
  for (int i = 0; i < 5; ++i) lockout_.RecordFailure(absl::StrCat("user", i), "10.1.1.1");
  absl::Status s = lockout_.Check("someone", "10.1.1.1");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("client"), absl::string_view::npos);
  EXPECT_TRUE(lockout_.Check("someone", "10.1.1.2").ok());
}

TEST_F(LockoutTest, SuccessClearsTheUserButNotThePeer) {
  for (int i = 0; i < 4; ++i) lockout_.RecordFailure("alice", "10.1.1.1");
  lockout_.RecordSuccess("alice");
  lockout_.RecordFailure("alice", "10.1.1.1");
  EXPECT_TRUE(lockout_.Check("alice", "10.9.9.9").ok());
  EXPECT_FALSE(lockout_.Check("bob", "10.1.1.1").ok());
}

TEST_F(LockoutTest, FailuresOutsideTheWindowDoNotCount) {
  for (int i = 0; i < 10; ++i) {
    lockout_.RecordFailure("alice", "");
    clock_.Advance(absl::Seconds(61));  // never 5 within 5 minutes
  }
  EXPECT_TRUE(lockout_.Check("alice", "").ok());
}

TEST_F(LockoutTest, SweepsStaleKeys) {
  Lockout small(clock_,
                LockoutOptions{.max_failures = 5, .window = absl::Minutes(1), .max_keys = 10});
  for (int i = 0; i < 10; ++i) small.RecordFailure(absl::StrCat("u", i), "");
  clock_.Advance(absl::Minutes(2));
  small.RecordFailure("fresh", "");
  EXPECT_EQ(small.TrackedKeys(), 1u);
}

TEST(PeerAddressTest, StripsPortAndScheme) {
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.1:5678"), "10.0.0.1");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:5678"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:%5B::1%5D:5678"), "::1");
  EXPECT_EQ(PeerAddress("unix:/tmp/sock"), "unix:/tmp/sock");
}

TEST(RetryAfterTest, OnlyForLockoutStatuses) {
  EXPECT_FALSE(RetryAfter(absl::ResourceExhaustedError("x")).has_value());
  EXPECT_FALSE(RetryAfter(absl::OkStatus()).has_value());
}

}  // namespace
}  // namespace labkube::authenticator
