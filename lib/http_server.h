// HttpServer: a small HTTP(S) server on cpp-httplib for /metrics, /healthz, /readyz and for
// webhooks (the injector's AdmissionReview endpoint).
//
//   LK_ASSIGN_OR_RETURN(auto server, HttpServer::Create({.port = 0, .tls_cert_file = ...,
//                                                        .tls_key_file = ...}));
//   AddMetricsAndHealth(*server, metrics::DefaultRegistry(), [&] { return synced; });
//   server->Handle("POST", "/inject", [](const HttpRequest& r) { return HttpResponse{...}; });
//   LK_RETURN_IF_ERROR(server->Start());   // binds, serves on its own threads; see port()
//   ...
//   server->Stop();
//
// TLS: TLS 1.2 minimum. The certificate and key are re-read when their files change on disk:
// httplib's SSLServer is built from an SSL_CTX set-up callback that installs a CertReloader
// (cert_reloader.h) as the OpenSSL certificate callback, so each new handshake checks the files
// (at most every `cert_check_interval`) and presents the newest valid pair; established
// connections keep theirs. Plaintext needs `allow_plaintext` and no TLS files.
// TCP_NODELAY is always set (without it keep-alive replies wait ~40 ms for delayed ACKs).
// Request bodies above `max_body_bytes` get 413. Like httplib, each open (keep-alive) connection
// occupies one of the `threads` workers until it closes or idles out (5 s): size `threads` for
// the expected concurrent connections.
//
// Ownership: HttpServer owns its listener and threads; handlers are copied in and run on the
// server's worker threads, so whatever they capture must outlive Stop().
// Thread safety: Handle() only before Start(); Start(), Stop() and port() from any thread;
// handlers run concurrently (up to `threads` at once).
#ifndef LABKUBE_LIB_HTTP_SERVER_H_
#define LABKUBE_LIB_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/cert_reloader.h"
#include "lib/metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace labkube {

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  int port = 0;  // 0 = pick a free port (port() after Start)
  std::string tls_cert_file = "";
  std::string tls_key_file = "";
  // Client certificates: when set, clients are asked for one, and a certificate that does not
  // chain to these CAs fails the handshake; one without any is allowed (probes), and handlers
  // read HttpRequest::client_cn to decide.
  std::string tls_client_ca_file = "";
  bool allow_plaintext = false;  // required to serve without TLS files
  size_t max_body_bytes = 1 << 20;
  int threads = 4;
  absl::Duration cert_check_interval = absl::Seconds(5);
  absl::Duration read_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(10);
  // Requests one keep-alive connection may carry before the server closes it. cpp-httplib's
  // default is 5: every fifth request paid a new TLS handshake (the libcrypto time in the
  // webhook's profile, issue 15). Idle connections still close after its 5 s keep-alive timeout.
  size_t keep_alive_max_requests = 100000;
};

struct HttpRequest {
  std::string method;
  std::string path;
  // The request body, valid while the handler runs (it is not copied: a webhook review is
  // read once, in place).
  std::string_view body;
  std::string remote_addr;
  // Common name of the client certificate the TLS handshake verified; "" when none was shown.
  std::string client_cn;
  std::multimap<std::string, std::string> headers;  // names as sent
  std::multimap<std::string, std::string> params;   // query parameters

  // The first value of header `name` (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
  // The first value of query parameter `name`; "" when absent.
  std::string Param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body = "";
  std::vector<std::pair<std::string, std::string>> headers = {};
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Checks the options and loads the TLS files (errors name the file).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options);

  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves `method` ("GET", "POST", "PUT", "PATCH", "DELETE") on exactly `path`. Must be
  // called before Start(); aborts on an unknown method or after Start() (programming errors).
  void Handle(std::string_view method, std::string_view path, HttpHandler handler);

  // Binds the address and serves on a background thread. kUnavailable if it cannot bind;
  // kFailedPrecondition if already started.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops accepting, finishes running requests and joins the threads. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Before Stop(), for a rolling update: /readyz answers 503 (so the pod leaves its Service's
  // endpoints) and every answer carries `Connection: close` (so clients such as the API server
  // open their next connection through the Service, to a replica that stays), while requests
  // are still served. Idempotent.
  void Drain() { draining_ = true; }
  bool draining() const { return draining_.load(); }

  // The bound port once Start() succeeded (0 before).
  int port() const ABSL_LOCKS_EXCLUDED(mu_);
  bool tls() const { return reloader_ != nullptr; }

 private:
  HttpServer(const HttpServerOptions& options, std::unique_ptr<CertReloader> reloader,
             std::unique_ptr<httplib::Server> server);

  const HttpServerOptions options_;
  std::unique_ptr<CertReloader> reloader_;  // before server_: outlives its SSL_CTX
  std::unique_ptr<httplib::Server> server_;
  std::shared_ptr<std::atomic<bool>> draining_flag_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<bool>& draining_ = *draining_flag_;

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

// GET /metrics (the registry in text format 0.0.4), GET /healthz (200 "ok" while the process
// serves) and GET /readyz (200 "ready" when `ready()` is true, else 503 "not ready"; a null
// `ready` counts as always ready). `registry` must outlive the server.
void AddMetricsAndHealth(HttpServer& server, metrics::Registry& registry,
                         std::function<bool()> ready);

}  // namespace labkube

#endif  // LABKUBE_LIB_HTTP_SERVER_H_
