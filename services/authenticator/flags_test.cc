#include "services/authenticator/flags.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);
ABSL_DECLARE_FLAG(std::string, trusted_proxies);

namespace labkube::authenticator {
namespace {

TEST(OptionsFromFlags, DefaultsAreTheAuthenticators) {
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.grpc_address, "0.0.0.0:8443");
  EXPECT_EQ(o.http_port, 9443);
  EXPECT_EQ(o.max_threads, 64);
  EXPECT_EQ(o.max_message_bytes, 64 * 1024);
  EXPECT_EQ(o.allowed_clients, (std::vector<std::string>{"labkube-gateway", "labkube-admin"}));
  EXPECT_EQ(o.hash_algorithm, "yescrypt");
}

TEST(OptionsFromFlags, SharedAndOwnFlags) {
  absl::SetFlag(&FLAGS_grpc_address, "127.0.0.1:0");
  absl::SetFlag(&FLAGS_tls_client_ca, "/tls/ca.crt");
  absl::SetFlag(&FLAGS_trusted_proxies, "10.0.0.0/8");
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.grpc_address, "127.0.0.1:0");
  EXPECT_EQ(o.tls_client_ca, "/tls/ca.crt");
  EXPECT_EQ(o.trusted_proxies, "10.0.0.0/8");
}

}  // namespace
}  // namespace labkube::authenticator
