#include "lib/kube/rest_client.h"

#include <deque>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records requests; answers from a script. Stream() delivers `chunks` then `stream_status`.
class FakeTransport : public Transport {
 public:
  std::vector<HttpRequest> requests;
  std::deque<HttpResponse> responses;
  std::vector<std::string> chunks;
  absl::Status stream_status;
  int heartbeats_before = 0;

  absl::StatusOr<HttpResponse> Do(const HttpRequest& r) override {
    requests.push_back(r);
    if (responses.empty()) return absl::UnavailableError("no scripted response");
    HttpResponse resp = responses.front();
    responses.pop_front();
    return resp;
  }
  absl::Status Stream(const HttpRequest& r, const ChunkCallback& on_chunk) override {
    requests.push_back(r);
    for (int i = 0; i < heartbeats_before; ++i) {
      if (!on_chunk("")) return absl::OkStatus();
    }
    for (const std::string& c : chunks) {
      if (!on_chunk(c)) return absl::OkStatus();
    }
    return stream_status;
  }
  void Reply(long status, std::string body) { responses.push_back({status, std::move(body), ""}); }
};

class RestClientTest : public ::testing::Test {
 protected:
  RestClientTest() {
    auto t = std::make_unique<FakeTransport>();
    fake_ = t.get();
    client_ = std::make_unique<RestClient>(std::move(t));
  }
  const HttpRequest& Last() { return fake_->requests.back(); }

  FakeTransport* fake_;
  std::unique_ptr<RestClient> client_;
};

rapidjson::Document ConfigMap(const char* name) {
  rapidjson::Document d = json::NewObject("v1", "ConfigMap", "ns", name);
  json::SetString(d, {"data", "k"}, "v");
  return d;
}

TEST(UrlTest, EncodeAndQuery) {
  EXPECT_EQ(UrlEncode("app in (a,b),x!=y"), "app%20in%20%28a%2Cb%29%2Cx%21%3Dy");
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(QueryString({{"a", ""}, {"b", "1"}, {"c", "x/y"}}), "?b=1&c=x%2Fy");
  EXPECT_EQ(QueryString({{"a", ""}}), "");
}

TEST_F(RestClientTest, Get) {
  fake_->Reply(200, R"({"kind":"ConfigMap","metadata":{"name":"a"}})");
  auto got = client_->Get(resources::ConfigMaps(), "ns", "a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(json::GetString(*got, {"metadata", "name"}), "a");
  EXPECT_EQ(Last().method, "GET");
  EXPECT_EQ(Last().path, "/api/v1/namespaces/ns/configmaps/a");
}

TEST_F(RestClientTest, ErrorsCarryServerMessage) {
  fake_->Reply(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":)"
                    R"("configmaps \"a\" not found","reason":"NotFound","code":404})");
  auto got = client_->Get(resources::ConfigMaps(), "ns", "a");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(),
            "GET /api/v1/namespaces/ns/configmaps/a: 404 NotFound: configmaps \"a\" not found");
  fake_->Reply(200, "not json");
  EXPECT_EQ(client_->Get(resources::Nodes(), "", "n").status().code(), absl::StatusCode::kInternal);
}

