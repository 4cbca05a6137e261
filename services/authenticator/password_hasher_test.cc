#include "services/authenticator/password_hasher.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace labkube::authenticator {
namespace {

std::unique_ptr<PasswordHasher> NewHasher(const std::string& algorithm, unsigned long cost) {
  auto h = PasswordHasher::Create({.algorithm = algorithm, .cost = cost, .max_concurrent = 2});
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? std::move(*h) : nullptr;
}

TEST(PasswordHasherTest, YescryptRoundTrip) {
  auto h = NewHasher("yescrypt", 1);  // cheapest cost keeps the test fast
  auto hash = h->Hash("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(hash->rfind("$y$", 0), 0u);
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(PasswordHasher::LooksLikeHash(*hash));
  EXPECT_TRUE(h->Verify("correct horse", *hash));
  EXPECT_FALSE(h->Verify("correct horsf", *hash));
  EXPECT_FALSE(h->Verify("", *hash));
}

TEST(PasswordHasherTest, BcryptRoundTripAndCrossVerify) {
  auto bcrypt = NewHasher("bcrypt", 4);
  auto yescrypt = NewHasher("yescrypt", 1);
  auto hash = bcrypt->Hash("s3cret");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(hash->rfind("$2b$04$", 0), 0u);
  EXPECT_TRUE(bcrypt->Verify("s3cret", *hash));
  // Any supported hash verifies, whatever the hasher's own algorithm is.
  EXPECT_TRUE(yescrypt->Verify("s3cret", *hash));
  EXPECT_FALSE(yescrypt->Verify("S3cret", *hash));
  EXPECT_EQ(bcrypt->Hash(std::string(73, 'x')).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(yescrypt->Hash(std::string(500, 'x')).ok());
}

TEST(PasswordHasherTest, SaltsDiffer) {
  auto h = NewHasher("yescrypt", 1);
  EXPECT_NE(*h->Hash("same"), *h->Hash("same"));
}

TEST(PasswordHasherTest, RejectsBadInputAndSettings) {
  auto h = NewHasher("yescrypt", 1);
  EXPECT_EQ(h->Hash(std::string("a\0b", 3)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(h->Verify("x", "plaintext"));
  EXPECT_FALSE(h->Verify("x", ""));
  EXPECT_FALSE(h->VerifyDummy("x"));
  EXPECT_FALSE(PasswordHasher::LooksLikeHash("hunter2"));
  EXPECT_EQ(PasswordHasher::Create({.algorithm = "md5"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PasswordHasher::Create({.algorithm = "bcrypt", .cost = 99}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PasswordHasher::Create({.algorithm = "yescrypt", .cost = 1, .max_concurrent = 0})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PasswordHasherTest, ConcurrentUseIsSafe) {
  auto h = NewHasher("yescrypt", 1);
  auto hash = h->Hash("pw");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (h->Verify("pw", *hash)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
}

}  // namespace
}  // namespace labkube::authenticator
