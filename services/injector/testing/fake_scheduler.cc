#include "services/injector/testing/fake_scheduler.h"

#include <arpa/inet.h>
#include <grpcpp/server_context.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/time/clock.h"

namespace labkube::injector::testing {

namespace api = ::labkube::scheduler::v1alpha1;

grpc::Status FakeSchedulerService::Claim(grpc::ServerContext* context,
                                         const api::ClaimRequest* request,
                                         api::ClaimResponse* response) {
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(*request);
    deadlines_.push_back(absl::FromChrono(context->deadline()));
    if (!failures_.empty()) {
      grpc::Status status = failures_.front();
      failures_.pop_front();
      return status;
    }
  }
  ClaimRequest in{request->group(),    request->machine_type(),  request->namespace_(),
                  request->pod_name(), request->generate_name(), request->admission_uid(),
                  request->dry_run()};
  absl::StatusOr<ClaimResponse> claim = claimer_.Claim(in, absl::InfiniteFuture());
  if (!claim.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "fake claimer failed");
  response->set_claim_id(claim->claim_id);
  response->set_node(claim->node);
  for (const auto& [k, v] : claim->requests) (*response->mutable_requests())[k] = v;
  for (const auto& [k, v] : claim->limits) (*response->mutable_limits())[k] = v;
  for (const NodeRequirement& r : claim->node_affinity) {
    api::NodeSelectorRequirement* out = response->add_node_affinity();
    out->set_key(r.key);
    out->set_operator_(r.op);
    for (const std::string& v : r.values) out->add_values(v);
  }
  for (const Toleration& t : claim->tolerations) {
    api::Toleration* out = response->add_tolerations();
    out->set_key(t.key);
    out->set_operator_(t.op);
    out->set_value(t.value);
    out->set_effect(t.effect);
  }
  for (const auto& [k, v] : claim->annotations) (*response->mutable_annotations())[k] = v;
  response->set_dry_run(claim->dry_run);
  return grpc::Status::OK;
}

void FakeSchedulerService::FailNext(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  failures_.push_back(std::move(status));
}

std::vector<api::ClaimRequest> FakeSchedulerService::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

std::vector<absl::Time> FakeSchedulerService::deadlines() const {
  absl::MutexLock lock(&mu_);
  return deadlines_;
}

int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace labkube::injector::testing
