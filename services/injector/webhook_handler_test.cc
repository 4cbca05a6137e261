#include "services/injector/webhook_handler.h"

#include <deque>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "services/injector/testing/fake_claimer.h"
#include "services/injector/testing/testdata.h"
#include "spdlog/sinks/ostream_sink.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using testing::FakeClaimer;
using testing::kTestdata;
using testing::ParseJson;
using testing::ReadTestFile;

TEST(ClaimBudgetTest, UsesTheShorterOfConfiguredAndTheApiServersTimeout) {
  EXPECT_EQ(ClaimBudget("", absl::Seconds(2)), absl::Seconds(2));
  EXPECT_EQ(ClaimBudget("10s", absl::Seconds(2)), absl::Seconds(2));
  EXPECT_EQ(ClaimBudget("10s", absl::Seconds(30)), absl::Seconds(8));
  EXPECT_EQ(ClaimBudget("2s", absl::Seconds(2)), absl::Milliseconds(1600));
  EXPECT_EQ(ClaimBudget("1s", absl::Seconds(2)), absl::Milliseconds(800));
  EXPECT_EQ(ClaimBudget("300ms", absl::Seconds(2)), absl::Milliseconds(150));
  EXPECT_EQ(ClaimBudget("1m0s", absl::Seconds(2)), absl::Seconds(2));
  EXPECT_EQ(ClaimBudget("soon", absl::Seconds(2)), absl::Seconds(2));
  EXPECT_EQ(ClaimBudget("0s", absl::Seconds(2)), absl::Seconds(2));
  EXPECT_EQ(ClaimBudget("-5s", absl::Seconds(2)), absl::Seconds(2));
}

TEST(IsJsonContentTypeTest, AcceptsParameters) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType(" Application/JSON "));
  EXPECT_FALSE(IsJsonContentType(""));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/json-patch+json"));
  EXPECT_FALSE(IsJsonContentType("application/yaml"));
}

class WebhookHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)); }
  void TearDown() override { SetLogSink(nullptr); }

  std::deque<std::string> bodies_;  // stable addresses for the requests' body views

  // The request's body is a view (as the server gives it): the fixture keeps the text.
  HttpRequest Post(const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/mutate-pods";
    r.body = bodies_.emplace_back(body);
    r.headers.emplace("Content-Type", "application/json");
    return r;
  }
  HttpRequest PostFile(const std::string& relative) {
    return Post(ReadTestFile(std::string(kTestdata) + "/" + relative));
  }
  double Count(const std::string& result) {
    return registry_
        .Counter("labkube_injector_admissions_total",
                 "Admission reviews answered, by result (ignored, injected, "
                 "unchanged, denied_*, bad_request).",
                 {"result"})
        ->Labels({result})
        .Value();
  }

  std::ostringstream log_;
  FakeClaimer claimer_;
  Mutator mutator_{claimer_};
  metrics::Registry registry_;
  WebhookHandler handler_{mutator_, registry_, {.max_body_bytes = 64 * 1024}};
};

