#include "lib/grpc_server.h"

#include <fstream>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "labkube/testing/v1/echo.grpc.pb.h"
#include "lib/testing/test_certs.h"
#include "lib/tls.h"

namespace labkube {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::labkube::testing::v1::Echo;
using ::labkube::testing::v1::EchoRequest;
using ::labkube::testing::v1::EchoResponse;

class EchoService final : public Echo::Service {
  grpc::Status Echo(grpc::ServerContext* context, const EchoRequest* request,
                    EchoResponse* response) override {
    response->set_message(request->message());
    std::vector<grpc::string_ref> cn =
        context->auth_context()->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (!cn.empty()) response->set_peer_identity(std::string(cn[0].data(), cn[0].size()));
    return grpc::Status::OK;
  }
};

std::unique_ptr<grpc::ClientContext> ContextWithDeadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

absl::StatusOr<EchoResponse> CallEcho(const std::shared_ptr<grpc::Channel>& channel,
                                      const std::string& message) {
  auto stub = Echo::NewStub(channel);
  EchoRequest request;
  request.set_message(message);
  EchoResponse response;
  grpc::Status status = stub->Echo(ContextWithDeadline().get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return response;
}

HealthCheckResponse::ServingStatus CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& service,
                                               grpc::StatusCode* code = nullptr) {
  auto stub = Health::NewStub(channel);
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(ContextWithDeadline().get(), request, &response);
  if (code != nullptr) *code = status.error_code();
  return response.status();
}

std::shared_ptr<grpc::Channel> PlaintextChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

GrpcServerOptions Plaintext() {
  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  options.plaintext = true;
  options.max_threads = 4;
  return options;
}

TEST(GrpcServerTest, PlaintextOnLoopbackServesEchoAndHealth) {
  EchoService echo;
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Create(Plaintext(), {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  auto channel = PlaintextChannel((*server)->port());

  absl::StatusOr<EchoResponse> response = CallEcho(channel, "hello");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->message(), "hello");

  EXPECT_EQ(CheckHealth(channel, ""), HealthCheckResponse::SERVING);
  grpc::StatusCode code;
  CheckHealth(channel, "labkube.testing.v1.Echo", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  (*server)->SetServing("labkube.testing.v1.Echo", true);
  EXPECT_EQ(CheckHealth(channel, "labkube.testing.v1.Echo"), HealthCheckResponse::SERVING);
  (*server)->SetServing("labkube.testing.v1.Echo", false);
  EXPECT_EQ(CheckHealth(channel, "labkube.testing.v1.Echo"), HealthCheckResponse::NOT_SERVING);

  (*server)->Shutdown(absl::Now() + absl::Seconds(5));
  (*server)->Wait();
}

TEST(GrpcServerTest, InProcessChannelWorks) {
  EchoService echo;
  auto server = GrpcServer::Create(Plaintext(), {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<EchoResponse> response = CallEcho((*server)->InProcessChannel(), "in-process");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->message(), "in-process");
}

TEST(GrpcServerTest, RejectsOversizedMessages) {
  EchoService echo;
  GrpcServerOptions options = Plaintext();
  options.max_receive_message_bytes = 1024;
  auto server = GrpcServer::Create(options, {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<EchoResponse> response =
      CallEcho(PlaintextChannel((*server)->port()), std::string(4096, 'x'));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(GrpcServerTest, ReflectionListsTheService) {
  EchoService echo;
  auto server = GrpcServer::Create(Plaintext(), {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  // ServerReflectionRequest{list_services: ""} is field 7 (length-delimited), empty.
  std::string request("\x3a\x00", 2);
  std::string response_bytes;
  grpc::GenericStub stub(PlaintextChannel((*server)->port()));
  grpc::CompletionQueue cq;
  auto context = ContextWithDeadline();
  auto call = stub.PrepareCall(
      context.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->WriteLast(buffer, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->Finish(&status, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  for (const grpc::Slice& s : slices) response_bytes.append(s.begin(), s.end());
  EXPECT_NE(response_bytes.find("labkube.testing.v1.Echo"), std::string::npos);
  EXPECT_NE(response_bytes.find("grpc.health.v1.Health"), std::string::npos);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST(GrpcServerTest, TlsWithServerCertificate) {
  std::string dir = labkube::testing::TestTmpDir();
  auto cert = labkube::testing::WriteSelfSignedCert(dir, "grpc-server", "labkube-test", 1);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EchoService echo;
  GrpcServerOptions options;
  options.address = "0.0.0.0:0";
  options.tls_cert_file = cert->cert_file;
  options.tls_key_file = cert->key_file;
  auto server = GrpcServer::Create(options, {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  std::string target = absl::StrCat("localhost:", (*server)->port());

  auto credentials = ChannelCredentialsFromFiles(cert->cert_file);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  absl::StatusOr<EchoResponse> response =
      CallEcho(grpc::CreateChannel(target, *credentials), "secure");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->message(), "secure");
  EXPECT_EQ(response->peer_identity(), "");

  // A plaintext client cannot talk to it, and neither can one that trusts another CA.
  EXPECT_FALSE(CallEcho(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()), "x").ok());
  auto other = labkube::testing::WriteSelfSignedCert(dir, "grpc-other", "other", 2);
  ASSERT_TRUE(other.ok()) << other.status();
  auto untrusted = ChannelCredentialsFromFiles(other->cert_file);
  ASSERT_TRUE(untrusted.ok()) << untrusted.status();
  EXPECT_FALSE(CallEcho(grpc::CreateChannel(target, *untrusted), "x").ok());
}

// With a client CA and allowed_clients, only those certificate names may call anything.
TEST(GrpcServerTest, MutualTlsLetsOnlyAllowedClientNamesCall) {
  std::string dir = labkube::testing::TestTmpDir();
  auto server_cert = labkube::testing::WriteSelfSignedCert(dir, "grpc-mtls", "labkube-test", 11);
  auto gateway = labkube::testing::WriteSelfSignedCert(dir, "grpc-gw", "labkube-gateway", 12);
  auto injector = labkube::testing::WriteSelfSignedCert(dir, "grpc-inj", "labkube-injector", 13);
  ASSERT_TRUE(server_cert.ok() && gateway.ok() && injector.ok());
  std::string bundle = dir + "/grpc-mtls-clients.crt";
  std::ofstream(bundle) << gateway->cert_pem << injector->cert_pem;
  EchoService echo;
  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  options.tls_cert_file = server_cert->cert_file;
  options.tls_key_file = server_cert->key_file;
  options.tls_client_ca_file = bundle;
  options.allowed_clients = {"labkube-gateway"};
  auto server = GrpcServer::Create(options, {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  std::string target = absl::StrCat("127.0.0.1:", (*server)->port());
  auto call_as = [&](const labkube::testing::TestCert& client) {
    auto creds = ChannelCredentialsFromFiles(server_cert->cert_file, client.cert_file, client.key_file);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return CallEcho(grpc::CreateChannel(target, *creds), "who");
  };
  absl::StatusOr<EchoResponse> allowed = call_as(*gateway);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  absl::StatusOr<EchoResponse> refused = call_as(*injector);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "labkube-injector may not call this server; only labkube-gateway may");
}

TEST(GrpcServerTest, TlsRejectsAWrongHostName) {
  std::string dir = labkube::testing::TestTmpDir();
  auto cert = labkube::testing::WriteSelfSignedCert(dir, "grpc-host", "labkube-test", 3);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EchoService echo;
  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  options.tls_cert_file = cert->cert_file;
  options.tls_key_file = cert->key_file;
  auto server = GrpcServer::Create(options, {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  auto credentials = ChannelCredentialsFromFiles(cert->cert_file);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  auto channel_for = [&](const std::string& name) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(name);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*server)->port()), *credentials,
                                     args);
  };
  EXPECT_TRUE(CallEcho(channel_for("localhost"), "x").ok());
  EXPECT_FALSE(CallEcho(channel_for("not-the-server.example"), "x").ok());
}

TEST(GrpcServerTest, MutualTlsRequiresAClientCertificate) {
  std::string dir = labkube::testing::TestTmpDir();
  auto server_cert = labkube::testing::WriteSelfSignedCert(dir, "mtls-server", "server", 10);
  auto client_cert = labkube::testing::WriteSelfSignedCert(dir, "mtls-client", "client-7", 11);
  ASSERT_TRUE(server_cert.ok() && client_cert.ok());
  EchoService echo;
  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  options.tls_cert_file = server_cert->cert_file;
  options.tls_key_file = server_cert->key_file;
  options.tls_client_ca_file = client_cert->cert_file;
  auto server = GrpcServer::Create(options, {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  std::string target = absl::StrCat("localhost:", (*server)->port());

  auto with_cert = ChannelCredentialsFromFiles(server_cert->cert_file, client_cert->cert_file,
                                               client_cert->key_file);
  ASSERT_TRUE(with_cert.ok()) << with_cert.status();
  absl::StatusOr<EchoResponse> response =
      CallEcho(grpc::CreateChannel(target, *with_cert), "mutual");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->peer_identity(), "client-7");

  auto without_cert = ChannelCredentialsFromFiles(server_cert->cert_file);
  ASSERT_TRUE(without_cert.ok());
  EXPECT_FALSE(CallEcho(grpc::CreateChannel(target, *without_cert), "x").ok());
}

TEST(GrpcServerTest, ValidatesOptions) {
  EchoService echo;
  GrpcServerOptions options = Plaintext();
  options.address = "0.0.0.0:0";
  EXPECT_EQ(GrpcServer::Create(options, {&echo}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GrpcServer::Create(GrpcServerOptions{}, {&echo}).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Plaintext();
  options.max_threads = 1;
  EXPECT_EQ(GrpcServer::Create(options, {&echo}).status().code(),
            absl::StatusCode::kInvalidArgument);

  GrpcServerOptions tls;
  tls.tls_cert_file = "/nonexistent/server.crt";
  tls.tls_key_file = "/nonexistent/server.key";
  absl::Status status = GrpcServer::Create(tls, {&echo}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("/nonexistent/server.crt"), absl::string_view::npos);
}

TEST(GrpcServerTest, BindFailureIsUnavailable) {
  EchoService echo;
  auto first = GrpcServer::Create(Plaintext(), {&echo});
  ASSERT_TRUE(first.ok()) << first.status();
  GrpcServerOptions options = Plaintext();
  options.address = absl::StrCat("127.0.0.1:", (*first)->port());
  EchoService echo2;
  EXPECT_EQ(GrpcServer::Create(options, {&echo2}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(GrpcServerTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:0"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:50051"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:0"));
  EXPECT_TRUE(IsLoopbackAddress("unix:/tmp/sock"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:0"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:0"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:80"));
}

TEST(GrpcServerTest, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.1.2.3"));
}

}  // namespace
}  // namespace labkube
