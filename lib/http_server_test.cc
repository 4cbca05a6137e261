#include "lib/http_server.h"

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/absl_compat.h"
#include "lib/metrics.h"
#include "lib/testing/test_certs.h"

namespace labkube {
namespace {

using ::labkube::testing::TestCert;
using ::labkube::testing::TestTmpDir;
using ::labkube::testing::WriteSelfSignedCert;

HttpServerOptions PlaintextOptions() {
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.allow_plaintext = true;
  options.threads = 2;
  return options;
}

TEST(HttpServerTest, ServesMetricsAndHealthInPlaintext) {
  metrics::Registry registry;
  registry.Counter("labkube_test_total", "Test counter.", {"result"})->Labels({"ok"}).Inc(3);
  std::atomic<bool> ready{false};
  auto server = HttpServer::Create(PlaintextOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  AddMetricsAndHealth(**server, registry, [&] { return ready.load(); });
  ASSERT_TRUE((*server)->Start().ok());
  ASSERT_GT((*server)->port(), 0);
  EXPECT_FALSE((*server)->tls());

  httplib::Client client("127.0.0.1", (*server)->port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, registry.Expose());
  EXPECT_NE(metrics->body.find("labkube_test_total{result=\"ok\"} 3\n"), std::string::npos);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), metrics::kExpositionContentType);

  auto healthz = client.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ(healthz->body, "ok");
  auto readyz = client.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 503);
  ready = true;
  readyz = client.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);

  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
}

TEST(HttpServerTest, ADrainingServerIsNotReadyAndClosesConnectionsButStillServes) {
  metrics::Registry registry;
  auto server = HttpServer::Create(PlaintextOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  AddMetricsAndHealth(**server, registry, [] { return true; });
  ASSERT_TRUE((*server)->Start().ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_keep_alive(true);
  auto before = client.Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  EXPECT_NE(before->get_header_value("Connection"), "close");
  (*server)->Drain();
  EXPECT_TRUE((*server)->draining());
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->get_header_value("Connection"), "close");
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << "still serving while draining";
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->get_header_value("Connection"), "close");
}

TEST(HttpServerTest, HandlersSeeRequestAndSetResponse) {
  HttpServerOptions options = PlaintextOptions();
  options.max_body_bytes = 1024;
  auto server = HttpServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Handle("POST", "/echo.json", [](const HttpRequest& request) {
    return HttpResponse{
        .status = 201,
        .content_type = "application/json",
        .body = absl::StrCat(request.method, " ", request.path, " ", request.Header("x-labkube"),
                             " ", request.Param("q"), " ", ToAbsl(request.body)),
        .headers = {{"X-Reply", "yes"}}};
  });
  ASSERT_TRUE((*server)->Start().ok());
  EXPECT_EQ((*server)->Start().code(), absl::StatusCode::kFailedPrecondition);
  httplib::Client client("127.0.0.1", (*server)->port());

  auto reply = client.Post("/echo.json?q=1", {{"X-Labkube", "hi"}}, "payload", "text/plain");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 201);
  EXPECT_EQ(reply->body, "POST /echo.json hi 1 payload");
  EXPECT_EQ(reply->get_header_value("X-Reply"), "yes");
  EXPECT_EQ(reply->get_header_value("Content-Type"), "application/json");

  // The path is matched exactly, not as a regular expression.
  auto other = client.Post("/echoXjson", "payload", "text/plain");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);

  auto too_big = client.Post("/echo.json", std::string(4096, 'x'), "text/plain");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
}

// Times `count` keep-alive POSTs of an AdmissionReview-sized body on one connection.
template <typename Client>
absl::Duration TimeKeepAlivePosts(Client& client, int count) {
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // the client too sends headers and body in separate writes
  std::string body(1900, 'a');
  EXPECT_TRUE(client.Post("/review", body, "application/json"));  // connect
  absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) EXPECT_TRUE(client.Post("/review", body, "application/json"));
  return absl::Now() - start;
}

void AddReviewEcho(HttpServer& server) {
  server.Handle("POST", "/review", [](const HttpRequest& request) {
    return HttpResponse{.content_type = "application/json", .body = std::string(request.body)};
  });
}

TEST(HttpServerTest, KeepAliveRepliesAreNotDelayed) {
  auto cert = WriteSelfSignedCert(TestTmpDir(), "http-nodelay", "nodelay", 1);
  ASSERT_TRUE(cert.ok()) << cert.status();
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.tls_cert_file = cert->cert_file;
  options.tls_key_file = cert->key_file;
  auto tls = HttpServer::Create(options);
  auto plain = HttpServer::Create(PlaintextOptions());
  ASSERT_TRUE(tls.ok() && plain.ok());
  AddReviewEcho(**tls);
  AddReviewEcho(**plain);
  ASSERT_TRUE((*tls)->Start().ok() && (*plain)->Start().ok());

  httplib::SSLClient tls_client("localhost", (*tls)->port());
  tls_client.set_ca_cert_path(cert->cert_file.c_str());
  tls_client.enable_server_certificate_verification(true);
  httplib::Client plain_client("127.0.0.1", (*plain)->port());
  // With Nagle's algorithm against delayed ACKs each reply would wait ~40 ms.
  EXPECT_LT(TimeKeepAlivePosts(tls_client, 10), absl::Milliseconds(300));
  EXPECT_LT(TimeKeepAlivePosts(plain_client, 10), absl::Milliseconds(300));
}

