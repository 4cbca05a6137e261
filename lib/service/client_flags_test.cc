#include "lib/service/client_flags.h"

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, client_cert);
ABSL_DECLARE_FLAG(std::string, client_key);

namespace labkube::service {
namespace {

TEST(ApplyClientFlags, SetsTheClientCertificate) {
  absl::SetFlag(&FLAGS_client_cert, "/tls/client.crt");
  absl::SetFlag(&FLAGS_client_key, "/tls/client.key");
  ServiceOptions o;
  ApplyClientFlags(o);
  EXPECT_EQ(o.client_cert, "/tls/client.crt");
  EXPECT_EQ(o.client_key, "/tls/client.key");
}

}  // namespace
}  // namespace labkube::service
