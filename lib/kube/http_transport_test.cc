// CurlTransport against a local plain-HTTP server (cpp-httplib): retries, Retry-After, bearer
// token re-reading, streaming, timeouts, keep-alive. TLS is covered by the cluster tests.
#include "lib/kube/http_transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace labkube::kube {
namespace {

using ::testing::HasSubstr;

HttpRequest Req(std::string method, std::string path, std::string body = "",
                absl::Duration timeout = absl::ZeroDuration()) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.timeout = timeout;
  return r;
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }

  std::unique_ptr<CurlTransport> Make(ClusterConfig config = {}, TransportOptions options = {}) {
    config.server = "http://127.0.0.1:" + std::to_string(port_);
    options.backoff_base = absl::Milliseconds(5);
    auto t = CurlTransport::Create(config, options);
    EXPECT_TRUE(t.ok()) << t.status();
    return std::move(*t);
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(TransportTest, GetWithTokenAndKeepAlive) {
  std::set<int> ports;
  std::mutex mu;
  server_.Get("/api", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    ports.insert(req.remote_port);
    res.set_content(req.get_header_value("Authorization") + "|" + req.get_header_value("Accept"),
                    "text/plain");
  });
  ClusterConfig config;
  config.token = "secret";
  auto t = Make(config);
  for (int i = 0; i < 5; ++i) {
    auto r = t->Do(Req("GET", "/api"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Bearer secret|application/json");
    EXPECT_EQ(r->content_type, "text/plain");
  }
  EXPECT_EQ(ports.size(), 1u) << "connection not reused";
}

TEST_F(TransportTest, TokenFileIsReread) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/token";
  std::ofstream(path) << "one\n";
  server_.Get("/t", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.get_header_value("Authorization"), "text/plain");
  });
  ClusterConfig config;
  config.token_file = path;
  TransportOptions options;
  options.token_reread_interval = absl::ZeroDuration();
  auto t = Make(config, options);
  EXPECT_EQ(t->Do(Req("GET", "/t"))->body, "Bearer one");
  absl::SleepFor(absl::Milliseconds(20));  // a distinct mtime
  std::ofstream(path + ".new") << "two";
  std::rename((path + ".new").c_str(), path.c_str());
  EXPECT_EQ(t->Do(Req("GET", "/t"))->body, "Bearer two");
  config.token_file = path + ".missing";
  config.server = "http://127.0.0.1:1";
  EXPECT_EQ(CurlTransport::Create(config).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TransportTest, RetriesIdempotentOn503) {
  std::atomic<int> hits{0};
  auto handler = [&](const httplib::Request&, httplib::Response& res) {
    res.status = ++hits < 3 ? 503 : 200;
    res.set_content("x", "text/plain");
  };
  server_.Get("/r", handler);
  server_.Post("/r", handler);
  auto t = Make();
  auto r = t->Do(Req("GET", "/r"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(hits, 3);
  hits = 0;
  auto p = t->Do(Req("POST", "/r", "{}"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 503);  // not idempotent: no retry
  EXPECT_EQ(hits, 1);
  hits = 0;
  HttpRequest forced = Req("POST", "/r");
  forced.idempotent = true;
  EXPECT_EQ(t->Do(forced)->status, 200);
}

TEST_F(TransportTest, BoundedAttempts) {
  std::atomic<int> hits{0};
  server_.Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.status = 502;
  });
  TransportOptions options;
  options.max_attempts = 4;
  auto r = Make({}, options)->Do(Req("GET", "/down"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(hits, 4);
}

TEST_F(TransportTest, TooManyRequestsHonoursRetryAfterForAnyMethod) {
  std::atomic<int> hits{0};
  absl::Time first, second;
  server_.Post("/busy", [&](const httplib::Request& req, httplib::Response& res) {
    if (++hits == 1) {
      first = absl::Now();
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    second = absl::Now();
    res.status = 201;
    res.set_content(req.body, "application/json");
  });
  auto r = Make()->Do(Req("POST", "/busy", "{\"a\":1}"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "{\"a\":1}");
  EXPECT_GE(second - first, absl::Milliseconds(900));
}

TEST_F(TransportTest, RetryAfterBeyondDeadlineGivesUp) {
  server_.Get("/busy", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "60");
  });
  absl::Time start = absl::Now();
  auto r = Make()->Do(Req("GET", "/busy", "", absl::Seconds(2)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(TransportTest, Timeout) {
  server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    absl::SleepFor(absl::Seconds(2));
    res.set_content("late", "text/plain");
  });
  absl::Time start = absl::Now();
  auto r = Make()->Do(Req("GET", "/slow", "", absl::Milliseconds(300)));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status() << " " << (absl::Now() - start);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(TransportUnreachableTest, ClosedPortIsUnavailableQuickly) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  ClusterConfig config;
  config.server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto t = CurlTransport::Create(config);
  ASSERT_TRUE(t.ok());
  absl::Time start = absl::Now();
  auto r = (*t)->Do(Req("POST", "/api/v1/namespaces/x/configmaps", "{}"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("after 3 attempts"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("POST /api/v1/namespaces/x/configmaps"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(TransportTest, StreamDeliversChunksAndStops) {
  server_.Get("/watch", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 3; ++i) {
        std::string line = "{\"n\":" + std::to_string(i) + "}\n";
        sink.write(line.data(), line.size());
        absl::SleepFor(absl::Milliseconds(20));
      }
      sink.done();
      return true;
    });
  });
  auto t = Make();
  std::string all;
  ASSERT_TRUE(t->Stream(Req("GET", "/watch"), [&](std::string_view c) {
                 all.append(c);
                 return true;
               }).ok());
  EXPECT_EQ(all, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
  int calls = 0;
  EXPECT_TRUE(t->Stream(Req("GET", "/watch"), [&](std::string_view c) {
                 return c.empty() || ++calls < 1;
               }).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(TransportTest, StreamHeartbeatStopsIdleStream) {
  std::atomic<bool> done{false};
  server_.Get("/idle", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 100 && !done; ++i) absl::SleepFor(absl::Milliseconds(50));
      sink.done();
      return true;
    });
  });
  absl::Time start = absl::Now();
  int beats = 0;
  absl::Status s =
      Make()->Stream(Req("GET", "/idle", "", absl::InfiniteDuration()), [&](std::string_view c) {
        EXPECT_TRUE(c.empty());
        return ++beats < 2;
      });
  done = true;
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(beats, 2);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
}

TEST_F(TransportTest, StreamErrorStatus) {
  server_.Get("/gone", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"kind":"Status","message":"nothing here","reason":"NotFound","code":404})",
                    "application/json");
  });
  bool called = false;
  absl::Status s = Make()->Stream(Req("GET", "/gone?watch=1"), [&](std::string_view c) {
    called = called || !c.empty();
    return true;
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "GET /gone: 404 NotFound: nothing here");
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace labkube::kube
