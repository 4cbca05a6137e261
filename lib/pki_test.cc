#include "lib/pki.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace labkube::pki {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

CertSpec Spec(const std::string& cn) {
  return {cn, {cn + ".labkube-system.svc", cn + ".labkube-system.svc.cluster.local"},
          {"127.0.0.1"}, kNow - absl::Hours(1), kNow + absl::Hours(24 * 90)};
}

TEST(PkiTest, TheCaIssuesServiceCertificates) {
  absl::StatusOr<KeyPair> ca = NewCa("labkube-ca", kNow - absl::Hours(1), kNow + absl::Hours(24 * 3650));
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_TRUE(KeyMatches(*ca));
  absl::StatusOr<CertInfo> ca_info = Inspect(ca->cert_pem);
  ASSERT_TRUE(ca_info.ok());
  EXPECT_TRUE(ca_info->is_ca);
  EXPECT_EQ(ca_info->common_name, "labkube-ca");

  absl::StatusOr<KeyPair> leaf = Issue(*ca, Spec("labkube-injector"));
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_TRUE(KeyMatches(*leaf));
  EXPECT_TRUE(SignedBy(leaf->cert_pem, ca->cert_pem));
  absl::StatusOr<CertInfo> info = Inspect(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->common_name, "labkube-injector");
  EXPECT_EQ(info->dns_names,
            (std::vector<std::string>{"labkube-injector.labkube-system.svc",
                                      "labkube-injector.labkube-system.svc.cluster.local"}));
  EXPECT_EQ(info->ip_addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(info->not_after, kNow + absl::Hours(24 * 90));
  EXPECT_EQ(info->not_before, kNow - absl::Hours(1));
}

TEST(PkiTest, AnotherCaOrAnotherKeyIsNoticed) {
  auto ca = NewCa("a", kNow, kNow + absl::Hours(1));
  auto other = NewCa("b", kNow, kNow + absl::Hours(1));
  ASSERT_TRUE(ca.ok() && other.ok());
  auto leaf = Issue(*ca, Spec("x"));
  ASSERT_TRUE(leaf.ok());
  EXPECT_FALSE(SignedBy(leaf->cert_pem, other->cert_pem));
  EXPECT_FALSE(KeyMatches({leaf->cert_pem, other->key_pem}));
  EXPECT_FALSE(SignedBy("garbage", ca->cert_pem));
}

TEST(PkiTest, BadInputIsAnErrorNotACrash) {
  auto ca = NewCa("a", kNow, kNow + absl::Hours(1));
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(Issue({"x", "y"}, Spec("x")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Issue({ca->cert_pem, Issue(*ca, Spec("k"))->key_pem}, Spec("x")).status().code(),
            absl::StatusCode::kInvalidArgument);
  CertSpec no_names = Spec("x");
  no_names.dns_names.clear();
  no_names.ip_addresses.clear();
  EXPECT_EQ(Issue(*ca, no_names).status().code(), absl::StatusCode::kInvalidArgument);
  CertSpec bad_name = Spec("x");
  bad_name.dns_names = {"has space,DNS:evil"};
  absl::StatusOr<KeyPair> smuggled = Issue(*ca, bad_name);
  EXPECT_EQ(smuggled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(smuggled.status().message().find("not a DNS name"), std::string::npos);
  CertSpec bad_ip = Spec("x");
  bad_ip.ip_addresses = {"300.1.1.1"};
  EXPECT_EQ(Issue(*ca, bad_ip).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewCa("", kNow, kNow + absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewCa("a", kNow, kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Inspect("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PkiTest, BundlesSplitIntoCertificates) {
  auto a = NewCa("a", kNow, kNow + absl::Hours(1));
  auto b = NewCa("b", kNow, kNow + absl::Hours(1));
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<std::string> parts = SplitBundle(a->cert_pem + "junk\n" + b->cert_pem);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], a->cert_pem);
  EXPECT_EQ(parts[1], b->cert_pem);
  EXPECT_TRUE(SplitBundle("").empty());
}

}  // namespace
}  // namespace labkube::pki
