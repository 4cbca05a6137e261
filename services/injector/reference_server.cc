// The reference the webhook's speed is judged against: the least an HTTPS admission webhook on
// this machine can do. cpp-httplib over OpenSSL with the injector's certificate, keep-alive and
// thread count; it parses the AdmissionReview (RapidJSON) and answers allowed=true for its uid,
// nothing else. tools/webhook_bench.sh loads it and the injector with the same generator and
// prints the injector's share of its throughput.
//
//   reference_server --tls_cert=C --tls_key=K [--port=0] [--threads=N]   (prints "port=N")
#include <httplib.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "rapidjson/document.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "listen address");
ABSL_FLAG(int, port, 0, "port (0: any free one, printed)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate");
ABSL_FLAG(std::string, tls_key, "", "PEM key");
ABSL_FLAG(int, threads, 16, "worker threads (the injector's default)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  httplib::SSLServer server(absl::GetFlag(FLAGS_tls_cert).c_str(),
                            absl::GetFlag(FLAGS_tls_key).c_str());
  if (!server.is_valid()) return std::fprintf(stderr, "cannot load the TLS files\n"), 1;
  int threads = absl::GetFlag(FLAGS_threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(100000);
  server.set_tcp_nodelay(true);  // as the injector's server: no Nagle delay on small answers
  server.Post("/mutate-pods", [](const httplib::Request& req, httplib::Response& res) {
    rapidjson::Document review;
    review.Parse(req.body.data(), req.body.size());
    const rapidjson::Value* uid = nullptr;
    if (!review.HasParseError() && review.IsObject() && review.HasMember("request") &&
        review["request"].IsObject() && review["request"].HasMember("uid")) {
      uid = &review["request"]["uid"];
    }
    if (uid == nullptr || !uid->IsString()) {
      res.status = 400;
      return;
    }
    res.set_content(std::string(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                                R"("response":{"uid":")") +
                        uid->GetString() + R"(","allowed":true}})",
                    "application/json; charset=utf-8");
  });
  int port = absl::GetFlag(FLAGS_port);
  if (port == 0) {
    port = server.bind_to_any_port(absl::GetFlag(FLAGS_address));
  } else if (!server.bind_to_port(absl::GetFlag(FLAGS_address), port)) {
    port = -1;
  }
  if (port <= 0) return std::fprintf(stderr, "cannot listen\n"), 1;
  std::printf("port=%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}
