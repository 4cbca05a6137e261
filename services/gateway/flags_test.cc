#include "services/gateway/flags.h"

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(std::string, client_cert);
ABSL_DECLARE_FLAG(std::string, client_key);
ABSL_DECLARE_FLAG(std::string, scheduler);

namespace labkube::gateway {
namespace {

TEST(OptionsFromFlags, DefaultsAreTheGateways) {
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.grpc_address, "0.0.0.0:8443");
  EXPECT_EQ(o.http_port, 9443);
  EXPECT_EQ(o.max_threads, 256);
  EXPECT_EQ(o.max_message_bytes, 1 << 20);
  EXPECT_EQ(o.scheduler, "labkube-scheduler.labkube-system.svc:8443");
  EXPECT_EQ(o.upstream_timeout, absl::Seconds(5));
}

TEST(OptionsFromFlags, SharedAndOwnFlags) {
  absl::SetFlag(&FLAGS_grpc_address, "127.0.0.1:0");
  absl::SetFlag(&FLAGS_client_cert, "/tls/gateway.crt");
  absl::SetFlag(&FLAGS_client_key, "/tls/gateway.key");
  absl::SetFlag(&FLAGS_scheduler, "127.0.0.1:1");
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.grpc_address, "127.0.0.1:0");
  EXPECT_EQ(o.client_cert, "/tls/gateway.crt");
  EXPECT_EQ(o.client_key, "/tls/gateway.key");
  EXPECT_EQ(o.scheduler, "127.0.0.1:1");
}

}  // namespace
}  // namespace labkube::gateway
