#include "lib/http_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/kube/absl_compat.h"
#include "lib/status_macros.h"

namespace labkube {
namespace {

[[noreturn]] void Fatal(const std::string& message) {
  std::fprintf(stderr, "http server: %s\n", message.c_str());
  std::abort();
}

// httplib matches routes as regular expressions; this one matches `path` exactly.
std::string ExactPattern(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string FirstValue(const std::multimap<std::string, std::string>& map, std::string_view name,
                       bool ignore_case) {
  for (const auto& [key, value] : map) {
    bool match = ignore_case ? absl::EqualsIgnoreCase(ToAbsl(key), ToAbsl(name)) : key == name;
    if (match) return value;
  }
  return "";
}

// An SSL_CTX with TLS >= 1.2 whose certificate comes from `reloader` at each handshake; with
// `client_ca`, client certificates are requested and verified against it (not required).
std::unique_ptr<httplib::Server> NewTlsServer(CertReloader* reloader, const std::string& client_ca) {
  return std::make_unique<httplib::SSLServer>([reloader, client_ca](SSL_CTX& ctx) {
    if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) return false;
    SSL_CTX_set_options(
        &ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    reloader->InstallOn(&ctx);
    if (!client_ca.empty()) {
      if (SSL_CTX_load_verify_locations(&ctx, client_ca.c_str(), nullptr) != 1) return false;
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca.c_str());
      if (names == nullptr) return false;
      SSL_CTX_set_client_CA_list(&ctx, names);
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
    }
    return true;
  });
}

void FreeCn(void* /*parent*/, void* cn, CRYPTO_EX_DATA* /*ad*/, int /*index*/, long /*argl*/,
            void* /*argp*/) {
  delete static_cast<std::string*>(cn);
}

// Where a connection keeps its peer's verified common name (SSL ex_data).
int CnIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeCn);
  return index;
}

// The common name of the peer certificate that `ssl` verified, or "". It belongs to the
// connection (renegotiation is off, so its certificate never changes): worked out on its first
// request and kept on the SSL object, so a keep-alive connection pays the X.509 lookups once.
// One connection's requests are served one at a time by one thread.
std::string VerifiedClientCn(const SSL* ssl) {
  if (ssl == nullptr) return "";
  if (const auto* cached = static_cast<const std::string*>(SSL_get_ex_data(ssl, CnIndex()))) {
    return *cached;
  }
  std::string cn;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    if (X509* peer = SSL_get_peer_certificate(ssl); peer != nullptr) {
      char text[256] = {0};
      int n = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, text,
                                        sizeof(text));
      X509_free(peer);
      if (n > 0) cn.assign(text, n);
    }
  }
  auto* kept = new std::string(cn);
  if (SSL_set_ex_data(const_cast<SSL*>(ssl), CnIndex(), kept) != 1) delete kept;
  return cn;
}

HttpRequest ToRequest(const httplib::Request& req) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  out.body = req.body;
  out.remote_addr = req.remote_addr;
  out.client_cn = VerifiedClientCn(req.ssl);
  out.headers.insert(req.headers.begin(), req.headers.end());
  out.params.insert(req.params.begin(), req.params.end());
  return out;
}

void FromResponse(HttpResponse response, httplib::Response& res) {
  res.status = response.status;
  for (auto& [name, value] : response.headers) res.set_header(name.c_str(), value);
  res.set_content(std::move(response.body), response.content_type.c_str());
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  return FirstValue(headers, name, /*ignore_case=*/true);
}

