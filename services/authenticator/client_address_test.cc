#include "services/authenticator/client_address.h"

#include <sstream>

#include "gtest/gtest.h"
#include "lib/log.h"
#include "spdlog/sinks/ostream_sink.h"

namespace labkube::authenticator {
namespace {

TrustedProxies MustParse(std::string_view spec) {
  absl::StatusOr<TrustedProxies> t = TrustedProxies::Parse(spec);
  EXPECT_TRUE(t.ok()) << spec << ": " << t.status();
  return t.ok() ? *std::move(t) : TrustedProxies();
}

TEST(ParseIpAddressTest, AcceptsAddressesOnly) {
  EXPECT_EQ(ParseIpAddress("10.0.0.1")->ToString(), "10.0.0.1");
  EXPECT_EQ(ParseIpAddress("2001:DB8:0:0::1")->ToString(), "2001:db8::1");
  EXPECT_EQ(ParseIpAddress("::ffff:10.1.2.3")->ToString(), "10.1.2.3");  // v4-mapped -> v4
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "010.0.0.1", " 10.0.0.1", "10.0.0.1:80",
                          "[::1]", "fe80::1%eth0", "example.org", "10.0.0.0/8", "::g"}) {
    EXPECT_FALSE(ParseIpAddress(bad).has_value()) << bad;
  }
}

TEST(TrustedProxiesTest, EmptyTrustsNobody) {
  for (const char* spec : {"", " ", ",", " , "}) {
    TrustedProxies t = MustParse(spec);
    EXPECT_TRUE(t.empty()) << spec;
    EXPECT_FALSE(t.Contains("127.0.0.1"));
    EXPECT_FALSE(t.Contains("::1"));
  }
  EXPECT_FALSE(TrustedProxies().Contains("127.0.0.1"));
}

TEST(TrustedProxiesTest, SingleAddressesAreSlash32And128) {
  TrustedProxies t = MustParse("127.0.0.1, 10.0.0.7/32 ,::1");
  EXPECT_TRUE(t.Contains("127.0.0.1"));
  EXPECT_FALSE(t.Contains("127.0.0.2"));
  EXPECT_TRUE(t.Contains("10.0.0.7"));
  EXPECT_FALSE(t.Contains("10.0.0.6"));
  EXPECT_TRUE(t.Contains("::1"));
  EXPECT_TRUE(t.Contains("0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(t.Contains("::2"));
  EXPECT_EQ(t.ToString(), "127.0.0.1/32,10.0.0.7/32,::1/128");
}

TEST(TrustedProxiesTest, Ipv4Cidr) {
  TrustedProxies t = MustParse("10.244.0.0/16,192.168.1.128/25,172.16.0.0/12");
  EXPECT_TRUE(t.Contains("10.244.0.0"));
  EXPECT_TRUE(t.Contains("10.244.255.255"));
  EXPECT_FALSE(t.Contains("10.245.0.1"));
  EXPECT_FALSE(t.Contains("10.243.255.255"));
  EXPECT_TRUE(t.Contains("192.168.1.128"));
  EXPECT_TRUE(t.Contains("192.168.1.255"));
  EXPECT_FALSE(t.Contains("192.168.1.127"));
  EXPECT_TRUE(t.Contains("172.31.255.255"));
  EXPECT_FALSE(t.Contains("172.32.0.0"));
  EXPECT_TRUE(t.Contains("::ffff:10.244.3.4"));  // IPv4-mapped peer of a dual-stack socket
  EXPECT_FALSE(t.Contains("::a:f4:3:4"));
  EXPECT_FALSE(t.Contains("not-an-ip"));
  EXPECT_FALSE(t.Contains(""));
}

TEST(TrustedProxiesTest, Ipv6Cidr) {
  TrustedProxies t = MustParse("fd00::/8, 2001:db8:abcd:12::/63, fe80::1:0/127");
  EXPECT_TRUE(t.Contains("fd12:3456::1"));
  EXPECT_FALSE(t.Contains("fe00::1"));
  EXPECT_TRUE(t.Contains("2001:db8:abcd:12::5"));
  EXPECT_TRUE(t.Contains("2001:db8:abcd:13:ffff::1"));
  EXPECT_FALSE(t.Contains("2001:db8:abcd:14::1"));
  EXPECT_FALSE(t.Contains("2001:db8:abcd:11::1"));
  EXPECT_TRUE(t.Contains("fe80::1:0"));
  EXPECT_TRUE(t.Contains("fe80::1:1"));
  EXPECT_FALSE(t.Contains("fe80::1:2"));
  EXPECT_FALSE(t.Contains("10.0.0.1"));
}

TEST(TrustedProxiesTest, SlashZeroTrustsAFamily) {
  TrustedProxies v4 = MustParse("0.0.0.0/0");
  EXPECT_TRUE(v4.Contains("1.2.3.4"));
  EXPECT_TRUE(v4.Contains("255.255.255.255"));
  EXPECT_FALSE(v4.Contains("::1"));
  TrustedProxies v6 = MustParse("::/0");
  EXPECT_TRUE(v6.Contains("2001:db8::1"));
  EXPECT_TRUE(v6.Contains("::1"));
  EXPECT_FALSE(v6.Contains("1.2.3.4"));
}

TEST(TrustedProxiesTest, Ipv4MappedEntriesAreIpv4) {
  TrustedProxies t = MustParse("::ffff:10.0.0.0/104");
  EXPECT_TRUE(t.Contains("10.1.2.3"));
  EXPECT_FALSE(t.Contains("11.0.0.1"));
  EXPECT_EQ(t.ToString(), "10.0.0.0/8");
  EXPECT_FALSE(TrustedProxies::Parse("::ffff:10.0.0.0/95").ok());
}

TEST(TrustedProxiesTest, BadEntriesAreNamed) {
  for (const char* bad : {"10.0.0.300", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/",
                          "10.0.0.0/8x", "10.0.0.1/8", "fd00::/129", "fd00::1/8", "[::1]",
                          "10.0.0.1:8443", "gateway.labkube-system.svc", "10.0.0.0 /8"}) {
    absl::StatusOr<TrustedProxies> t = TrustedProxies::Parse(std::string("127.0.0.1, ") + bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(std::string("\"") + bad + "\""), absl::string_view::npos)
        << t.status();
  }
}

class ClientAddressTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)); }
  void TearDown() override { SetLogSink(nullptr); }

  TrustedProxies trusted_ = MustParse("10.244.0.0/16, ::1");
  std::ostringstream log_;
};

