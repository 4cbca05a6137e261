#include "lib/service/options.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labkube::service {
namespace {

using ::testing::HasSubstr;

ServiceOptions Tls() {
  ServiceOptions o;
  o.tls_cert = "/tls/tls.crt";
  o.tls_key = "/tls/tls.key";
  return o;
}

ServiceOptions Plaintext() {
  ServiceOptions o;
  o.plaintext = true;
  o.grpc_address = "127.0.0.1:0";
  o.http_address = "127.0.0.1";
  return o;
}

TEST(CheckServiceOptions, AcceptsTlsAndLoopbackPlaintext) {
  EXPECT_TRUE(CheckServiceOptions(Tls()).ok());
  EXPECT_TRUE(CheckServiceOptions(Plaintext()).ok());
  ServiceOptions v6 = Plaintext();
  v6.grpc_address = "[::1]:8443";
  v6.http_address = "::1";
  EXPECT_TRUE(CheckServiceOptions(v6).ok());
}

TEST(CheckServiceOptions, PlaintextOnlyOnLoopbackForBothPorts) {
  ServiceOptions grpc = Plaintext();
  grpc.grpc_address = "0.0.0.0:8443";
  EXPECT_THAT(CheckServiceOptions(grpc).message(), HasSubstr("--grpc_address is 0.0.0.0:8443"));
  EXPECT_TRUE(CheckServiceOptions(grpc, {.grpc = false}).ok());  // no gRPC port: not checked
  ServiceOptions http = Plaintext();
  http.http_address = "10.0.0.1";
  EXPECT_THAT(CheckServiceOptions(http).message(), HasSubstr("HTTP address is 10.0.0.1"));
}

TEST(CheckServiceOptions, PlaintextWithCertificateIsRefused) {
  ServiceOptions o = Plaintext();
  o.tls_cert = "/tls/tls.crt";
  EXPECT_THAT(CheckServiceOptions(o).message(), HasSubstr("leave out --tls_cert"));
  o = Plaintext();
  o.tls_client_ca = "/tls/ca.crt";  // ignored, as every service always did
  EXPECT_TRUE(CheckServiceOptions(o).ok());
}

TEST(CheckServiceOptions, NamesWhatIsWrong) {
  ServiceOptions o = Tls();
  o.tls_key = "";
  EXPECT_THAT(CheckServiceOptions(o).message(), HasSubstr("--tls_cert and --tls_key"));
  o = Tls();
  o.log_level = "loud";
  EXPECT_THAT(CheckServiceOptions(o).message(), HasSubstr("--log_level"));
  o = Tls();
  o.http_port = 70000;
  EXPECT_THAT(CheckServiceOptions(o).message(), HasSubstr("70000"));
  o = Tls();
  o.max_threads = 1;
  EXPECT_THAT(CheckServiceOptions(o).message(), HasSubstr("max_threads"));
  o = Tls();
  o.client_cert = "/tls/client.crt";
  EXPECT_THAT(CheckServiceOptions(o).message(), HasSubstr("--client_key"));
}

TEST(GrpcOptionsOf, CarriesTlsThreadsAndSize) {
  ServiceOptions o = Tls();
  o.tls_client_ca = "/tls/ca.crt";
  o.max_threads = 64;
  o.max_message_bytes = 1024;
  GrpcServerOptions go = GrpcOptionsOf(o);
  EXPECT_EQ(go.address, "0.0.0.0:8443");
  EXPECT_EQ(go.tls_cert_file, "/tls/tls.crt");
  EXPECT_EQ(go.tls_key_file, "/tls/tls.key");
  EXPECT_EQ(go.tls_client_ca_file, "/tls/ca.crt");
  EXPECT_FALSE(go.plaintext);
  EXPECT_EQ(go.max_threads, 64);
  EXPECT_EQ(go.max_receive_message_bytes, 1024);
  ServiceOptions p = Plaintext();
  p.tls_client_ca = "/tls/ca.crt";
  EXPECT_TRUE(GrpcOptionsOf(p).plaintext);
  EXPECT_EQ(GrpcOptionsOf(p).tls_client_ca_file, "");
}

TEST(HttpOptionsOf, CarriesAddressPortAndTls) {
  ServiceOptions o = Tls();
  o.http_port = 0;
  o.tls_client_ca = "/tls/ca.crt";
  HttpServerOptions ho = HttpOptionsOf(o);
  EXPECT_EQ(ho.address, "0.0.0.0");
  EXPECT_EQ(ho.port, 0);
  EXPECT_EQ(ho.tls_cert_file, "/tls/tls.crt");
  EXPECT_EQ(ho.tls_client_ca_file, "");  // health and metrics ask for no certificate
  EXPECT_FALSE(ho.allow_plaintext);
  EXPECT_TRUE(HttpOptionsOf(Plaintext()).allow_plaintext);
  EXPECT_EQ(HttpOptionsOf(Plaintext()).tls_cert_file, "");
}

}  // namespace
}  // namespace labkube::service
