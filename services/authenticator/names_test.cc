#include "services/authenticator/names.h"

#include "gtest/gtest.h"

namespace labkube::authenticator {
namespace {

TEST(NamesTest, DnsLabels) {
  EXPECT_TRUE(IsDnsLabel("alice"));
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("bob-2"));
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(IsDnsLabel(""));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsLabel("Alice"));
  EXPECT_FALSE(IsDnsLabel("-alice"));
  EXPECT_FALSE(IsDnsLabel("alice-"));
  EXPECT_FALSE(IsDnsLabel("al.ice"));
  EXPECT_FALSE(IsDnsLabel("al_ice"));
  EXPECT_FALSE(IsDnsLabel("al ice"));
}

TEST(NamesTest, DnsSubdomains) {
  EXPECT_TRUE(IsDnsSubdomain("ci-bot"));
  EXPECT_TRUE(IsDnsSubdomain("ci.bot-1"));
  EXPECT_FALSE(IsDnsSubdomain(""));
  EXPECT_FALSE(IsDnsSubdomain("ci..bot"));
  EXPECT_FALSE(IsDnsSubdomain(".ci"));
  EXPECT_FALSE(IsDnsSubdomain("ci."));
  EXPECT_FALSE(IsDnsSubdomain("CI"));
  EXPECT_FALSE(IsDnsSubdomain(std::string(254, 'a')));
}

TEST(NamesTest, ServiceAccountUsers) {
  auto sa = ParseServiceAccountUser("system:serviceaccount:lab-alice:alice");
  ASSERT_TRUE(sa.has_value());
  EXPECT_EQ(sa->ns, "lab-alice");
  EXPECT_EQ(sa->name, "alice");
  EXPECT_FALSE(ParseServiceAccountUser("alice").has_value());
  EXPECT_FALSE(ParseServiceAccountUser("system:serviceaccount:ns").has_value());
  EXPECT_FALSE(ParseServiceAccountUser("system:serviceaccount:ns:a:b").has_value());
  EXPECT_FALSE(ParseServiceAccountUser("system:serviceaccounts:ns:a").has_value());
}

TEST(NamesTest, MemberOfUser) {
  EXPECT_EQ(MemberOfUser("lab-", "system:serviceaccount:lab-alice:alice"), "alice");
  EXPECT_EQ(MemberOfUser("u-", "system:serviceaccount:u-bob:bob"), "bob");
  // The ServiceAccount must be the member's own, in the member's own namespace.
  EXPECT_FALSE(MemberOfUser("lab-", "system:serviceaccount:lab-alice:default").has_value());
  EXPECT_FALSE(MemberOfUser("lab-", "system:serviceaccount:lab-bob:alice").has_value());
  EXPECT_FALSE(MemberOfUser("lab-", "system:serviceaccount:kube-system:alice").has_value());
  EXPECT_FALSE(MemberOfUser("lab-", "kubernetes-admin").has_value());
}

}  // namespace
}  // namespace labkube::authenticator
