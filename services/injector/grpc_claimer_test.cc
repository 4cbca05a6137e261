// GrpcClaimer against a fake Scheduler service on a real gRPC server (port 0): conversions,
// deadlines, error codes, a scheduler that is down, a retry after UNAVAILABLE, and TLS.
#include "services/injector/grpc_claimer.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/grpc_server.h"
#include "lib/testing/test_certs.h"
#include "services/injector/testing/fake_scheduler.h"

namespace labkube::injector {
namespace {

using testing::ClosedPort;
using testing::FakeSchedulerService;

ClaimRequest Request() {
  return {.group = "lab",
          .machine_type = "a100",
          .ns = "team-a",
          .pod_name = "",
          .generate_name = "train-",
          .admission_uid = "uid-1",
          .dry_run = false};
}

class GrpcClaimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcServerOptions o{.address = "127.0.0.1:0", .plaintext = true, .max_threads = 4};
    auto server = GrpcServer::Create(o, {&service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    auto claimer = GrpcClaimer::Create(
        {.address = absl::StrCat("127.0.0.1:", server_->port()), .plaintext = true});
    ASSERT_TRUE(claimer.ok()) << claimer.status();
    claimer_ = std::move(claimer).value();
  }

  FakeSchedulerService service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<GrpcClaimer> claimer_;
};

TEST_F(GrpcClaimerTest, ClaimsThroughTheStub) {
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<ClaimResponse> claim = claimer_->Claim(Request(), deadline);
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->claim_id, "c-1");
  EXPECT_EQ(claim->node, "gpu-1");
  EXPECT_EQ(claim->limits.at("nvidia.com/gpu"), "1");
  EXPECT_EQ(claim->requests.at("memory"), "32Gi");
  ASSERT_EQ(claim->node_affinity.size(), 4u);
  EXPECT_EQ(claim->node_affinity[3], (NodeRequirement{"kubernetes.io/hostname", "In", {"gpu-1"}}));
  ASSERT_EQ(claim->tolerations.size(), 1u);
  EXPECT_EQ(claim->tolerations[0], (Toleration{"labkube.io/a100", "Equal", "lab", "NoSchedule"}));
  EXPECT_EQ(claim->annotations.at("labkube.io/claim"), "c-1");

  ASSERT_EQ(service_.requests().size(), 1u);
  auto sent = service_.requests()[0];
  EXPECT_EQ(sent.group(), "lab");
  EXPECT_EQ(sent.machine_type(), "a100");
  EXPECT_EQ(sent.namespace_(), "team-a");
  EXPECT_EQ(sent.generate_name(), "train-");
  EXPECT_EQ(sent.admission_uid(), "uid-1");
  EXPECT_FALSE(sent.dry_run());
  EXPECT_LT(absl::AbsDuration(service_.deadlines()[0] - deadline), absl::Milliseconds(50));
}

TEST_F(GrpcClaimerTest, ErrorsKeepCodeAndMessage) {
  service_.FailNext(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown machine type lab/x"));
  absl::StatusOr<ClaimResponse> claim = claimer_->Claim(Request(), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(claim.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(claim.status().message(), "unknown machine type lab/x");
  EXPECT_EQ(service_.requests().size(), 1u);  // no retry
}

// A replica that no longer leads answers UNAVAILABLE: one retry on a fresh channel.
TEST_F(GrpcClaimerTest, RetriesOnceAfterUnavailable) {
  service_.FailNext(grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the leader"));
  absl::StatusOr<ClaimResponse> claim = claimer_->Claim(Request(), absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(service_.requests().size(), 2u);
  service_.FailNext(grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the leader"));
  service_.FailNext(grpc::Status(grpc::StatusCode::UNAVAILABLE, "still not the leader"));
  claim = claimer_->Claim(Request(), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(claim.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.requests().size(), 4u);
}

TEST(GrpcClaimerDownTest, SchedulerDownFailsAtTheDeadline) {
  auto claimer =
      GrpcClaimer::Create({.address = absl::StrCat("127.0.0.1:", ClosedPort()), .plaintext = true});
  ASSERT_TRUE(claimer.ok());
  absl::Time start = absl::Now();
  absl::StatusOr<ClaimResponse> claim =
      (*claimer)->Claim(Request(), start + absl::Milliseconds(300));
  absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(absl::IsDeadlineExceeded(claim.status()) || absl::IsUnavailable(claim.status()))
      << claim.status();
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(2));
  // A deadline already past: no call at all.
  claim = (*claimer)->Claim(Request(), absl::Now() - absl::Seconds(1));
  EXPECT_TRUE(absl::IsDeadlineExceeded(claim.status())) << claim.status();
}

TEST(GrpcClaimerTlsTest, TrustsTheCaFile) {
  auto cert = labkube::testing::WriteSelfSignedCert(labkube::testing::TestTmpDir(),
                                                    "claimer_scheduler", "localhost", 7);
  ASSERT_TRUE(cert.ok()) << cert.status();
  FakeSchedulerService service;
  auto server = GrpcServer::Create({.address = "127.0.0.1:0",
                                    .tls_cert_file = cert->cert_file,
                                    .tls_key_file = cert->key_file,
                                    .max_threads = 4},
                                   {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto claimer = GrpcClaimer::Create(
      {.address = absl::StrCat("localhost:", (*server)->port()), .ca_file = cert->cert_file});
  ASSERT_TRUE(claimer.ok()) << claimer.status();
  absl::StatusOr<ClaimResponse> claim =
      (*claimer)->Claim(Request(), absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(claim.ok()) << claim.status();
  EXPECT_FALSE(GrpcClaimer::Create({.address = "x:1", .ca_file = "/nonexistent/ca.crt"}).ok());
}

}  // namespace
}  // namespace labkube::injector