TEST_F(ClientAddressTest, UntrustedPeerCannotSpoof) {
  EXPECT_EQ(ClientAddress(trusted_, "203.0.113.9", "198.51.100.1"), "203.0.113.9");
  EXPECT_EQ(ClientAddress(trusted_, "10.245.0.1", "198.51.100.1"), "10.245.0.1");
  EXPECT_EQ(ClientAddress(trusted_, "::2", "198.51.100.1"), "::2");
  EXPECT_EQ(ClientAddress(TrustedProxies(), "127.0.0.1", "198.51.100.1"), "127.0.0.1");
  EXPECT_EQ(ClientAddress(trusted_, "unix:/tmp/sock", "198.51.100.1"), "unix:/tmp/sock");
  EXPECT_TRUE(log_.str().empty()) << log_.str();
}

TEST_F(ClientAddressTest, TrustedPeerWithoutHeaderIsItself) {
  EXPECT_EQ(ClientAddress(trusted_, "10.244.1.2", std::nullopt), "10.244.1.2");
  EXPECT_EQ(ClientAddress(trusted_, "::1", std::nullopt), "::1");
}

TEST_F(ClientAddressTest, TrustedPeerForwardsTheRightMostEntry) {
  EXPECT_EQ(ClientAddress(trusted_, "10.244.1.2", "198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(ClientAddress(trusted_, "::1", " 2001:DB8::0:7 "), "2001:db8::7");
  // The client may have sent its own x-forwarded-for; only what the proxy appended counts.
  EXPECT_EQ(ClientAddress(trusted_, "10.244.1.2", "1.1.1.1, 6.6.6.6,198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(ClientAddress(trusted_, "10.244.1.2", "garbage, 198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(ClientAddress(trusted_, "10.244.1.2", "::ffff:198.51.100.7"), "198.51.100.7");
  EXPECT_TRUE(log_.str().empty()) << log_.str();
}

TEST_F(ClientAddressTest, InvalidForwardedAddressKeepsThePeerAndWarns) {
  for (const char* bad : {"", "198.51.100.7,", "198.51.100.7:5555", "[2001:db8::7]", "unknown",
                          "198.51.100.7, evil.example"}) {
    log_.str("");
    EXPECT_EQ(ClientAddress(trusted_, "10.244.1.2", bad), "10.244.1.2") << bad;
    EXPECT_NE(log_.str().find("\"event\":\"authenticator.bad_forwarded_for\""), std::string::npos)
        << bad << ": " << log_.str();
    EXPECT_NE(log_.str().find("\"level\":\"warn\""), std::string::npos) << log_.str();
  }
  log_.str("");
  ClientAddress(trusted_, "10.244.1.2", std::string(10000, 'x'));
  EXPECT_LT(log_.str().size(), 1000u);  // the quoted header is truncated
}

}  // namespace
}  // namespace labkube::authenticator
