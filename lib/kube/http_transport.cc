#include "lib/kube/http_transport.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/status.h"

namespace labkube::kube {
namespace {

constexpr size_t kMaxErrorBody = 1 << 20;
constexpr absl::Duration kHeartbeat = absl::Seconds(1);

bool DefaultIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

// "GET /api/v1/pods" (query left out: continue tokens are long and unhelpful in messages).
std::string VerbAndPath(const HttpRequest& r) {
  return absl::StrCat(r.method, " ", r.path.substr(0, r.path.find('?')));
}

struct Failure {
  absl::StatusCode code;
  bool not_sent;   // nothing reached the server: safe to retry any method
  bool transient;  // worth retrying (idempotent requests)
};

Failure Classify(CURLcode rc, bool sent) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return {absl::StatusCode::kUnavailable, true, true};
    case CURLE_OPERATION_TIMEDOUT:
      if (!sent) return {absl::StatusCode::kUnavailable, true, true};  // connect timed out
      return {absl::StatusCode::kDeadlineExceeded, false, false};
    case CURLE_SSL_CONNECT_ERROR:
      return {absl::StatusCode::kUnavailable, !sent, true};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return {absl::StatusCode::kFailedPrecondition, false, false};
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return {absl::StatusCode::kInvalidArgument, false, false};
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return {absl::StatusCode::kUnavailable, !sent, true};
    default:
      return {absl::StatusCode::kUnavailable, false, false};
  }
}

std::once_flag g_curl_init;

}  // namespace

// DNS cache and TLS sessions shared by all easy handles of one transport.
struct CurlTransport::Share {
  CURLSH* sh = nullptr;
  absl::Mutex locks[CURL_LOCK_DATA_LAST];

  Share() {
    sh = curl_share_init();
    curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &Lock);
    curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &Unlock);
    curl_share_setopt(sh, CURLSHOPT_USERDATA, this);
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Share() { curl_share_cleanup(sh); }

  static void Lock(CURL*, curl_lock_data data, curl_lock_access,
                   void* user) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    static_cast<Share*>(user)->locks[data].Lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    static_cast<Share*>(user)->locks[data].Unlock();
  }
};

// State of one attempt, shared with the libcurl callbacks.
struct CurlTransport::Attempt {
  CURL* curl = nullptr;
  const ChunkCallback* on_chunk = nullptr;
  long status = 0;
  std::string body;  // Do(), or the error body of a stream
  std::string content_type;
  std::optional<absl::Duration> retry_after;
  bool delivered = false;          // a chunk reached on_chunk
  bool stopped = false;            // on_chunk returned false
  std::optional<Failure> failure;  // set when the attempt got no response
  absl::Time last_beat;
  char error[CURL_ERROR_SIZE] = {0};

