// The injector in-process: its HTTPS server on port 0 with a test certificate, the real gRPC
// client to a fake Scheduler service on port 0 (plaintext loopback), real AdmissionReview bodies
// POSTed with httplib::SSLClient; and the same injector pointed at a closed port.
#include "services/injector/server.h"

#include <httplib.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/grpc_server.h"
#include "lib/kube/json.h"
#include "lib/testing/test_certs.h"
#include "services/injector/testing/fake_scheduler.h"
#include "services/injector/testing/testdata.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using testing::ClosedPort;
using testing::FakeSchedulerService;
using testing::kTestdata;
using testing::ParseJson;
using testing::ReadTestFile;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = labkube::testing::WriteSelfSignedCert(labkube::testing::TestTmpDir(), "injector",
                                                      "localhost", 11);
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *cert;
    auto grpc = GrpcServer::Create({.address = "127.0.0.1:0", .plaintext = true, .max_threads = 4},
                                   {&scheduler_});
    ASSERT_TRUE(grpc.ok()) << grpc.status();
    grpc_ = std::move(grpc).value();
  }

  // Starts the injector calling the scheduler at `scheduler_port`.
  void StartInjector(int scheduler_port, absl::Duration claim_timeout = absl::Seconds(2)) {
    Options o;
    o.http_address = "127.0.0.1";
    o.http_port = 0;
    o.tls_cert = cert_.cert_file;
    o.tls_key = cert_.key_file;
    o.scheduler_address = absl::StrCat("127.0.0.1:", scheduler_port);
    o.scheduler_plaintext = true;
    o.claim_timeout = claim_timeout;
    o.threads = 4;
    auto server = Server::Create(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    client_ = std::make_unique<httplib::SSLClient>("localhost", server_->port());
    client_->set_ca_cert_path(cert_.cert_file.c_str());
    client_->enable_server_certificate_verification(true);
    client_->set_read_timeout(std::chrono::seconds(20));
  }

  httplib::Result Review(const std::string& file, const std::string& query = "") {
    return client_->Post(("/mutate-pods" + query).c_str(),
                         ReadTestFile(std::string(kTestdata) + "/" + file), "application/json");
  }

  labkube::testing::TestCert cert_;
  FakeSchedulerService scheduler_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::SSLClient> client_;
};

TEST_F(ServerTest, PatchesAGuestPodOverTls) {
  StartInjector(grpc_->port());
  httplib::Result r = Review("admission/guest_deployment_pod.json", "?timeout=10s");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  rapidjson::Document doc = ParseJson(r->body);
  EXPECT_EQ(json::GetString(doc, {"response", "uid"}), "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_TRUE(json::GetBool(doc, {"response", "allowed"}));
  EXPECT_EQ(json::GetString(doc, {"response", "patchType"}), "JSONPatch");
  std::string patch;
  ASSERT_TRUE(
      absl::Base64Unescape(std::string(json::GetString(doc, {"response", "patch"})), &patch));
  EXPECT_NE(patch.find(R"("path":"/metadata/annotations/labkube.io~1claim","value":"c-1")"),
            std::string::npos)
      << patch;
  ASSERT_EQ(scheduler_.requests().size(), 1u);
  EXPECT_EQ(scheduler_.requests()[0].admission_uid(), "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(scheduler_.requests()[0].generate_name(), "train-5c9d8b7f6-");
}

TEST_F(ServerTest, AnswersAreNotCompressedForAClientThatAcceptsGzip) {
  // As the API server asks (Go's transport sends Accept-Encoding: gzip).
  StartInjector(grpc_->port());
  client_->set_decompress(false);
  httplib::Headers gzip = {{"Accept-Encoding", "gzip"}};
  httplib::Result r = client_->Post(
      "/mutate-pods?timeout=10s", gzip,
      ReadTestFile(std::string(kTestdata) + "/admission/guest_deployment_pod.json"),
      "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_TRUE(json::GetBool(ParseJson(r->body), {"response", "allowed"}));
}

TEST_F(ServerTest, AllowsOthersAndDeniesWithTheSchedulersMessage) {
  StartInjector(grpc_->port());
  httplib::Result plain = Review("admission/plain_pod.json");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(json::GetBool(ParseJson(plain->body), {"response", "allowed"}));
  EXPECT_TRUE(scheduler_.requests().empty());

  scheduler_.FailNext(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   "unknown machine type lab/a100; valid group/type: lab/v100"));
  httplib::Result denied = Review("admission/guest_minimal.json");
  ASSERT_TRUE(denied);
  rapidjson::Document doc = ParseJson(denied->body);
  EXPECT_FALSE(json::GetBool(doc, {"response", "allowed"}, true));
  EXPECT_EQ(json::GetInt(doc, {"response", "status", "code"}), 404);
  EXPECT_EQ(json::GetString(doc, {"response", "status", "message"}),
            "labkube: unknown machine type lab/a100; valid group/type: lab/v100");
}

TEST_F(ServerTest, BadRequestsAndHealthEndpoints) {
  StartInjector(grpc_->port());
  httplib::Result get = client_->Get("/mutate-pods");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  httplib::Result text = client_->Post("/mutate-pods", "hello", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 415);
  httplib::Result huge =
      client_->Post("/mutate-pods", std::string((3 << 20) + 1, ' '), "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_NE(huge->body.find("more than the limit"), std::string::npos);
  httplib::Result truncated = Review("bad/truncated.json");
  ASSERT_TRUE(truncated);
  EXPECT_EQ(truncated->status, 400);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("labkube_injector_admissions_total{result=\"bad_request\"}"),
            std::string::npos);
  EXPECT_TRUE(scheduler_.requests().empty());
}

TEST_F(ServerTest, SchedulerDownIsADenialWithinTheDeadline) {
  StartInjector(ClosedPort(), absl::Milliseconds(500));
  absl::Time start = absl::Now();
  httplib::Result r = Review("admission/guest_minimal.json", "?timeout=10s");
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200);
  rapidjson::Document doc = ParseJson(r->body);
  EXPECT_FALSE(json::GetBool(doc, {"response", "allowed"}, true));
  EXPECT_EQ(json::GetInt(doc, {"response", "status", "code"}), 503);
  std::string message(json::GetString(doc, {"response", "status", "message"}));
  EXPECT_EQ(message.rfind("labkube is unavailable: the scheduler did not answer (", 0), 0u)
      << message;
  EXPECT_NE(message.find("); try again shortly"), std::string::npos) << message;
  EXPECT_LT(took, absl::Seconds(3));
}

TEST(ServerOptionsTest, RefusesUnsafeOrIncompleteOptions) {
  Options plaintext_public;
  plaintext_public.plaintext = true;
  plaintext_public.scheduler_plaintext = true;
  EXPECT_FALSE(Server::Create(plaintext_public).ok());  // 0.0.0.0 without TLS
  Options no_cert;
  no_cert.scheduler_plaintext = true;
  EXPECT_FALSE(Server::Create(no_cert).ok());
}

}  // namespace
}  // namespace labkube::injector
