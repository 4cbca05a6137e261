// The scheduler under mutual TLS: who may call what is decided by the client certificate's
// name, on a real gRPC server with real TLS (fake Kubernetes API behind it).
#include <fstream>
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/test_certs.h"
#include "lib/tls.h"
#include "services/scheduler/server.h"

namespace labkube::scheduler {
namespace {

namespace api = ::labkube::scheduler::v1alpha1;
using labkube::testing::TestCert;

class ServerMtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = labkube::testing::TestTmpDir();
    server_cert_ = Cert(dir, "server", "labkube-scheduler", 1);
    injector_ = Cert(dir, "injector", "labkube-injector", 2);
    gateway_ = Cert(dir, "gateway", "labkube-gateway", 3);
    stranger_ = Cert(dir, "stranger", "labkube-injector", 4);  // right name, unknown CA
    std::string bundle = dir + "/clients.crt";
    std::ofstream(bundle) << injector_.cert_pem << gateway_.cert_pem;
    Options o;
    o.grpc_address = "127.0.0.1:0";
    o.http_address = "127.0.0.1";
    o.http_port = 0;
    o.tls_cert = server_cert_.cert_file;
    o.tls_key = server_cert_.key_file;
    o.tls_client_ca = bundle;
    o.leader_elect = false;
    auto server = Server::Create(o, std::make_unique<kube::testing::FakeClient>(), Clock::Real());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }

  static TestCert Cert(const std::string& dir, const std::string& name, const std::string& cn,
                       long serial) {
    absl::StatusOr<TestCert> c = labkube::testing::WriteSelfSignedCert(dir, name, cn, serial);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.value_or(TestCert{});
  }

  std::unique_ptr<api::Scheduler::Stub> StubAs(const TestCert* client) {
    auto creds = ChannelCredentialsFromFiles(server_cert_.cert_file,
                                             client ? client->cert_file : "",
                                             client ? client->key_file : "");
    EXPECT_TRUE(creds.ok()) << creds.status();
    return api::Scheduler::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->grpc_port()), *creds));
  }

  static grpc::Status Claim(api::Scheduler::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    api::ClaimRequest req;
    req.set_group("lab");
    req.set_machine_type("x1");
    req.set_namespace_("lab-alice");
    req.set_pod_name("p");
    req.set_admission_uid("u");
    api::ClaimResponse out;
    return stub.Claim(&ctx, req, &out);
  }

  static grpc::Status List(api::Scheduler::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    api::ListMachineTypesResponse out;
    return stub.ListMachineTypes(&ctx, api::ListMachineTypesRequest(), &out);
  }

  TestCert server_cert_, injector_, gateway_, stranger_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerMtlsTest, OnlyTheInjectorMayClaim) {
  grpc::Status as_injector = Claim(*StubAs(&injector_));
  EXPECT_NE(as_injector.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << as_injector.error_message();
  EXPECT_NE(as_injector.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status as_gateway = Claim(*StubAs(&gateway_));
  EXPECT_EQ(as_gateway.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(as_gateway.error_message(),
            "labkube-gateway may not call Claim; only labkube-injector may");
}

TEST_F(ServerMtlsTest, TheGatewayReadsAvailability) {
  EXPECT_TRUE(List(*StubAs(&gateway_)).ok());
  EXPECT_TRUE(List(*StubAs(&injector_)).ok());
}

TEST_F(ServerMtlsTest, NoCertificateOrAnUnknownCaIsRefusedAtTheHandshake) {
  EXPECT_EQ(Claim(*StubAs(nullptr)).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Claim(*StubAs(&stranger_)).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(List(*StubAs(&stranger_)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace labkube::scheduler
