#include "services/gateway/web/web_server.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/status_macros.h"
#include "services/gateway/web/assets.h"

namespace labkube::gateway::web {
namespace {

constexpr char kJson[] = "application/json; charset=utf-8";
constexpr char kEvents[] = "text/event-stream; charset=utf-8";
constexpr char kApiPrefix[] = "/api/v1alpha1/";
constexpr char kCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

void AddSecurityHeaders(HttpResponse& r, bool tls) {
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  if (tls) r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
}

// A call for `session` from the browser of `req`.
PageCall As(const WebSession& session, const HttpRequest& req) {
  return PageCall{absl::StrCat("Bearer ", session.access_token), req.remote_addr};
}
// A call with no session (sign-in, logout) from the browser of `req`.
PageCall Anonymous(const HttpRequest& req) { return PageCall{"", req.remote_addr}; }

}  // namespace

absl::StatusOr<std::unique_ptr<WebServer>> WebServer::Create(
    const WebOptions& options, std::shared_ptr<grpc::Channel> gateway,
    Availability& availability, Clock& clock) {
  HttpServerOptions ho;
  ho.address = options.address;
  ho.port = options.port;
  ho.tls_cert_file = options.tls_cert;
  ho.tls_key_file = options.tls_key;
  ho.allow_plaintext = options.plaintext;
  ho.threads = options.threads;
  ho.max_body_bytes = 64 * 1024;
  LK_ASSIGN_OR_RETURN(auto http, HttpServer::Create(ho));
  auto server = std::unique_ptr<WebServer>(
      new WebServer(options, std::move(gateway), availability, clock, std::move(http)));
  server->Routes();
  return server;
}

WebServer::WebServer(const WebOptions& options, std::shared_ptr<grpc::Channel> gateway,
                     Availability& availability, Clock& clock, std::unique_ptr<HttpServer> http)
    : options_(options),
      gateway_(std::move(gateway), options.call_timeout),
      clock_(clock),
      history_(availability, clock, options.history),
      http_(std::move(http)) {}

WebServer::~WebServer() { Stop(); }

absl::Status WebServer::Start() {
  LK_RETURN_IF_ERROR(http_->Start());
  history_.Start();
  return absl::OkStatus();
}

void WebServer::Stop() {
  http_->Stop();
  history_.Stop();
}

void WebServer::Routes() {
  const bool tls = http_->tls();
  for (const Asset& a : Assets()) {
    auto serve = [a, tls](const HttpRequest&) {
      HttpResponse r{.content_type = std::string(a.content_type), .body = std::string(a.data)};
      r.headers.emplace_back("Cache-Control", "no-cache");
      AddSecurityHeaders(r, tls);
      return r;
    };
    http_->Handle("GET", a.path, serve);
    if (a.path == "/index.html") http_->Handle("GET", "/", serve);
  }
  http_->Handle("POST", "/api/login", [this](const HttpRequest& r) { return Login(r); });
  http_->Handle("GET", "/api/session", [this](const HttpRequest& r) { return Session(r); });
  http_->Handle("POST", "/api/logout", [this](const HttpRequest& r) { return Logout(r); });
  http_->Handle("GET", "/api/history", [this](const HttpRequest& r) {
    return WithSession(r, false, kJson, [this](const WebSession&, const PageCall& who) {
      gw::WhoAmIResponse me;  // the same identity check as every call
      absl::Status s = gateway_.Invoke("WhoAmI", gw::WhoAmIRequest(), me, who);
      return s.ok() ? JsonReply{200, history_.Json()} : ErrorReply(s);
    });
  });
  for (const std::string& method : PageMethods()) {
    http_->Handle("POST", absl::StrCat(kApiPrefix, method), [this, method](const HttpRequest& r) {
      std::string body(r.body);
      return WithSession(r, true, kJson,
                         [this, method, body](const WebSession&, const PageCall& who) {
                           return gateway_.Call(method, body, who);
                         });
    });
  }
  for (const std::string& method : WatchMethods()) {
    http_->Handle("GET", absl::StrCat(kApiPrefix, method), [this, method](const HttpRequest& r) {
      std::string json = ParamsToJson(r.params);
      std::string last = r.Header("Last-Event-ID");
      return WithSession(r, false, kEvents, [=, this](const WebSession&, const PageCall& who) {
        JsonReply reply;
        reply.body = gateway_.WatchEvent(method, json, who, last, options_.hold, &reply.code);
        return reply;  // always 200: an EventSource gives up for good on any other status
      });
    });
  }
}

RequestFacts WebServer::Facts(const HttpRequest& req) const {
  return RequestFacts{req.method,
                      http_->tls() ? "https" : "http",
                      req.Header("Host"),
                      req.Header("Origin"),
                      req.Header("Sec-Fetch-Site"),
                      req.Header("Content-Type"),
                      req.Header(kCsrfHeader)};
}

HttpResponse WebServer::Reply(const JsonReply& reply, const std::string& content_type) const {
  HttpResponse r{.status = reply.http_status, .content_type = content_type, .body = reply.body};
  r.headers.emplace_back("Cache-Control", "no-store");
  AddSecurityHeaders(r, http_->tls());
  return r;
}

absl::Status WebServer::Refresh(WebSession& session, const std::string& client_address) {
  gw::RefreshRequest request;
  request.set_refresh_token(session.refresh_token);
  gw::RefreshResponse response;
  LK_RETURN_IF_ERROR(gateway_.Invoke("Refresh", request, response, PageCall{"", client_address}));
  ApplyRefresh(response, session);
  return absl::OkStatus();
}

JsonReply WebServer::SessionJson(const WebSession& session, const PageCall& who) {
  gw::WhoAmIResponse me;
  absl::Status s = gateway_.Invoke("WhoAmI", gw::WhoAmIRequest(), me, who);
  if (!s.ok()) return ErrorReply(s);
  return JsonReply{200, absl::StrCat("{\"csrfToken\":\"", CsrfToken(session),
                                     "\",\"whoAmI\":", ToJson(me), "}")};
}

HttpResponse WebServer::WithSession(const HttpRequest& req, bool change,
                                    const std::string& content_type, const Call& call) {
  absl::StatusOr<WebSession> session =
      DecodeSession(FindCookie(req.Header("Cookie"), kSessionCookie));
  if (!session.ok()) return Reply(ErrorReply(session.status()), kJson);
  if (change) {
    if (absl::Status s = CheckChange(Facts(req), &*session); !s.ok()) {
      return Reply(ErrorReply(s), kJson);
    }
  }
  bool refreshed = false;
  auto refresh = [&]() -> absl::Status {
    absl::Status s = Refresh(*session, req.remote_addr);
    refreshed = refreshed || s.ok();
    return s;
  };
  absl::Status ended;  // set when the session cannot be refreshed any more
  if (NeedsRefresh(*session, clock_.Now())) ended = refresh();
  if (!ended.ok() && absl::IsUnauthenticated(ended)) {
    HttpResponse r = Reply(ErrorReply(ended), kJson);
    r.headers.emplace_back("Set-Cookie", ClearCookieHeader());
    return r;
  }
  JsonReply reply = call(*session, As(*session, req));
  if (reply.code == absl::StatusCode::kUnauthenticated && !refreshed && refresh().ok()) {
    reply = call(*session, As(*session, req));
  }
  HttpResponse r = Reply(reply, content_type);
  if (refreshed) {
    if (absl::StatusOr<std::string> c = SessionCookieHeader(*session, clock_.Now()); c.ok()) {
      r.headers.emplace_back("Set-Cookie", *c);
    }
  }
  return r;
}

HttpResponse WebServer::Login(const HttpRequest& req) {
  if (absl::Status s = CheckChange(Facts(req), nullptr); !s.ok()) {
    return Reply(ErrorReply(s), kJson);
  }
  gw::LoginRequest request;
  gw::LoginResponse response;
  absl::Status s = FromJson(req.body, request);
  request.set_form(gw::KUBECONFIG_FORM_TOKEN);
  if (s.ok()) s = gateway_.Invoke("Login", request, response, Anonymous(req));
  if (!s.ok()) return Reply(ErrorReply(s), kJson);
  WebSession session = FromLogin(response);
  absl::StatusOr<std::string> cookie = SessionCookieHeader(session, clock_.Now());
  if (!cookie.ok()) return Reply(ErrorReply(cookie.status()), kJson);
  HttpResponse r = Reply(SessionJson(session, As(session, req)), kJson);
  r.headers.emplace_back("Set-Cookie", *cookie);
  return r;
}

HttpResponse WebServer::Session(const HttpRequest& req) {
  return WithSession(req, false, kJson, [this](const WebSession& session, const PageCall& who) {
    return SessionJson(session, who);
  });
}

HttpResponse WebServer::Logout(const HttpRequest& req) {
  absl::StatusOr<WebSession> session =
      DecodeSession(FindCookie(req.Header("Cookie"), kSessionCookie));
  absl::Status s = session.status();
  if (s.ok()) s = CheckChange(Facts(req), &*session);
  if (s.ok()) {
    gw::LogoutRequest request;
    request.set_refresh_token(session->refresh_token);
    gw::LogoutResponse response;
    s = gateway_.Invoke("Logout", request, response, Anonymous(req));
  }
  HttpResponse r = Reply(s.ok() ? JsonReply{200, "{}"} : ErrorReply(s), kJson);
  if (s.ok() || absl::IsUnauthenticated(s)) r.headers.emplace_back("Set-Cookie", ClearCookieHeader());
  return r;
}

}  // namespace labkube::gateway::web