TEST_F(RestClientTest, RefusesMissingNameOrNamespace) {
  EXPECT_EQ(client_->Delete(resources::ConfigMaps(), "ns", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Delete(resources::ConfigMaps(), "", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Get(resources::Machines(), "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  rapidjson::Document no_ns = json::NewObject("v1", "ConfigMap", "", "x");
  EXPECT_EQ(client_->Create(resources::ConfigMaps(), "", no_ns).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_->requests.empty());
}

TEST_F(RestClientTest, ListWithOptions) {
  fake_->Reply(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"42",)"
                    R"("continue":"tok"},"items":[{"metadata":{"name":"a"}},{}]})");
  ListOptions o;
  o.label_selector = "app=x,tier in (a,b)";
  o.field_selector = "metadata.name!=b";
  o.limit = 500;
  o.resource_version = "0";
  auto list = client_->List(resources::ConfigMaps(), "", o);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(Last().path,
            "/api/v1/configmaps?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%21%3Db&limit=500&resourceVersion=0");
  EXPECT_EQ(list->resource_version, "42");
  EXPECT_EQ(list->continue_token, "tok");
  EXPECT_EQ(list->items().Size(), 2u);
  o.continue_token = "tok";
  fake_->Reply(200, R"({"metadata":{"resourceVersion":"43"}})");
  list = client_->List(resources::ConfigMaps(), "ns", o);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Last().path,
            "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%21%3Db&limit=500&continue=tok");
  EXPECT_EQ(list->continue_token, "");
  EXPECT_EQ(list->items().Size(), 0u);  // no items field
}

TEST_F(RestClientTest, CreateUpdateWithOptions) {
  fake_->Reply(201, R"({"metadata":{"name":"a","uid":"u1"}})");
  WriteOptions w;
  w.field_manager = "labkube";
  w.dry_run = true;
  auto created = client_->Create(resources::ConfigMaps(), "", ConfigMap("a"), w);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(Last().method, "POST");
  EXPECT_EQ(Last().path, "/api/v1/namespaces/ns/configmaps?fieldManager=labkube&dryRun=All");
  EXPECT_EQ(Last().content_type, "application/json");
  EXPECT_THAT(Last().body, HasSubstr(R"("data":{"k":"v"})"));

  fake_->Reply(409, R"({"kind":"Status","message":"exists","reason":"AlreadyExists","code":409})");
  EXPECT_EQ(client_->Create(resources::ConfigMaps(), "ns", ConfigMap("a")).status().code(),
            absl::StatusCode::kAlreadyExists);

  fake_->Reply(200, "{}");
  ASSERT_TRUE(client_->Update(resources::Pods(), "ns", "p", ConfigMap("p"), "status").ok());
  EXPECT_EQ(Last().method, "PUT");
  EXPECT_EQ(Last().path, "/api/v1/namespaces/ns/pods/p/status");
  fake_->Reply(409, R"({"kind":"Status","message":"modified","reason":"Conflict","code":409})");
  EXPECT_EQ(client_->Update(resources::ConfigMaps(), "ns", "a", ConfigMap("a")).status().code(),
            absl::StatusCode::kAborted);
}

TEST_F(RestClientTest, PatchTypes) {
  struct Case {
    PatchType type;
    const char* content_type;
    bool idempotent;
  };
  const Case cases[] = {
      {PatchType::kJsonPatch, "application/json-patch+json", false},
      {PatchType::kMergePatch, "application/merge-patch+json", true},
      {PatchType::kStrategicMergePatch, "application/strategic-merge-patch+json", true},
  };
  for (const Case& c : cases) {
    fake_->Reply(200, "{}");
    ASSERT_TRUE(client_->Patch(resources::Deployments(), "ns", "d", c.type, "[]").ok());
    EXPECT_EQ(Last().method, "PATCH");
    EXPECT_EQ(Last().path, "/apis/apps/v1/namespaces/ns/deployments/d");
    EXPECT_EQ(Last().content_type, c.content_type);
    EXPECT_EQ(Last().idempotent, c.idempotent);
    EXPECT_EQ(Last().body, "[]");
  }
  PatchOptions o;
  EXPECT_EQ(
      client_->Patch(resources::Machines(), "", "m", PatchType::kApply, "{}", o).status().code(),
      absl::StatusCode::kInvalidArgument);  // apply needs a field manager
  o.field_manager = "labkube-scheduler";
  o.force = true;
  o.subresource = "status";
  fake_->Reply(200, "{}");
  ASSERT_TRUE(client_->Patch(resources::Machines(), "", "m", PatchType::kApply, "{}", o).ok());
  EXPECT_EQ(
      Last().path,
      "/apis/labkube.io/v1alpha1/machines/m/status?fieldManager=labkube-scheduler&force=true");
  EXPECT_EQ(Last().content_type, "application/apply-patch+yaml");
}

TEST_F(RestClientTest, DeleteOptionsInBody) {
  fake_->Reply(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions o;
  o.grace_period_seconds = 0;
  o.propagation_policy = "Foreground";
  o.precondition_uid = "u1";
  o.precondition_resource_version = "7";
  o.dry_run = true;
  ASSERT_TRUE(client_->Delete(resources::Pods(), "ns", "p", o).ok());
  EXPECT_EQ(Last().method, "DELETE");
  EXPECT_EQ(Last().path, "/api/v1/namespaces/ns/pods/p");
  EXPECT_EQ(Last().body, R"({"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,)"
                         R"("propagationPolicy":"Foreground","preconditions":{"uid":"u1",)"
                         R"("resourceVersion":"7"},"dryRun":["All"]})");
  fake_->Reply(200, "{}");
  ASSERT_TRUE(client_->Delete(resources::Machines(), "", "m").ok());
  EXPECT_EQ(Last().body, R"({"apiVersion":"v1","kind":"DeleteOptions"})");
}

TEST_F(RestClientTest, CreateSubresource) {
  fake_->Reply(201, R"({"status":{"token":"t"}})");
  rapidjson::Document req = json::NewObject("authentication.k8s.io/v1", "TokenRequest", "", "");
  auto got =
      client_->CreateSubresource(resources::ServiceAccounts(), "ns", "default", "token", req);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Last().path, "/api/v1/namespaces/ns/serviceaccounts/default/token");
  EXPECT_EQ(json::GetString(*got, {"status", "token"}), "t");
}

std::vector<std::string> Names(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const WatchEvent& e : events) {
    out.push_back(std::to_string(static_cast<int>(e.type)) + ":" +
                  std::string(json::GetString(e.object, {"metadata", "name"})));
  }
  return out;
}