  bool Streaming() {
    if (on_chunk == nullptr) return false;
    if (status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status == 0 || (status >= 200 && status < 300);
  }

  static size_t OnWrite(char* data, size_t size, size_t n, void* user) {
    auto* a = static_cast<Attempt*>(user);
    size_t len = size * n;
    if (!a->Streaming()) {
      if (a->on_chunk == nullptr || a->body.size() < kMaxErrorBody) a->body.append(data, len);
      return len;
    }
    a->delivered = true;
    a->last_beat = absl::Now();
    if (!(*a->on_chunk)(std::string_view(data, len))) {
      a->stopped = true;
      return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    return len;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* a = static_cast<Attempt*>(user);
    size_t len = size * n;
    absl::string_view line(data, len);
    if (absl::StartsWith(line, "HTTP/")) {  // a new response (e.g. after 100 Continue)
      a->retry_after.reset();
      a->content_type.clear();
      return len;
    }
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return len;
    absl::string_view name = line.substr(0, colon);
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Retry-After")) {
      int64_t seconds;
      if (absl::SimpleAtoi(value, &seconds) && seconds >= 0) {
        a->retry_after = absl::Seconds(seconds);
      }
    } else if (absl::EqualsIgnoreCase(name, "Content-Type")) {
      a->content_type = std::string(value);
    }
    return len;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* a = static_cast<Attempt*>(user);
    if (a->on_chunk == nullptr || !a->Streaming()) return 0;
    absl::Time now = absl::Now();
    if (now - a->last_beat < kHeartbeat) return 0;
    a->last_beat = now;
    if (!(*a->on_chunk)(std::string_view())) {
      a->stopped = true;
      return 1;  // CURLE_ABORTED_BY_CALLBACK
    }
    return 0;
  }
};

absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(const ClusterConfig& config,
                                                                     TransportOptions options) {
  if (!absl::StartsWith(config.server, "https://") && !absl::StartsWith(config.server, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("server \"", config.server, "\" is not an http(s) URL"));
  }
  if (options.max_attempts < 1) options.max_attempts = 1;
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto transport = std::unique_ptr<CurlTransport>(new CurlTransport(config, std::move(options)));
  if (!config.token_file.empty()) {
    auto token = transport->BearerToken();
    if (!token.ok()) return token.status();
  }
  return transport;
}

namespace {
ClusterConfig WithoutTrailingSlash(ClusterConfig config) {
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  return config;
}
}  // namespace

CurlTransport::CurlTransport(ClusterConfig config, TransportOptions options)
    : config_(WithoutTrailingSlash(std::move(config))),
      options_(std::move(options)),
      share_(new Share) {}

CurlTransport::~CurlTransport() {
  absl::MutexLock lock(&handles_mu_);
  for (void* h : idle_handles_) curl_easy_cleanup(h);
}

void* CurlTransport::AcquireHandle() {
  {
    absl::MutexLock lock(&handles_mu_);
    if (!idle_handles_.empty()) {
      void* h = idle_handles_.back();
      idle_handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::ReleaseHandle(void* curl) {
  absl::MutexLock lock(&handles_mu_);
  if (idle_handles_.size() < options_.max_idle_handles) {
    idle_handles_.push_back(curl);
    return;
  }
  curl_easy_cleanup(curl);
}

absl::StatusOr<std::string> CurlTransport::BearerToken() {
  if (config_.token_file.empty()) return config_.token;
  absl::MutexLock lock(&token_mu_);
  absl::Time now = absl::Now();
  if (!token_.empty() && now - token_checked_ < options_.token_reread_interval) return token_;
  token_checked_ = now;
  struct stat st;
  bool changed = true;
  if (::stat(config_.token_file.c_str(), &st) == 0) {
    int64_t key = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec +
                  static_cast<int64_t>(st.st_ino);
    changed = key != token_mtime_ns_;
    token_mtime_ns_ = key;
  }
  if (!changed && !token_.empty()) return token_;
  std::ifstream in(config_.token_file);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (!in || token.empty()) {
    if (!token_.empty()) return token_;  // keep the last good token during a rotation
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read bearer token file ", config_.token_file));
  }
  token_ = std::move(token);
  return token_;
}

void CurlTransport::SetUpHandle(void* h, const HttpRequest& r, absl::Time deadline, void* headers,
                                Attempt& a) {
  CURL* curl = h;
  curl_easy_reset(curl);
  std::string url = config_.server + r.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());  // libcurl copies strings
  curl_easy_setopt(curl, CURLOPT_SHARE, share_->sh);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, a.error);
  if (options_.compression) curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  if (r.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.body.data());
  }
  // TLS material from memory; libcurl copies the blobs.
  auto blob = [&](CURLoption opt, const std::string& pem) {
    if (pem.empty()) return;
    curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, opt, &b);
  };
  blob(CURLOPT_CAINFO_BLOB, config_.ca_pem);
  blob(CURLOPT_SSLCERT_BLOB, config_.client_cert_pem);
  blob(CURLOPT_SSLKEY_BLOB, config_.client_key_pem);
  if (!config_.client_cert_pem.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // Deadlines: the whole attempt, and a short connect phase.
  // (libcurl 7.88 sleeps up to an extra second when both expire at the same time, so the
  // connect timeout is only set when it is the shorter one.)
  absl::Duration left = absl::InfiniteDuration();
  if (deadline != absl::InfiniteFuture()) {
    left = std::max(deadline - absl::Now(), absl::Milliseconds(1));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(left)));
  }
  if (options_.connect_timeout < left) {
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  }
  a.curl = curl;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Attempt::OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Attempt::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
  if (a.on_chunk != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Attempt::OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &a);
  }
}

