// WebhookHandler: the HTTP face of the injector (POST /mutate-pods). It translates: checks the
// method (405), content type (415) and size (413) of the request, parses the AdmissionReview
// (400 with the reason; the uid is echoed whenever it could be read), gives the Mutator a
// deadline, and writes the AdmissionReview answer. It also writes the one structured log line
// per decision (namespace, pod, type, node, allowed, latency_ms; never the body) and the metrics
// labkube_injector_admissions_total{result} and labkube_injector_admission_seconds.
//
// The scheduler deadline is the configured claim timeout, shortened when the API server's
// `?timeout=` query parameter (the webhook's timeoutSeconds, e.g. "10s") leaves less:
// min(configured, timeout - max(timeout/5, 200ms)), and never below timeout/2.
//
// Borrows the Mutator and the registry (both must outlive it). Handle() is thread-safe.
#ifndef LABKUBE_SERVICES_INJECTOR_WEBHOOK_HANDLER_H_
#define LABKUBE_SERVICES_INJECTOR_WEBHOOK_HANDLER_H_

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "lib/http_server.h"
#include "lib/metrics.h"
#include "services/injector/mutator.h"

namespace labkube::injector {

struct WebhookOptions {
  absl::Duration claim_timeout = absl::Seconds(2);
  // Larger bodies get 413. Kubernetes caps request bodies at 3 MiB.
  size_t max_body_bytes = 3 << 20;
  // When not empty, reviews are answered only for callers whose verified client certificate
  // has one of these common names (the API server's, set by its AdmissionConfiguration); any
  // other caller gets 403 and no slot is claimed for it.
  std::set<std::string> allowed_clients;
};

class WebhookHandler {
 public:
  WebhookHandler(const Mutator& mutator, metrics::Registry& registry,
                 const WebhookOptions& options);

  HttpResponse Handle(const HttpRequest& request) const;

  // Serves Handle() on `path` for POST, and 405 for GET, PUT, PATCH and DELETE. `this` must
  // outlive the server.
  void Register(HttpServer& server, const std::string& path) const;

 private:
  HttpResponse Reject(int status, const std::string& uid, const std::string& message,
                      absl::Time start) const;
  void Record(const Decision& d, const std::string& uid, bool dry_run, absl::Time start) const;

  const Mutator& mutator_;
  const WebhookOptions options_;
  metrics::CounterFamily* results_;
  metrics::Counter* ignored_;  // results_'s most frequent child, looked up once
  metrics::Histogram* latency_;
};

// How long the scheduler call may take (see the header comment). `timeout_param` is the
// request's `timeout` query parameter ("" when absent; unparseable values are ignored).
absl::Duration ClaimBudget(std::string_view timeout_param, absl::Duration configured);

// True for "application/json" with optional parameters (e.g. "; charset=utf-8").
bool IsJsonContentType(std::string_view content_type);

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_WEBHOOK_HANDLER_H_