TEST(HttpServerTest, RequiresTlsUnlessPlaintextIsAllowed) {
  HttpServerOptions options;
  EXPECT_EQ(HttpServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.tls_cert_file = "/nonexistent/tls.crt";
  EXPECT_EQ(HttpServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.tls_key_file = "/nonexistent/tls.key";
  absl::Status status = HttpServer::Create(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("/nonexistent/tls.crt"), absl::string_view::npos) << status;
}

TEST(HttpServerTest, BindFailureIsUnavailable) {
  auto first = HttpServer::Create(PlaintextOptions());
  ASSERT_TRUE(first.ok() && (*first)->Start().ok());
  HttpServerOptions options = PlaintextOptions();
  options.port = (*first)->port();
  auto second = HttpServer::Create(options);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->Start().code(), absl::StatusCode::kUnavailable);
}

// GET /healthz over TLS trusting only `ca` (as it was generated: its files may have been
// replaced since); true when the handshake and request succeed.
bool HealthzTrusting(int port, const TestCert& ca) {
  std::string trust_file = TestTmpDir() + "/trust.pem";
  {
    std::ofstream out(trust_file, std::ios::trunc);
    out << ca.cert_pem;
  }
  httplib::SSLClient client("localhost", port);
  client.set_ca_cert_path(trust_file.c_str());
  client.enable_server_certificate_verification(true);
  auto reply = client.Get("/healthz");
  return reply && reply->status == 200 && reply->body == "ok";
}

TEST(HttpServerTest, ServesTlsAndReloadsTheCertificate) {
  std::string dir = TestTmpDir();
  auto first = WriteSelfSignedCert(dir, "http", "first", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.tls_cert_file = first->cert_file;
  options.tls_key_file = first->key_file;
  options.cert_check_interval = absl::ZeroDuration();  // check at every handshake
  auto server = HttpServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  metrics::Registry registry;
  AddMetricsAndHealth(**server, registry, nullptr);
  ASSERT_TRUE((*server)->Start().ok());
  EXPECT_TRUE((*server)->tls());
  int port = (*server)->port();
  EXPECT_TRUE(HealthzTrusting(port, *first));

  // Each certificate is its own CA, so a client trusting only one of them tells which one the
  // server presented.
  auto second = WriteSelfSignedCert(dir, "http", "second", 2);  // replaces the files
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(HealthzTrusting(port, *second));
  EXPECT_FALSE(HealthzTrusting(port, *first));

  // A half-updated pair (new key, old certificate) is not loaded: the server keeps the last
  // good pair until the certificate arrives too.
  auto third = WriteSelfSignedCert(dir, "http-next", "third", 3);
  ASSERT_TRUE(third.ok()) << third.status();
  std::filesystem::copy_file(third->key_file, second->key_file,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(HealthzTrusting(port, *second));
  std::filesystem::copy_file(third->cert_file, second->cert_file,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(HealthzTrusting(port, *third));
  EXPECT_FALSE(HealthzTrusting(port, *second));
}

TEST(HttpServerTest, RefusesOldTlsVersions) {
  auto cert = WriteSelfSignedCert(TestTmpDir(), "http-old", "old", 1);
  ASSERT_TRUE(cert.ok()) << cert.status();
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.tls_cert_file = cert->cert_file;
  options.tls_key_file = cert->key_file;
  auto server = HttpServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  AddMetricsAndHealth(**server, metrics::DefaultRegistry(), nullptr);
  ASSERT_TRUE((*server)->Start().ok());

  auto healthz_with_max_version = [&](int max_version) {
    httplib::SSLClient client("localhost", (*server)->port());
    client.set_ca_cert_path(cert->cert_file.c_str());
    client.enable_server_certificate_verification(true);
    SSL_CTX_set_security_level(client.ssl_context(), 0);
    SSL_CTX_set_min_proto_version(client.ssl_context(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(client.ssl_context(), max_version);
    return static_cast<bool>(client.Get("/healthz"));
  };
  EXPECT_FALSE(healthz_with_max_version(TLS1_1_VERSION));
  EXPECT_TRUE(healthz_with_max_version(TLS1_2_VERSION));
}

}  // namespace
}  // namespace labkube