std::string HttpRequest::Param(std::string_view name) const {
  return FirstValue(params, name, /*ignore_case=*/false);
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options) {
  bool has_tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (!has_tls && !options.allow_plaintext) {
    return absl::InvalidArgumentError(
        "http server: TLS needs a certificate and a key file (or allow_plaintext)");
  }
  if (has_tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("http server: TLS needs both a certificate and a key file");
  }
  if (options.threads < 1 || options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("http server: bad thread count or port");
  }
  std::unique_ptr<CertReloader> reloader;
  std::unique_ptr<httplib::Server> server;
  if (has_tls) {
    LK_ASSIGN_OR_RETURN(reloader, CertReloader::Create(options.tls_cert_file, options.tls_key_file,
                                                       options.cert_check_interval));
    if (!options.tls_client_ca_file.empty()) {
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.tls_client_ca_file.c_str());
      if (names == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "http server: no PEM certificate in the client CA file ", options.tls_client_ca_file));
      }
      sk_X509_NAME_pop_free(names, X509_NAME_free);
    }
    server = NewTlsServer(reloader.get(), options.tls_client_ca_file);
    if (!server->is_valid()) return absl::InternalError("http server: cannot set up TLS");
  } else {
    server = std::make_unique<httplib::Server>();
  }
  return std::unique_ptr<HttpServer>(
      new HttpServer(options, std::move(reloader), std::move(server)));
}

HttpServer::HttpServer(const HttpServerOptions& options, std::unique_ptr<CertReloader> reloader,
                       std::unique_ptr<httplib::Server> server)
    : options_(options), reloader_(std::move(reloader)), server_(std::move(server)) {
  int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second server share a busy port.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_keep_alive_max_count(options_.keep_alive_max_requests);
  server_->set_read_timeout(absl::ToChronoMicroseconds(options_.read_timeout));
  server_->set_write_timeout(absl::ToChronoMicroseconds(options_.write_timeout));
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string_view method, std::string_view path, HttpHandler handler) {
  {
    absl::MutexLock lock(&mu_);
    if (started_) Fatal(absl::StrCat("Handle(", ToAbsl(path), ") after Start()"));
  }
  std::string pattern = ExactPattern(path);
  auto wrapped = [handler = std::move(handler), draining = draining_flag_](
                     const httplib::Request& req, httplib::Response& res) {
    FromResponse(handler(ToRequest(req)), res);
    if (draining->load()) res.set_header("Connection", "close");
  };
  if (method == "GET") {
    server_->Get(pattern, wrapped);
  } else if (method == "POST") {
    server_->Post(pattern, wrapped);
  } else if (method == "PUT") {
    server_->Put(pattern, wrapped);
  } else if (method == "PATCH") {
    server_->Patch(pattern, wrapped);
  } else if (method == "DELETE") {
    server_->Delete(pattern, wrapped);
  } else {
    Fatal(absl::StrCat("unsupported method ", ToAbsl(method)));
  }
}

absl::Status HttpServer::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return absl::FailedPreconditionError("http server: already started");
  int port = options_.port == 0
                 ? server_->bind_to_any_port(options_.address)
                 : (server_->bind_to_port(options_.address, options_.port) ? options_.port : -1);
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("http server: cannot listen on ", options_.address, ":", options_.port));
  }
  started_ = true;
  port_ = port;
  httplib::Server* server = server_.get();
  auto done = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([server, done] {
    server->listen_after_bind();
    *done = true;
  });
  // stop() only works once the accept loop runs; wait for it (briefly) so Stop() cannot miss it.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!server_->is_running() && !*done && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    thread = std::move(thread_);
  }
  server_->stop();
  if (thread.joinable()) thread.join();
}

int HttpServer::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

void AddMetricsAndHealth(HttpServer& server, metrics::Registry& registry,
                         std::function<bool()> ready) {
  server.Handle("GET", "/metrics", [&registry](const HttpRequest&) {
    return HttpResponse{.content_type = metrics::kExpositionContentType, .body = registry.Expose()};
  });
  server.Handle("GET", "/healthz", [](const HttpRequest&) { return HttpResponse{.body = "ok"}; });
  server.Handle("GET", "/readyz", [&server, ready = std::move(ready)](const HttpRequest&) {
    if (!server.draining() && (ready == nullptr || ready())) return HttpResponse{.body = "ready"};
    return HttpResponse{.status = 503, .body = "not ready"};
  });
}

}  // namespace labkube
