#include "lib/service/server_flags.h"

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, kubeconfig);
ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(std::string, http_address);
ABSL_DECLARE_FLAG(int, http_port);
ABSL_DECLARE_FLAG(std::string, log_level);

namespace labkube::service {
namespace {

TEST(ApplyServerFlags, DefaultsAreTheServicesPorts) {
  ServiceOptions o;
  ApplyServerFlags(o);
  EXPECT_EQ(o.kubeconfig, "");
  EXPECT_EQ(o.grpc_address, "0.0.0.0:8443");
  EXPECT_EQ(o.http_address, "0.0.0.0");
  EXPECT_EQ(o.http_port, 9443);
  EXPECT_EQ(o.log_level, "info");
}

TEST(ApplyServerFlags, SetsPortsKubeconfigAndTheSharedFlags) {
  absl::SetFlag(&FLAGS_kubeconfig, "/etc/kubeconfig");
  absl::SetFlag(&FLAGS_grpc_address, "127.0.0.1:0");
  absl::SetFlag(&FLAGS_http_address, "127.0.0.1");
  absl::SetFlag(&FLAGS_http_port, 0);
  absl::SetFlag(&FLAGS_log_level, "warn");
  ServiceOptions o;
  ApplyServerFlags(o);
  EXPECT_EQ(o.kubeconfig, "/etc/kubeconfig");
  EXPECT_EQ(o.grpc_address, "127.0.0.1:0");
  EXPECT_EQ(o.http_address, "127.0.0.1");
  EXPECT_EQ(o.http_port, 0);
  EXPECT_EQ(o.log_level, "warn");
}

}  // namespace
}  // namespace labkube::service
