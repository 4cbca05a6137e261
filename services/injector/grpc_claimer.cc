#include "services/injector/grpc_claimer.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <utility>

#include "absl/time/clock.h"
#include "lib/grpc_status.h"
#include "lib/status_macros.h"
#include "lib/tls.h"

namespace labkube::injector {
namespace {

namespace api = ::labkube::scheduler::v1alpha1;

constexpr int kAttempts = 2;

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A replacement channel must open a new connection, not share the old subchannel.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

}  // namespace

api::ClaimRequest ToProto(const ClaimRequest& in) {
  api::ClaimRequest out;
  out.set_group(in.group);
  out.set_machine_type(in.machine_type);
  out.set_namespace_(in.ns);
  out.set_pod_name(in.pod_name);
  out.set_generate_name(in.generate_name);
  out.set_admission_uid(in.admission_uid);
  out.set_dry_run(in.dry_run);
  out.set_carried_claim(in.carried_claim);
  out.set_carried_signature(in.carried_signature);
  return out;
}

ClaimResponse FromProto(const api::ClaimResponse& in) {
  ClaimResponse out;
  out.claim_id = in.claim_id();
  out.node = in.node();
  out.requests.insert(in.requests().begin(), in.requests().end());
  out.limits.insert(in.limits().begin(), in.limits().end());
  for (const api::NodeSelectorRequirement& r : in.node_affinity()) {
    out.node_affinity.push_back({r.key(), r.operator_(), {r.values().begin(), r.values().end()}});
  }
  for (const api::Toleration& t : in.tolerations()) {
    out.tolerations.push_back({t.key(), t.operator_(), t.value(), t.effect()});
  }
  out.annotations.insert(in.annotations().begin(), in.annotations().end());
  out.dry_run = in.dry_run();
  out.queued = in.queued();
  out.position = in.position();
  return out;
}

absl::StatusOr<std::unique_ptr<GrpcClaimer>> GrpcClaimer::Create(
    const GrpcClaimerOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("scheduler address is empty");
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.plaintext) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    LK_ASSIGN_OR_RETURN(credentials, ChannelCredentialsFromFiles(options.ca_file, options.cert_file,
                                                                 options.key_file));
  }
  return std::unique_ptr<GrpcClaimer>(new GrpcClaimer(options.address, std::move(credentials)));
}

GrpcClaimer::GrpcClaimer(std::string address, std::shared_ptr<grpc::ChannelCredentials> credentials)
    : address_(std::move(address)), credentials_(std::move(credentials)) {
  stub_ = NewStub();
}

std::shared_ptr<GrpcClaimer::Stub> GrpcClaimer::NewStub() const {
  return api::Scheduler::NewStub(grpc::CreateCustomChannel(address_, credentials_, ChannelArgs()));
}

std::shared_ptr<GrpcClaimer::Stub> GrpcClaimer::CurrentStub() {
  absl::MutexLock lock(&mu_);
  return stub_;
}

void GrpcClaimer::ResetChannel(const std::shared_ptr<Stub>& used) {
  std::shared_ptr<Stub> fresh = NewStub();
  absl::MutexLock lock(&mu_);
  if (stub_ == used) stub_ = std::move(fresh);
}

absl::StatusOr<ClaimResponse> GrpcClaimer::Claim(const ClaimRequest& request, absl::Time deadline) {
  api::ClaimRequest proto = ToProto(request);
  absl::Status last = absl::DeadlineExceededError("no time left to call the scheduler");
  for (int attempt = 0; attempt < kAttempts && absl::Now() < deadline; ++attempt) {
    std::shared_ptr<Stub> stub = CurrentStub();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    context.set_wait_for_ready(true);
    api::ClaimResponse response;
    grpc::Status status = stub->Claim(&context, proto, &response);
    if (status.ok()) return FromProto(response);
    last = FromGrpcStatus(status);
    if (!absl::IsUnavailable(last)) break;
    ResetChannel(stub);
  }
  return last;
}

absl::Status GrpcClaimer::Release(const std::string& claim_id, const std::string& signature,
                                  absl::Time deadline) {
  api::ReleaseRequest request;
  request.set_claim_id(claim_id);
  request.set_signature(signature);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  api::ReleaseResponse response;
  grpc::Status status = CurrentStub()->Release(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (!response.released()) {
    return absl::NotFoundError(absl::StrCat("the scheduler no longer holds claim ", claim_id));
  }
  return absl::OkStatus();
}

}  // namespace labkube::injector
