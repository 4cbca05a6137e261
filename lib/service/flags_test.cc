#include "lib/service/flags.h"

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(bool, plaintext);
ABSL_DECLARE_FLAG(std::string, log_level);

namespace labkube::service {
namespace {

struct DerivedOptions : ServiceOptions {
  DerivedOptions() { max_threads = 1024; }
  std::string own = "mine";
};

TEST(ApplyFlags, SetsTheSharedFieldsOnly) {
  absl::SetFlag(&FLAGS_tls_cert, "/tls/tls.crt");
  absl::SetFlag(&FLAGS_tls_key, "/tls/tls.key");
  absl::SetFlag(&FLAGS_plaintext, true);
  absl::SetFlag(&FLAGS_log_level, "debug");
  DerivedOptions o;
  ApplyFlags(o);
  EXPECT_EQ(o.tls_cert, "/tls/tls.crt");
  EXPECT_EQ(o.tls_key, "/tls/tls.key");
  EXPECT_TRUE(o.plaintext);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.max_threads, 1024);  // the service's own defaults stay
  EXPECT_EQ(o.own, "mine");
  EXPECT_EQ(o.grpc_address, "0.0.0.0:8443");
}

}  // namespace
}  // namespace labkube::service
