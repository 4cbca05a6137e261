// WebServer: the members' and admins' web page, served by the gateway on a port of its own
// over HTTPS (lib/http_server.h: the gateway's certificate files, reloaded when they change).
//
//   GET  /, /app.js, /style.css ...   the page (assets.h: compiled in, nothing fetched)
//   POST /api/login                   {"username", "password"} -> Gateway.Login; the tokens go
//                                     into the session cookie (session_cookie.h), never to script
//   GET  /api/session                 Gateway.WhoAmI + the CSRF token the page sends on changes
//   POST /api/logout                  Gateway.Logout (revokes the session) and clears the cookie
//   POST /api/v1alpha1/<Method>       any unary Gateway method, JSON in and out (json_gateway.h)
//   GET  /api/v1alpha1/<Watch>?field= a Watch* method as server-sent events (one event per
//                                     response, the browser's EventSource reconnects)
//   GET  /api/history                 machine availability over the last hours
//
// Every /api call but login carries the session cookie; the access token is refreshed when it
// expires within a minute, and once more when the gateway says UNAUTHENTICATED, as labctl does.
// Each gateway call goes through `gateway` (the gateway's own gRPC service, in-process), so its
// handlers decide everything; it names the browser's address (PageCall), which the gateway
// forwards to the authenticator, so one browser's wrong passwords lock out only its address.
// Answers carry a strict Content-Security-Policy, nosniff, no-referrer and frame-ancestors 'none'.
//
// Ownership: owns its HttpServer and history; borrows `availability` and `clock`, which must
// outlive it; shares the channel. Thread safety: Start/Stop/port from any thread; requests are
// served concurrently on `threads` workers (an open event stream holds one for up to `hold`).
#ifndef LABKUBE_SERVICES_GATEWAY_WEB_WEB_SERVER_H_
#define LABKUBE_SERVICES_GATEWAY_WEB_WEB_SERVER_H_

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/http_server.h"
#include "services/gateway/availability.h"
#include "services/gateway/web/availability_history.h"
#include "services/gateway/web/json_gateway.h"
#include "services/gateway/web/session_cookie.h"

namespace labkube::gateway::web {

struct WebOptions {
  std::string address = "0.0.0.0";
  int port = 0;  // 0 = any free port
  std::string tls_cert;
  std::string tls_key;
  bool plaintext = false;  // development on loopback only
  int threads = 64;
  absl::Duration call_timeout = absl::Seconds(30);
  absl::Duration hold = absl::Seconds(20);  // how long an event request waits for news
  HistoryOptions history;
};

class WebServer {
 public:
  static absl::StatusOr<std::unique_ptr<WebServer>> Create(const WebOptions& options,
                                                          std::shared_ptr<grpc::Channel> gateway,
                                                          Availability& availability,
                                                          Clock& clock);
  ~WebServer();

  absl::Status Start();
  void Stop();
  int port() const { return http_->port(); }

 private:
  // A gateway call made for `session`, with `who` (its bearer token and the browser's address).
  using Call = std::function<JsonReply(const WebSession& session, const PageCall& who)>;
  WebServer(const WebOptions& options, std::shared_ptr<grpc::Channel> gateway,
            Availability& availability, Clock& clock, std::unique_ptr<HttpServer> http);
  void Routes();
  HttpResponse Login(const HttpRequest& req);
  HttpResponse Session(const HttpRequest& req);
  HttpResponse Logout(const HttpRequest& req);
  // Runs `call` with the request's session (checked for CSRF when `change`), refreshing it as
  // labctl does; the answer carries the refreshed cookie, or its removal when the session ended.
  HttpResponse WithSession(const HttpRequest& req, bool change, const std::string& content_type,
                           const Call& call);
  absl::Status Refresh(WebSession& session, const std::string& client_address);
  JsonReply SessionJson(const WebSession& session, const PageCall& who);
  RequestFacts Facts(const HttpRequest& req) const;
  HttpResponse Reply(const JsonReply& reply, const std::string& content_type) const;

  const WebOptions options_;
  JsonGateway gateway_;
  Clock& clock_;
  AvailabilityHistory history_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace labkube::gateway::web

#endif  // LABKUBE_SERVICES_GATEWAY_WEB_WEB_SERVER_H_
