#include "lib/service/endpoints.h"

#include <utility>

#include "lib/status_macros.h"

namespace labkube::service {

absl::StatusOr<std::unique_ptr<Endpoints>> Endpoints::Start(EndpointsSpec spec) {
  std::unique_ptr<Endpoints> e(new Endpoints());
  if (spec.grpc.has_value()) {
    GrpcServer::InterceptorFactories interceptors;
    interceptors.push_back(NewCallInterceptorFactory(
        {spec.metric_prefix, spec.api_service, spec.call_log, spec.registry}));
    LK_ASSIGN_OR_RETURN(e->grpc_,
                        GrpcServer::Create(*spec.grpc, spec.services, std::move(interceptors)));
  }
  LK_ASSIGN_OR_RETURN(e->http_, HttpServer::Create(spec.http));
  if (spec.routes != nullptr) spec.routes(*e->http_);
  Endpoints* raw = e.get();
  AddMetricsAndHealth(*e->http_, *spec.registry, [raw, ready = std::move(spec.ready)] {
    return !raw->shut_down_.load() && (ready == nullptr || ready());
  });
  LK_RETURN_IF_ERROR(e->http_->Start());
  if (e->grpc_ != nullptr && !spec.api_service.empty()) e->grpc_->SetServing(spec.api_service, true);
  return e;
}

Endpoints::~Endpoints() { Shutdown(absl::Now()); }

void Endpoints::Drain() {
  if (http_ != nullptr) http_->Drain();
}

void Endpoints::Shutdown(absl::Time deadline) {
  if (shut_down_.exchange(true)) return;
  Drain();
  if (grpc_ != nullptr) grpc_->Shutdown(deadline);
  if (http_ != nullptr) http_->Stop();
}

}  // namespace labkube::service
