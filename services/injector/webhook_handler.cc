#include "services/injector/webhook_handler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/kube/absl_compat.h"
#include "lib/log.h"
#include "services/injector/admission.h"

namespace labkube::injector {
namespace {

constexpr char kJson[] = "application/json";
// The answer's type. Not exactly "application/json": cpp-httplib gzips that type whenever the
// client accepts gzip, as the API server's Go transport always does, and compressing a few
// hundred bytes per review cost more CPU than sending them (2.7% of the injector's profile in
// zlib under keep-alive load). Kubernetes reads the media type and ignores the parameter.
constexpr char kJsonAnswer[] = "application/json; charset=utf-8";

double MillisSince(absl::Time start) { return absl::ToDoubleMilliseconds(absl::Now() - start); }

}  // namespace

absl::Duration ClaimBudget(std::string_view timeout_param, absl::Duration configured) {
  absl::Duration timeout;
  if (timeout_param.empty() || !absl::ParseDuration(ToAbsl(timeout_param), &timeout) ||
      timeout <= absl::ZeroDuration()) {
    return configured;
  }
  absl::Duration margin = std::max(timeout / 5, absl::Milliseconds(200));
  absl::Duration budget = std::max(timeout - margin, timeout / 2);
  return std::min(configured, budget);
}

bool IsJsonContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string lowered = absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(media)));
  return lowered == kJson;
}

WebhookHandler::WebhookHandler(const Mutator& mutator, metrics::Registry& registry,
                               const WebhookOptions& options)
    : mutator_(mutator),
      options_(options),
      results_(registry.Counter("labkube_injector_admissions_total",
                                "Admission reviews answered, by result (ignored, injected, "
                                "unchanged, denied_*, bad_request).",
                                {"result"})),
      ignored_(&results_->Labels({"ignored"})),
      latency_(&registry
                    .Histogram("labkube_injector_admission_seconds",
                               "Time to answer an admission review, scheduler call included.", {},
                               metrics::Registry::ExponentialBuckets(0.0001, 2, 16))
                    ->Labels({})) {}

HttpResponse WebhookHandler::Handle(const HttpRequest& request) const {
  absl::Time start = absl::Now();
  if (!options_.allowed_clients.empty() && options_.allowed_clients.count(request.client_cn) == 0) {
    return Reject(403, "",
                  request.client_cn.empty()
                      ? "labkube: admission reviews are accepted only from the API server (no "
                        "client certificate was presented)"
                      : absl::StrCat("labkube: admission reviews are accepted only from the API "
                                     "server, not from ",
                                     request.client_cn),
                  start);
  }
  if (request.method != "POST") {
    HttpResponse r = Reject(405, "", "labkube: the webhook only accepts POST", start);
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (!IsJsonContentType(request.Header("Content-Type"))) {
    return Reject(415, "", "labkube: the AdmissionReview must be sent as application/json", start);
  }
  if (request.body.size() > options_.max_body_bytes) {
    return Reject(413, "",
                  absl::StrCat("labkube: the AdmissionReview is ", request.body.size(),
                               " bytes, more than the limit of ", options_.max_body_bytes),
                  start);
  }
  ParsedReview parsed = ParseAdmissionReview(request.body);
  if (!parsed.request.ok()) {
    return Reject(400, parsed.uid,
                  absl::StrCat("labkube: bad AdmissionReview: ", parsed.request.status().message()),
                  start);
  }
  absl::Time deadline = start + ClaimBudget(request.Param("timeout"), options_.claim_timeout);
  Decision d = mutator_.Decide(*parsed.request, deadline);
  Record(d, parsed.uid, parsed.request->dry_run, start);
  return HttpResponse{.status = 200,
                      .content_type = kJsonAnswer,
                      .body = AdmissionReviewResponse(parsed.uid, d.result)};
}

void WebhookHandler::Register(HttpServer& server, const std::string& path) const {
  auto handle = [this](const HttpRequest& r) { return Handle(r); };
  for (std::string_view method : {"POST", "GET", "PUT", "PATCH", "DELETE"}) {
    server.Handle(method, path, handle);
  }
}

HttpResponse WebhookHandler::Reject(int status, const std::string& uid, const std::string& message,
                                    absl::Time start) const {
  results_->Labels({"bad_request"}).Inc();
  latency_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  LogEvent(LogLevel::kWarn, "admission.rejected",
           {{"uid", uid},
            {"http_status", status},
            {"error", message},
            {"latency_ms", MillisSince(start)}});
  AdmissionResult result{.allowed = false, .code = status, .message = message};
  return HttpResponse{
      .status = status, .content_type = kJsonAnswer, .body = AdmissionReviewResponse(uid, result)};
}

void WebhookHandler::Record(const Decision& d, const std::string& uid, bool dry_run,
                            absl::Time start) const {
  (d.outcome == "ignored" ? *ignored_ : results_->Labels({d.outcome})).Inc();
  latency_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  // A pod that is not a guest is no event of labkube's: counted, and logged at debug only (one
  // line per review of every pod of the cluster was the largest cost of a non-guest review).
  // A dry-run review (kubectl --dry-run=server, a GitOps diff) consumes nothing: debug as well.
  LogLevel level = !d.result.allowed     ? LogLevel::kWarn
                   : d.guest && !dry_run ? LogLevel::kInfo
                                         : LogLevel::kDebug;
  if (!LogLevelEnabled(level)) return;
  LogEvent(level, "admission",
           {{"uid", uid},
            {"namespace", d.ns},
            {"pod", d.pod},
            {"group", d.group},
            {"type", d.type},
            {"node", d.node},
            {"claim", d.claim},
            {"released", d.released},
            {"allowed", d.result.allowed},
            {"result", d.outcome},
            {"code", d.result.allowed ? 200 : d.result.code},
            {"dry_run", dry_run},
            {"message", d.result.allowed ? std::string() : d.result.message},
            {"latency_ms", MillisSince(start)}});
}

}  // namespace labkube::injector
