#include "lib/service/endpoints.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "labkube/testing/v1/echo.grpc.pb.h"
#include "lib/service/options.h"

namespace labkube::service {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::labkube::testing::v1::Echo;
using ::labkube::testing::v1::EchoRequest;
using ::labkube::testing::v1::EchoResponse;
using ::testing::HasSubstr;

constexpr char kApi[] = "labkube.testing.v1.Echo";

class EchoService final : public Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* request,
                    EchoResponse* response) override {
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

ServiceOptions Loopback() {
  ServiceOptions o;
  o.plaintext = true;
  o.grpc_address = "127.0.0.1:0";
  o.http_address = "127.0.0.1";
  o.http_port = 0;
  o.max_threads = 4;
  return o;
}

int Get(int port, const std::string& path, std::string* body = nullptr) {
  httplib::Client client("127.0.0.1", port);
  auto result = client.Get(path.c_str());
  if (!result) return -1;
  if (body != nullptr) *body = result->body;
  return result->status;
}

HealthCheckResponse::ServingStatus Health(const std::shared_ptr<grpc::Channel>& channel,
                                          const std::string& service) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status s = Health::NewStub(channel)->Check(&context, request, &response);
  return s.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
}

TEST(Endpoints, ServesGrpcHealthReadinessAndMetrics) {
  metrics::Registry registry;
  EchoService echo;
  std::atomic<bool> synced{false};
  ServiceOptions o = Loopback();
  auto endpoints = Endpoints::Start({.grpc = GrpcOptionsOf(o),
                                     .services = {&echo},
                                     .api_service = kApi,
                                     .metric_prefix = "test_echo",
                                     .http = HttpOptionsOf(o),
                                     .ready = [&] { return synced.load(); },
                                     .registry = &registry});
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  Endpoints& e = **endpoints;
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", e.grpc_port()),
                                     grpc::InsecureChannelCredentials());
  EXPECT_EQ(Health(channel, kApi), HealthCheckResponse::SERVING);
  grpc::ClientContext context;
  EchoRequest request;
  EchoResponse response;
  ASSERT_TRUE(Echo::NewStub(channel)->Echo(&context, request, &response).ok());

  EXPECT_EQ(Get(e.http_port(), "/healthz"), 200);
  EXPECT_EQ(Get(e.http_port(), "/readyz"), 503);
  synced = true;
  EXPECT_EQ(Get(e.http_port(), "/readyz"), 200);
  std::string metrics;
  EXPECT_EQ(Get(e.http_port(), "/metrics", &metrics), 200);
  EXPECT_THAT(metrics, HasSubstr("test_echo_calls_total{method=\"Echo\",code=\"OK\"} 1"));

  e.Drain();  // a rolling update: not ready, still serving
  EXPECT_EQ(Get(e.http_port(), "/readyz"), 503);
  EXPECT_EQ(Get(e.http_port(), "/healthz"), 200);
  e.Shutdown(absl::Now() + absl::Seconds(1));
  EXPECT_TRUE(e.shutting_down());
  EXPECT_EQ(Get(e.http_port(), "/healthz"), -1);  // stopped
  e.Shutdown(absl::Now());                         // idempotent
}

TEST(Endpoints, HttpOnlyWithTheServicesRoutes) {
  metrics::Registry registry;
  ServiceOptions o = Loopback();
  auto endpoints = Endpoints::Start(
      {.http = HttpOptionsOf(o),
       .routes = [](HttpServer& http) {
         http.Handle("GET", "/hello", [](const HttpRequest&) { return HttpResponse{.body = "hi"}; });
       },
       .registry = &registry});
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  EXPECT_EQ((*endpoints)->grpc(), nullptr);
  EXPECT_EQ((*endpoints)->grpc_port(), 0);
  std::string body;
  EXPECT_EQ(Get((*endpoints)->http_port(), "/hello", &body), 200);
  EXPECT_EQ(body, "hi");
  EXPECT_EQ(Get((*endpoints)->http_port(), "/readyz"), 200);
}

TEST(Endpoints, ABusyPortIsUnavailable) {
  metrics::Registry registry;
  ServiceOptions o = Loopback();
  auto first = Endpoints::Start({.http = HttpOptionsOf(o), .registry = &registry});
  ASSERT_TRUE(first.ok()) << first.status();
  o.http_port = (*first)->http_port();
  EchoService echo;
  auto second = Endpoints::Start({.grpc = GrpcOptionsOf(o),
                                  .services = {&echo},
                                  .api_service = kApi,
                                  .metric_prefix = "test_echo",
                                  .http = HttpOptionsOf(o),
                                  .registry = &registry});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

}  // namespace
}  // namespace labkube::service