absl::Status CurlTransport::RunOnce(const HttpRequest& r, const ChunkCallback* on_chunk,
                                    absl::Time deadline, Attempt& a) {
  auto token = BearerToken();
  if (!token.ok()) return token.status();
  curl_slist* headers = curl_slist_append(nullptr, ("Accept: " + r.accept).c_str());
  if (!r.content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + r.content_type).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!token->empty()) {
    std::string auth = "Authorization: Bearer " + *token;
    headers = curl_slist_append(headers, auth.c_str());
    std::fill(auth.begin(), auth.end(), '\0');
  }
  CURL* curl = AcquireHandle();
  a.on_chunk = on_chunk;
  a.last_beat = absl::Now();
  SetUpHandle(curl, r, deadline, headers, a);
  CURLcode rc = curl_easy_perform(curl);
  long sent = 0;
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
  if (a.status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
  std::string detail = a.error;
  curl_easy_reset(curl);  // drop pointers to this attempt; keeps live connections
  ReleaseHandle(curl);
  curl_slist_free_all(headers);
  if (rc == CURLE_OK || a.stopped) return absl::OkStatus();
  a.failure = Classify(rc, sent > 0);
  std::string message = absl::StrCat(VerbAndPath(r), ": ", curl_easy_strerror(rc));
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  absl::StrAppend(&message, " (server ", config_.server, ")");
  return absl::Status(a.failure->code, message);
}

absl::Status CurlTransport::Run(const HttpRequest& r, const ChunkCallback* on_chunk,
                                HttpResponse& response) {
  absl::Duration timeout = r.timeout == absl::ZeroDuration() ? options_.timeout : r.timeout;
  absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  bool idempotent = r.idempotent.value_or(DefaultIdempotent(r.method));
  thread_local absl::BitGen gen;
  for (int attempt = 1;; ++attempt) {
    Attempt a;
    absl::Status s = RunOnce(r, on_chunk, deadline, a);
    bool retry = false;
    if (!s.ok()) {
      retry = a.failure && (a.failure->not_sent || (idempotent && a.failure->transient));
    } else if (!a.stopped) {
      long c = a.status;
      retry = c == 429 ||
              (idempotent && (c == 502 || c == 503 || c == 504 || (c == 500 && a.retry_after)));
    }
    if (retry && !a.delivered && attempt < options_.max_attempts) {
      absl::Duration cap =
          std::min(options_.backoff_max, options_.backoff_base * (1 << (attempt - 1)));
      absl::Duration wait = a.retry_after ? *a.retry_after : cap * absl::Uniform(gen, 0.0, 1.0);
      if (absl::Now() + wait < deadline) {
        absl::SleepFor(wait);
        continue;
      }
    }
    if (!s.ok()) {
      if (attempt == 1) return s;
      return absl::Status(s.code(), absl::StrCat(s.message(), " after ", attempt, " attempts"));
    }
    response.status = a.status;
    response.body = std::move(a.body);
    response.content_type = std::move(a.content_type);
    return absl::OkStatus();
  }
}

absl::StatusOr<HttpResponse> CurlTransport::Do(const HttpRequest& request) {
  HttpResponse response;
  absl::Status s = Run(request, nullptr, response);
  if (!s.ok()) return s;
  return response;
}

absl::Status CurlTransport::Stream(const HttpRequest& request, const ChunkCallback& on_chunk) {
  HttpResponse response;
  absl::Status s = Run(request, &on_chunk, response);
  if (!s.ok()) return s;
  if (response.status == 0 || (response.status >= 200 && response.status < 300)) {
    return absl::OkStatus();
  }
  return ToStatus(response.status, response.body, VerbAndPath(request));
}

}  // namespace labkube::kube
