#include "services/scheduler/flags.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);
ABSL_DECLARE_FLAG(std::vector<std::string>, claim_clients);
ABSL_DECLARE_FLAG(int, claim_ttl_seconds);

namespace labkube::scheduler {
namespace {

TEST(OptionsFromFlags, DefaultsAreTheSchedulers) {
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.grpc_address, "0.0.0.0:8443");
  EXPECT_EQ(o.http_port, 9443);
  EXPECT_EQ(o.max_threads, 1024);
  EXPECT_EQ(o.claim_clients, std::vector<std::string>{"labkube-injector"});
  EXPECT_EQ(o.claim_ttl, absl::Seconds(10));
  EXPECT_TRUE(o.leader_elect);
}

TEST(OptionsFromFlags, SharedAndOwnFlags) {
  absl::SetFlag(&FLAGS_grpc_address, "127.0.0.1:0");
  absl::SetFlag(&FLAGS_tls_client_ca, "/tls/ca.crt");
  absl::SetFlag(&FLAGS_claim_clients, std::vector<std::string>{"a", "b"});
  absl::SetFlag(&FLAGS_claim_ttl_seconds, 3);
  Options o = OptionsFromFlags();
  EXPECT_EQ(o.grpc_address, "127.0.0.1:0");
  EXPECT_EQ(o.tls_client_ca, "/tls/ca.crt");
  EXPECT_EQ(o.claim_clients, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.claim_ttl, absl::Seconds(3));
}

}  // namespace
}  // namespace labkube::scheduler
