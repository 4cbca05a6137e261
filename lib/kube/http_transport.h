// HTTP transport to the API server: the Transport interface RestClient talks through (fakeable
// in unit tests) and CurlTransport, its libcurl HTTPS implementation.
//
// CurlTransport keeps a free list of CURL easy handles (each keeps its keep-alive connections),
// shares DNS and TLS sessions between them, authenticates with the client certificate and/or the
// bearer token of the ClusterConfig (token_file re-read when its mtime changes, checked at most
// every `token_reread_interval`), and retries with exponential backoff and full jitter:
//   - requests that were never sent (connection refused, DNS, connect timeout): any method;
//   - 429 Too Many Requests (the API server did not process the request): any method;
//   - 502/503/504, 500 with Retry-After, and connections that broke mid-request: idempotent
//     requests only (GET, HEAD, PUT, DELETE by default; HttpRequest::idempotent overrides).
// Retry-After is honoured; attempts are bounded by max_attempts and by the request deadline.
// There is no client-side rate limiter.
//
// Thread safety: Transport implementations are safe to call from many threads at once; each
// call uses its own easy handle.
#ifndef LABKUBE_LIB_KUBE_HTTP_TRANSPORT_H_
#define LABKUBE_LIB_KUBE_HTTP_TRANSPORT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/kube/config.h"

namespace labkube::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // path and query relative to the server, e.g. "/api/v1/pods?limit=500"
  std::string body;
  std::string content_type;  // of the body; "" when there is none
  std::string accept = "application/json";
  // Whole-request deadline including retries: zero = the transport's default;
  // absl::InfiniteDuration() = none (streams governed by the server's timeoutSeconds).
  absl::Duration timeout = absl::ZeroDuration();
  std::optional<bool> idempotent;  // default by method (see above)
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
};

// Called with each chunk of a streamed body as it arrives. An empty chunk is a heartbeat, sent
// about once a second while the stream is idle, so the caller can stop an idle stream. Return
// false to stop (the stream then ends with OK).
using ChunkCallback = std::function<bool(std::string_view chunk)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Any HTTP status is a response (map it with ToStatus, status.h). Errors are for requests
  // that got no response: kUnavailable (connect, TLS handshake, reset), kDeadlineExceeded
  // (timeout), kFailedPrecondition (TLS configuration: bad certificate, verification failed).
  virtual absl::StatusOr<HttpResponse> Do(const HttpRequest& request) = 0;
  // Streams the body of a 2xx response to `on_chunk`; a non-2xx response becomes an error via
  // ToStatus. Retries only before the first chunk was delivered.
  virtual absl::Status Stream(const HttpRequest& request, const ChunkCallback& on_chunk) = 0;
};

struct TransportOptions {
  absl::Duration timeout = absl::Seconds(30);         // default per request, retries included
  absl::Duration connect_timeout = absl::Seconds(3);  // per attempt
  int max_attempts = 3;
  absl::Duration backoff_base = absl::Milliseconds(100);  // first retry waits up to this
  absl::Duration backoff_max = absl::Seconds(2);
  absl::Duration token_reread_interval = absl::Seconds(5);
  std::string user_agent = "labkube";
  bool compression = false;  // ask for gzip (helps over slow links; costs CPU locally)
  size_t max_idle_handles = 32;
};

class CurlTransport : public Transport {
 public:
  // Validates the config (server URL, token file readable); TLS material is checked by the
  // first request.
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(const ClusterConfig& config,
                                                               TransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) override;
  absl::Status Stream(const HttpRequest& request, const ChunkCallback& on_chunk) override;

  const ClusterConfig& config() const { return config_; }

 private:
  struct Attempt;
  struct Share;

  CurlTransport(ClusterConfig config, TransportOptions options);

  // One request with retries; `on_chunk` null for Do().
  absl::Status Run(const HttpRequest& request, const ChunkCallback* on_chunk,
                   HttpResponse& response);
  absl::Status RunOnce(const HttpRequest& request, const ChunkCallback* on_chunk,
                       absl::Time deadline, Attempt& attempt);
  void SetUpHandle(void* curl, const HttpRequest& request, absl::Time deadline, void* headers,
                   Attempt& attempt);
  absl::StatusOr<std::string> BearerToken();
  void* AcquireHandle();
  void ReleaseHandle(void* curl);

  const ClusterConfig config_;
  const TransportOptions options_;
  std::unique_ptr<Share> share_;

  absl::Mutex handles_mu_;
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(handles_mu_);

  absl::Mutex token_mu_;
  std::string token_ ABSL_GUARDED_BY(token_mu_);
  absl::Time token_checked_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
  int64_t token_mtime_ns_ ABSL_GUARDED_BY(token_mu_) = -1;
};

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_HTTP_TRANSPORT_H_
