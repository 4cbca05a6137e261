#include "services/injector/flags.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, address);
ABSL_DECLARE_FLAG(int, port);
ABSL_DECLARE_FLAG(std::string, client_ca);
ABSL_DECLARE_FLAG(std::string, client_cert);
ABSL_DECLARE_FLAG(std::string, client_key);
ABSL_DECLARE_FLAG(bool, plaintext);
ABSL_DECLARE_FLAG(int, shutdown_delay_ms);

namespace labkube::injector {
namespace {

TEST(OptionsFromFlags, DefaultsAreTheInjectors) {
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.http_address, "0.0.0.0");
  EXPECT_EQ(o.http_port, 8443);
  EXPECT_EQ(o.allowed_clients, std::vector<std::string>{"labkube-webhook-client"});
  EXPECT_EQ(o.claim_timeout, absl::Seconds(2));
  EXPECT_EQ(ShutdownDelayFromFlags(), absl::Seconds(5));
}

TEST(OptionsFromFlags, TheInjectorsSpellingsFillTheCommonFields) {
  absl::SetFlag(&FLAGS_address, "127.0.0.1");
  absl::SetFlag(&FLAGS_port, 0);
  absl::SetFlag(&FLAGS_client_ca, "/tls/apiserver-ca.crt");
  absl::SetFlag(&FLAGS_client_cert, "/tls/client.crt");
  absl::SetFlag(&FLAGS_client_key, "/tls/client.key");
  absl::SetFlag(&FLAGS_plaintext, true);
  absl::SetFlag(&FLAGS_shutdown_delay_ms, 10);
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.http_address, "127.0.0.1");
  EXPECT_EQ(o.http_port, 0);
  EXPECT_EQ(o.tls_client_ca, "/tls/apiserver-ca.crt");
  EXPECT_EQ(o.client_cert, "/tls/client.crt");
  EXPECT_EQ(o.client_key, "/tls/client.key");
  EXPECT_TRUE(o.plaintext);
  EXPECT_EQ(ShutdownDelayFromFlags(), absl::Milliseconds(10));
}

}  // namespace
}  // namespace labkube::injector
