#include "lib/names.h"

#include <string>

#include "gtest/gtest.h"

namespace labkube::names {
namespace {

TEST(NamesTest, DnsLabels) {
  EXPECT_TRUE(IsDnsLabel("alice"));
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("a-1"));
  EXPECT_TRUE(IsDnsLabel("bob-2"));
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(IsDnsLabel(""));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsLabel("Alice"));
  EXPECT_FALSE(IsDnsLabel("My_WS"));
  EXPECT_FALSE(IsDnsLabel("-alice"));
  EXPECT_FALSE(IsDnsLabel("alice-"));
  EXPECT_FALSE(IsDnsLabel("al.ice"));
  EXPECT_FALSE(IsDnsLabel("al_ice"));
  EXPECT_FALSE(IsDnsLabel("al ice"));
}

TEST(NamesTest, DnsSubdomains) {
  EXPECT_TRUE(IsDnsSubdomain("ci-bot"));
  EXPECT_TRUE(IsDnsSubdomain("ci.bot-1"));
  EXPECT_TRUE(IsDnsSubdomain("regcred.example"));
  EXPECT_TRUE(IsDnsSubdomain(std::string(63, 'a') + "." + std::string(63, 'b')));
  EXPECT_FALSE(IsDnsSubdomain(""));
  EXPECT_FALSE(IsDnsSubdomain("ci..bot"));
  EXPECT_FALSE(IsDnsSubdomain(".ci"));
  EXPECT_FALSE(IsDnsSubdomain("ci."));
  EXPECT_FALSE(IsDnsSubdomain("CI"));
  EXPECT_FALSE(IsDnsSubdomain(std::string(64, 'a') + ".b"));
  EXPECT_FALSE(IsDnsSubdomain(std::string(254, 'a')));
}

TEST(NamesTest, CheckDnsLabelNamesTheField) {
  absl::Status s = CheckDnsLabel("name", "My_WS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "name: \"My_WS\" is not a DNS label (lower-case letters, digits and '-', starting and "
            "ending with a letter or digit)");
  EXPECT_EQ(CheckDnsLabel("name", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDnsLabel("name", "").message(), "name is required");
  EXPECT_EQ(CheckDnsLabel("name", std::string(41, 'a'), 40).message(),
            "name: longer than 40 characters");
  EXPECT_EQ(CheckDnsLabel("member", std::string(64, 'a')).message(),
            "member: longer than 63 characters");
  EXPECT_TRUE(CheckDnsLabel("name", "ok-1").ok());
  EXPECT_TRUE(CheckDnsLabel("name", std::string(40, 'a'), 40).ok());
}

TEST(NamesTest, CheckLength) {
  EXPECT_TRUE(CheckLength("image", "", 3).ok());
  EXPECT_TRUE(CheckLength("image", "abc", 3).ok());
  absl::Status s = CheckLength("image", "abcd", 3);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "image: longer than 3 characters");
}

TEST(NamesTest, MemberNamespace) {
  EXPECT_EQ(MemberNamespace("lab-", "bob"), "lab-bob");
  EXPECT_EQ(MemberNamespace("", "bob"), "bob");
}

TEST(NamesTest, ServiceAccountUsers) {
  auto sa = ParseServiceAccountUser("system:serviceaccount:lab-alice:alice");
  ASSERT_TRUE(sa.has_value());
  EXPECT_EQ(sa->ns, "lab-alice");
  EXPECT_EQ(sa->name, "alice");
  EXPECT_FALSE(ParseServiceAccountUser("alice").has_value());
  EXPECT_FALSE(ParseServiceAccountUser("system:serviceaccount:ns").has_value());
  EXPECT_FALSE(ParseServiceAccountUser("system:serviceaccount::a").has_value());
  EXPECT_FALSE(ParseServiceAccountUser("system:serviceaccount:ns:").has_value());
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
  EXPECT_FALSE(MemberOfUser("lab-", "system:serviceaccount:lab-Alice:Alice").has_value());
  EXPECT_FALSE(MemberOfUser("lab-", "kubernetes-admin").has_value());
}

}  // namespace
}  // namespace labkube::names