TEST_F(RestClientTest, WatchSplitsEventsAcrossChunks) {
  std::string stream =
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})"
      "\n"
      R"({"type":"MODIFIED","object":{"metadata":{"name":"b"}}})"
      "\n\n"
      R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})"
      "\n"
      R"({"type":"DELETED","object":{"metadata":{"name":"c"}}})";  // no final newline
  // Every split point, including mid-token ones.
  for (size_t cut = 0; cut <= stream.size(); cut += 7) {
    fake_->chunks = {stream.substr(0, cut), stream.substr(cut, 5),
                     stream.substr(cut + 5 > stream.size() ? stream.size() : cut + 5)};
    fake_->heartbeats_before = 1;
    std::vector<WatchEvent> events;
    WatchOptions o;
    o.resource_version = "5";
    o.label_selector = "a=b";
    o.timeout = absl::Seconds(60);
    absl::Status s = client_->Watch(resources::ConfigMaps(), "ns", o, [&](WatchEvent&& e) {
      events.push_back(std::move(e));
      return true;
    });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_THAT(Names(events), ElementsAre("0:a", "1:b", "3:", "2:c")) << cut;
    EXPECT_EQ(json::GetString(events[0].object, {"metadata", "resourceVersion"}), "1");
  }
  EXPECT_EQ(Last().path,
            "/api/v1/namespaces/ns/configmaps?watch=1&resourceVersion=5&allowWatchBookmarks=true"
            "&timeoutSeconds=60&labelSelector=a%3Db");
  EXPECT_EQ(Last().timeout, absl::Seconds(90));
}

TEST_F(RestClientTest, WatchStopsWhenCallbackSaysSo) {
  fake_->chunks = {
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n"};
  int n = 0;
  EXPECT_TRUE(client_
                  ->Watch(resources::Pods(), "", {},
                          [&](WatchEvent&&) {
                            ++n;
                            return false;
                          })
                  .ok());
  EXPECT_EQ(n, 1);
  WatchOptions o;
  o.should_stop = [] { return true; };
  fake_->heartbeats_before = 1;
  EXPECT_TRUE(client_
                  ->Watch(resources::Pods(), "", o,
                          [&](WatchEvent&&) {
                            ++n;
                            return true;
                          })
                  .ok());
  EXPECT_EQ(n, 1);
}

TEST_F(RestClientTest, WatchErrorEventGone) {
  fake_->chunks = {
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
      "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (77)\",\"reason\":"
      "\"Expired\",\"code\":410}}\n"};
  std::vector<WatchEvent> events;
  WatchOptions o;
  o.resource_version = "1";
  absl::Status s = client_->Watch(resources::ConfigMaps(), "", o, [&](WatchEvent&& e) {
    events.push_back(std::move(e));
    return true;
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "WATCH /api/v1/configmaps: 410 Expired: too old resource version: 1 (77)");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_EQ(json::GetInt(events[0].object, {"code"}), 410);
}

TEST_F(RestClientTest, WatchBadStreams) {
  fake_->chunks = {"{\"type\":\"ADDED\",\"object\":{}}\n{not json\n"};
  EXPECT_EQ(client_->Watch(resources::Pods(), "", {}, [](WatchEvent&&) { return true; }).code(),
            absl::StatusCode::kInternal);
  fake_->chunks = {"{\"type\":\"WHAT\",\"object\":{}}\n"};
  EXPECT_EQ(client_->Watch(resources::Pods(), "", {}, [](WatchEvent&&) { return true; }).code(),
            absl::StatusCode::kInternal);
  fake_->chunks = {};
  fake_->stream_status = absl::OutOfRangeError("410 from the HTTP status");
  EXPECT_EQ(client_->Watch(resources::Pods(), "", {}, [](WatchEvent&&) { return true; }).code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace labkube::kube