TEST_F(WebhookHandlerTest, GuestPodIsPatched) {
  HttpResponse r = handler_.Handle(PostFile("admission/guest_deployment_pod.json"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  rapidjson::Document doc = ParseJson(r.body);
  EXPECT_EQ(json::GetString(doc, {"response", "uid"}), "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_TRUE(json::GetBool(doc, {"response", "allowed"}));
  std::string patch;
  ASSERT_TRUE(
      absl::Base64Unescape(std::string(json::GetString(doc, {"response", "patch"})), &patch));
  EXPECT_TRUE(ParseJson(patch).IsArray());
  EXPECT_EQ(Count("injected"), 1);
  std::string histogram = registry_.Expose();
  EXPECT_NE(histogram.find("labkube_injector_admission_seconds_count 1"), std::string::npos)
      << histogram;
}

// One structured line per decision, without the pod body, tokens or credentials.
TEST_F(WebhookHandlerTest, LogsOneLineWithoutTheBody) {
  handler_.Handle(PostFile("admission/guest_deployment_pod.json"));
  std::string line = log_.str();
  ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  rapidjson::Document doc = ParseJson(line);
  EXPECT_EQ(json::GetString(doc, {"event"}), "admission");
  EXPECT_EQ(json::GetString(doc, {"namespace"}), "team-a");
  EXPECT_EQ(json::GetString(doc, {"pod"}), "train-5c9d8b7f6-*");
  EXPECT_EQ(json::GetString(doc, {"type"}), "a100");
  EXPECT_EQ(json::GetString(doc, {"node"}), "gpu-1");
  EXPECT_TRUE(json::GetBool(doc, {"allowed"}));
  EXPECT_NE(json::Find(doc, {"latency_ms"}), nullptr);
  for (const char* secret :
       {"JTI=", "credential-id", "kube-api-access", "serviceAccountToken", "nvcr.io", "EPOCHS"}) {
    EXPECT_EQ(line.find(secret), std::string::npos) << secret << " in " << line;
  }
}

TEST_F(WebhookHandlerTest, NonGuestIsAllowedWithoutAskingTheScheduler) {
  for (const char* file : {"admission/plain_pod.json", "admission/deployment_create.json",
                           "admission/guest_update.json", "admission/guest_delete.json"}) {
    HttpResponse r = handler_.Handle(PostFile(file));
    ASSERT_EQ(r.status, 200) << file;
    rapidjson::Document doc = ParseJson(r.body);
    EXPECT_TRUE(json::GetBool(doc, {"response", "allowed"})) << file;
    EXPECT_EQ(json::Find(doc, {"response", "patch"}), nullptr) << file;
  }
  EXPECT_EQ(claimer_.calls(), 0);
  EXPECT_EQ(Count("ignored"), 4);
  EXPECT_EQ(log_.str(), "") << "pods that are not guests are counted, not logged (at info)";
}

TEST_F(WebhookHandlerTest, DenialCarriesStatus) {
  claimer_.SetError(absl::ResourceExhaustedError("no free a100 slot"));
  HttpResponse r = handler_.Handle(PostFile("admission/guest_minimal.json"));
  ASSERT_EQ(r.status, 200);
  rapidjson::Document doc = ParseJson(r.body);
  EXPECT_FALSE(json::GetBool(doc, {"response", "allowed"}, true));
  EXPECT_EQ(json::GetInt(doc, {"response", "status", "code"}), 429);
  EXPECT_EQ(json::GetString(doc, {"response", "status", "message"}), "labkube: no free a100 slot");
  EXPECT_EQ(Count("denied_no_slot"), 1);
}

TEST_F(WebhookHandlerTest, TimeoutParameterShortensTheDeadline) {
  HttpRequest request = PostFile("admission/guest_minimal.json");
  request.params.emplace("timeout", "1s");
  absl::Time before = absl::Now();
  handler_.Handle(request);
  ASSERT_EQ(claimer_.deadlines().size(), 1u);
  absl::Duration budget = claimer_.deadlines()[0] - before;
  EXPECT_GE(budget, absl::Milliseconds(800));
  EXPECT_LT(budget, absl::Milliseconds(900));
}

TEST_F(WebhookHandlerTest, BadRequestsGetA4xxWithTheReason) {
  HttpRequest get = PostFile("admission/guest_minimal.json");
  get.method = "GET";
  HttpRequest yaml = PostFile("admission/guest_minimal.json");
  yaml.headers = {{"content-type", "application/yaml"}};
  HttpRequest big = Post(std::string(64 * 1024 + 1, ' '));
  struct Case {
    HttpRequest request;
    int status;
    const char* message;
    const char* uid;
  } cases[] = {
      {get, 405, "only accepts POST", ""},
      {yaml, 415, "application/json", ""},
      {big, 413, "more than the limit of 65536", ""},
      {PostFile("bad/truncated.json"), 400, "bad AdmissionReview: the body is not a JSON", ""},
      {PostFile("bad/v1beta1.json"), 400, "apiVersion must be admission.k8s.io/v1",
       "11111111-0000-4000-8000-000000000001"},
      {PostFile("bad/object_not_pod.json"), 400, "request.object is not a Pod",
       "11111111-0000-4000-8000-000000000003"},
  };
  for (const Case& c : cases) {
    HttpResponse r = handler_.Handle(c.request);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
    rapidjson::Document doc = ParseJson(r.body);
    EXPECT_FALSE(json::GetBool(doc, {"response", "allowed"}, true));
    EXPECT_EQ(json::GetInt(doc, {"response", "status", "code"}), c.status);
    EXPECT_NE(json::GetString(doc, {"response", "status", "message"}).find(c.message),
              std::string::npos)
        << r.body;
    EXPECT_EQ(json::GetString(doc, {"response", "uid"}), c.uid);
  }
  EXPECT_EQ(Count("bad_request"), 6);
  EXPECT_EQ(claimer_.calls(), 0);
}

}  // namespace
}  // namespace labkube::injector
