#include "lib/service/call_interceptor.h"

#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "lib/kube/absl_compat.h"

namespace labkube::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

struct Families {
  metrics::CounterFamily* calls;
  metrics::HistogramFamily* seconds;
  CallInterceptorOptions options;
};

class CallInterceptor;

// The calls in progress, so AddCallLogField finds its call's interceptor by context.
struct ActiveCalls {
  absl::Mutex mu;
  std::unordered_map<const grpc::ServerContextBase*, CallInterceptor*> calls ABSL_GUARDED_BY(mu);
};

ActiveCalls& Active() {
  static ActiveCalls* const active = new ActiveCalls();
  return *active;
}

class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, const Families& families)
      : families_(families),
        context_(info->server_context()),
        method_(MethodLabel(info->method() == nullptr ? "" : info->method(),
                            families.options.api_service)),
        start_(absl::Now()) {
    absl::MutexLock lock(&Active().mu);
    Active().calls[context_] = this;
  }

  ~CallInterceptor() override {
    {
      absl::MutexLock lock(&Active().mu);
      Active().calls.erase(context_);
    }
    // A call that ended without sending a status (the client went away first).
    if (!recorded_) Record(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!recorded_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus());
    }
    methods->Proceed();
  }

  void AddField(std::string_view key, std::string value) {
    absl::MutexLock lock(&mu_);
    extra_.emplace_back(std::string(key), std::move(value));
  }

 private:
  void Record(const grpc::Status& status) {
    recorded_ = true;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    const std::string code =
        absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
    families_.calls->Labels({method_, code}).Inc();
    families_.seconds->Labels({method_}).Observe(seconds);
    LogLevel level = CallLogLevel(families_.options.levels, method_, status.error_code());
    if (!LogLevelEnabled(level)) return;
    std::string peer = context_ == nullptr ? "" : context_->peer();
    std::vector<LogField> fields = {{"method", method_},
                                    {"peer", peer},
                                    {"code", code},
                                    {"error", status.error_message()},
                                    {"latency_ms", seconds * 1000}};
    absl::MutexLock lock(&mu_);
    for (const auto& [key, value] : extra_) fields.push_back({key, value});
    LogEvent(level, "request", fields);
  }

  const Families& families_;
  const grpc::ServerContextBase* const context_;
  const std::string method_;
  const absl::Time start_;
  bool recorded_ = false;  // hooks of one call run one at a time
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> extra_ ABSL_GUARDED_BY(mu_);
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(const CallInterceptorOptions& options)
      : families_{options.registry->Counter(options.metric_prefix + "_calls_total",
                                            "gRPC calls by method and result code.",
                                            {"method", "code"}),
                  options.registry->Histogram(
                      options.metric_prefix + "_call_seconds",
                      "gRPC call latency by method (streams: until they end).", {"method"},
                      metrics::Registry::ExponentialBuckets(0.0005, 2, 16)),
                  options} {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(info, families_);
  }

 private:
  const Families families_;
};

bool IsRead(std::string_view method) {
  for (std::string_view prefix : {"List", "Get", "Describe", "Watch"}) {
    if (absl::StartsWith(ToAbsl(method), ToAbsl(prefix))) return true;
  }
  return method == "WhoAmI" || method == "grpc.health.v1.Health/Check" ||
         method == "grpc.health.v1.Health/Watch" ||
         absl::StartsWith(ToAbsl(method), "grpc.reflection.");
}

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallInterceptorFactory(
    const CallInterceptorOptions& options) {
  return std::make_unique<Factory>(options);
}

void AddCallLogField(const grpc::ServerContextBase* context, std::string_view key,
                     std::string value) {
  ActiveCalls& active = Active();
  absl::MutexLock lock(&active.mu);
  auto it = active.calls.find(context);
  if (it != active.calls.end()) it->second->AddField(key, std::move(value));
}

std::string MethodLabel(std::string_view full_method, std::string_view api_service) {
  if (!full_method.empty() && full_method.front() == '/') full_method.remove_prefix(1);
  if (!api_service.empty() && full_method.size() > api_service.size() + 1 &&
      full_method.substr(0, api_service.size()) == api_service &&
      full_method[api_service.size()] == '/') {
    full_method.remove_prefix(api_service.size() + 1);
  }
  return std::string(full_method);
}

LogLevel CallLogLevel(const CallLogLevels& levels, std::string_view method, grpc::StatusCode code) {
  if (code == grpc::StatusCode::OK) return IsRead(method) ? levels.read_ok : levels.write_ok;
  if (code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::NOT_FOUND) {
    return levels.bad_input;
  }
  return levels.failed;
}

}  // namespace labkube::service
