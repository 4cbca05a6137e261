#include "lib/service/call_interceptor.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "labkube/testing/v1/echo.grpc.pb.h"
#include "lib/grpc_server.h"
#include "spdlog/sinks/ostream_sink.h"

namespace labkube::service {
namespace {

using ::labkube::testing::v1::Echo;
using ::labkube::testing::v1::EchoRequest;
using ::labkube::testing::v1::EchoResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kApi[] = "labkube.testing.v1.Echo";

// Answers "fail" with INVALID_ARGUMENT and "boom" with INTERNAL; adds the member field.
class EchoService final : public Echo::Service {
  grpc::Status Echo(grpc::ServerContext* context, const EchoRequest* request,
                    EchoResponse* response) override {
    AddCallLogField(context, "member", "alice");
    AddCallLogField(context, "password", "hunter2");  // redacted by key
    if (request->message() == "fail") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "message: not allowed");
    }
    if (request->message() == "boom") return grpc::Status(grpc::StatusCode::INTERNAL, "broke");
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

class CallInterceptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(log_));
    SetLogLevel(LogLevel::kDebug);
    GrpcServer::InterceptorFactories factories;
    factories.push_back(NewCallInterceptorFactory({"test_echo", kApi, {}, &registry_}));
    auto server = GrpcServer::Create(
        {.address = "127.0.0.1:0", .plaintext = true, .max_threads = 4}, {&echo_},
        std::move(factories));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    server_.reset();
    SetLogSink(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }

  grpc::Status Call(const std::string& message) {
    grpc::ClientContext context;
    EchoRequest request;
    request.set_message(message);
    EchoResponse response;
    return Echo::NewStub(channel_)->Echo(&context, request, &response);
  }

  std::ostringstream log_;
  metrics::Registry registry_;
  EchoService echo_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(CallInterceptorTest, CountsTimesAndLogsEveryCall) {
  ASSERT_TRUE(Call("hi").ok());
  ASSERT_EQ(Call("fail").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(Call("boom").error_code(), grpc::StatusCode::INTERNAL);
  server_.reset();  // every call's line is written
  std::string text = registry_.Expose();
  EXPECT_THAT(text, HasSubstr("test_echo_calls_total{method=\"Echo\",code=\"OK\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("test_echo_calls_total{method=\"Echo\",code=\"INVALID_ARGUMENT\"} 1"));
  EXPECT_THAT(text, HasSubstr("test_echo_calls_total{method=\"Echo\",code=\"INTERNAL\"} 1"));
  EXPECT_THAT(text, HasSubstr("test_echo_call_seconds_count{method=\"Echo\"} 3"));
  std::string lines = log_.str();
  EXPECT_THAT(lines, HasSubstr(R"("level":"info","event":"request","method":"Echo","peer":")"));
  EXPECT_THAT(lines, HasSubstr(R"("code":"OK","error":"","latency_ms":)"));
  EXPECT_THAT(lines, HasSubstr(R"("level":"info","event":"request","method":"Echo")"));
  EXPECT_THAT(lines, HasSubstr(R"("code":"INVALID_ARGUMENT","error":"message: not allowed")"));
  EXPECT_THAT(lines, HasSubstr(R"("level":"warn","event":"request","method":"Echo")"));
  EXPECT_THAT(lines, HasSubstr(R"("member":"alice")"));
  EXPECT_THAT(lines, HasSubstr(R"("password":"[redacted]")"));
  EXPECT_THAT(lines, Not(HasSubstr("hunter2")));
}

TEST_F(CallInterceptorTest, OtherServicesAreLabelledByFullName) {
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(
      grpc::health::v1::Health::NewStub(channel_)->Check(&context, request, &response).ok());
  server_.reset();
  EXPECT_THAT(registry_.Expose(),
              HasSubstr("test_echo_calls_total{method=\"grpc.health.v1.Health/Check\",code=\"OK\"} 1"));
  EXPECT_THAT(log_.str(), HasSubstr(R"("level":"debug","event":"request")"));  // a read
}

TEST(AddCallLogField, OutsideAnInterceptedCallDoesNothing) {
  grpc::ServerContext context;
  AddCallLogField(&context, "member", "bob");  // no crash, nothing kept
}

TEST(MethodLabel, ApiMethodsByNameOthersInFull) {
  EXPECT_EQ(MethodLabel("/labkube.gateway.v1alpha1.Gateway/Login", "labkube.gateway.v1alpha1.Gateway"),
            "Login");
  EXPECT_EQ(MethodLabel("/grpc.health.v1.Health/Check", "labkube.gateway.v1alpha1.Gateway"),
            "grpc.health.v1.Health/Check");
  EXPECT_EQ(MethodLabel("/labkube.gateway.v1alpha1.GatewayX/Login",
                        "labkube.gateway.v1alpha1.Gateway"),
            "labkube.gateway.v1alpha1.GatewayX/Login");
  EXPECT_EQ(MethodLabel("/a.B/C", ""), "a.B/C");
}

TEST(CallLogLevel, ReadsQuietBadInputInfoFailuresWarn) {
  CallLogLevels levels;
  EXPECT_EQ(CallLogLevel(levels, "ListWorkspaces", grpc::StatusCode::OK), LogLevel::kDebug);
  EXPECT_EQ(CallLogLevel(levels, "DescribeWorkspace", grpc::StatusCode::OK), LogLevel::kDebug);
  EXPECT_EQ(CallLogLevel(levels, "WhoAmI", grpc::StatusCode::OK), LogLevel::kDebug);
  EXPECT_EQ(CallLogLevel(levels, "StartWorkspace", grpc::StatusCode::OK), LogLevel::kInfo);
  EXPECT_EQ(CallLogLevel(levels, "ListWorkspaces", grpc::StatusCode::NOT_FOUND), LogLevel::kInfo);
  EXPECT_EQ(CallLogLevel(levels, "Login", grpc::StatusCode::INVALID_ARGUMENT), LogLevel::kInfo);
  EXPECT_EQ(CallLogLevel(levels, "Login", grpc::StatusCode::UNAUTHENTICATED), LogLevel::kWarn);
  CallLogLevels quiet{.write_ok = LogLevel::kDebug, .failed = LogLevel::kInfo};
  EXPECT_EQ(CallLogLevel(quiet, "Claim", grpc::StatusCode::OK), LogLevel::kDebug);
  EXPECT_EQ(CallLogLevel(quiet, "Claim", grpc::StatusCode::UNAVAILABLE), LogLevel::kInfo);
}

}  // namespace
}  // namespace labkube::service
