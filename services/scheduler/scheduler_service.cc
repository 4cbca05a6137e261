#include "services/scheduler/scheduler_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/contract.h"
#include "lib/grpc_status.h"
#include "lib/log.h"

namespace labkube::scheduler {
namespace {

constexpr absl::Duration kWatchPoll = absl::Seconds(1);

absl::Status CheckClaimRequest(const api::ClaimRequest& r) {
  if (r.group().empty()) return absl::InvalidArgumentError("group is required");
  if (r.machine_type().empty()) return absl::InvalidArgumentError("machine_type is required");
  if (r.namespace_().empty()) return absl::InvalidArgumentError("namespace is required");
  if (r.pod_name().empty() && r.generate_name().empty()) {
    return absl::InvalidArgumentError("pod_name or generate_name is required");
  }
  for (const std::string* s :
       {&r.group(), &r.machine_type(), &r.namespace_(), &r.pod_name(), &r.generate_name(),
        &r.admission_uid(), &r.carried_claim(), &r.carried_signature()}) {
    if (s->size() > 253) return absl::InvalidArgumentError("a field is longer than 253 characters");
  }
  return absl::OkStatus();
}

std::string ResultLabel(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return "granted";
    case absl::StatusCode::kResourceExhausted:
      return "exhausted";
    case absl::StatusCode::kNotFound:
      return "unknown_type";
    case absl::StatusCode::kFailedPrecondition:
      return "maintenance";
    case absl::StatusCode::kInvalidArgument:
      return "invalid";
    default:
      return "error";
  }
}

bool Matches(const api::ListMachineTypesRequest& r, const TypeAvailability& a) {
  return r.group().empty() || r.group() == a.group;
}

}  // namespace

void ToProto(const TypeAvailability& in, api::MachineType* out) {
  out->set_group(in.group);
  out->set_name(in.type.name);
  api::MachineTypeSpec* spec = out->mutable_spec();
  spec->set_cpu(in.type.cpu);
  spec->set_memory(in.type.memory);
  if (in.type.gpu.count > 0) {
    api::GpuSpec* gpu = spec->mutable_gpu();
    gpu->set_type(in.type.gpu.resource);
    gpu->set_num(static_cast<int32_t>(in.type.gpu.count));
    gpu->set_family(in.type.gpu.family);
    gpu->set_product(in.type.gpu.product);
    gpu->set_machine(in.type.gpu.machine);
  }
  api::Usage* u = out->mutable_usage();
  u->set_maximum(in.status.maximum);
  u->set_reserved(in.status.reserved);
  u->set_used(in.status.used);
  u->set_waiting(in.status.waiting);
  u->set_fits(in.status.fits);
  for (const std::string& n : in.status.nodes) out->add_nodes(n);
  for (const std::string& n : in.status.ready_nodes) out->add_ready_nodes(n);
  for (const std::string& p : in.gpu_products) out->add_gpu_products(p);
}

void ToProto(const ClaimDecision& in, bool dry_run, api::ClaimResponse* out) {
  out->set_claim_id(in.record.id);
  out->set_node(in.record.node);
  out->set_dry_run(dry_run);
  for (const auto& [k, v] : in.spec.resources) {
    (*out->mutable_requests())[k] = v;
    (*out->mutable_limits())[k] = v;
  }
  for (const Requirement& r : in.spec.node_affinity) {
    api::NodeSelectorRequirement* req = out->add_node_affinity();
    req->set_key(r.key);
    req->set_operator_(r.op);
    for (const std::string& v : r.values) req->add_values(v);
  }
  for (const TolerationSpec& t : in.spec.tolerations) {
    api::Toleration* tol = out->add_tolerations();
    tol->set_key(t.key);
    tol->set_operator_(t.op);
    tol->set_value(t.value);
    tol->set_effect(t.effect);
  }
  if (in.queued) {
    out->set_queued(true);
    out->set_position(in.position);
    (*out->mutable_annotations())[contract::kWaitingAnnotation] =
        TypeKey(in.record.group, in.record.type);
    if (!in.ticket.empty()) (*out->mutable_annotations())[contract::kQueueTicketAnnotation] = in.ticket;
    return;
  }
  (*out->mutable_annotations())[contract::kClaimAnnotation] = in.record.id;
  (*out->mutable_annotations())[contract::kNodeAnnotation] = in.record.node;
  if (!in.record.signature.empty()) {
    (*out->mutable_annotations())[contract::kClaimSignatureAnnotation] = in.record.signature;
  }
}

SchedulerService::SchedulerService(ClaimHandler& claims, AvailabilityBoard& board,
                                   std::function<absl::Status()> can_claim,
                                   metrics::Registry& registry, SchedulerCallers callers)
    : claims_(claims),
      board_(board),
      can_claim_(std::move(can_claim)),
      claim_results_(
          registry.Counter("labkube_scheduler_claims_total", "Claim calls by result.", {"result"})),
      claim_latency_(registry.Histogram("labkube_scheduler_claim_seconds",
                                        "Claim latency, including the reservation delete.", {},
                                        metrics::Registry::ExponentialBuckets(0.0001, 2, 16))),
      callers_(std::move(callers)) {}

absl::StatusOr<ClaimDecision> SchedulerService::DoClaim(const api::ClaimRequest& r) {
  if (absl::Status s = CheckClaimRequest(r); !s.ok()) return s;
  if (absl::Status s = can_claim_(); !s.ok()) return s;
  return claims_.Claim(ClaimQuery{r.group(), r.machine_type(), r.namespace_(), r.pod_name(),
                                  r.generate_name(), r.admission_uid(), r.dry_run(),
                                  r.carried_claim(), r.carried_signature()});
}

grpc::Status SchedulerService::Claim(grpc::ServerContext* context, const api::ClaimRequest* request,
                                     api::ClaimResponse* response) {
  absl::Time start = absl::Now();
  absl::Status allowed = callers_.claim.Check(*context, "Claim");
  absl::StatusOr<CallLimiter::Slot> slot =
      allowed.ok() ? unary_.Acquire(CallerOf(context->peer(), PeerCommonName(*context)))
                   : absl::StatusOr<CallLimiter::Slot>(allowed);
  absl::StatusOr<ClaimDecision> d = slot.ok() ? DoClaim(*request) : slot.status();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  claim_latency_->Labels({}).Observe(seconds);
  claim_results_->Labels({ResultLabel(d.status())}).Inc();
  // A dry-run claim holds nothing: logged at debug, so server-side dry runs cost no log line.
  LogLevel level = !d.ok()              ? LogLevel::kWarn
                   : request->dry_run() ? LogLevel::kDebug
                                        : LogLevel::kInfo;
  if (LogLevelEnabled(level)) {
    LogEvent(level, "claim",
             {{"group", request->group()},
              {"type", request->machine_type()},
              {"namespace", request->namespace_()},
              {"pod", request->pod_name().empty() ? request->generate_name() : request->pod_name()},
              {"dry_run", request->dry_run()},
              {"result", ResultLabel(d.status())},
              {"claim", d.ok() ? d->record.id : ""},
              {"queued", d.ok() && d->queued},
              {"position", d.ok() ? d->position : 0},
              {"node", d.ok() ? d->record.node : ""},
              {"error", d.ok() ? "" : std::string(d.status().message())},
              {"latency_ms", seconds * 1000}});
  }
  if (!d.ok()) return ToGrpcStatus(d.status());
  ToProto(*d, request->dry_run(), response);
  return grpc::Status::OK;
}

grpc::Status SchedulerService::Release(grpc::ServerContext* context,
                                       const api::ReleaseRequest* request,
                                       api::ReleaseResponse* response) {
  if (absl::Status s = callers_.claim.Check(*context, "Release"); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<CallLimiter::Slot> slot =
      unary_.Acquire(CallerOf(context->peer(), PeerCommonName(*context)));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  if (request->claim_id().empty() || request->claim_id().size() > 128 ||
      request->signature().size() > 256) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "claim_id (at most 128 bytes) and signature (at most 256) are required"));
  }
  if (absl::Status s = can_claim_(); !s.ok()) return ToGrpcStatus(s);
  response->set_released(claims_.Release(request->claim_id(), request->signature()));
  LogEvent(LogLevel::kInfo, "release",
           {{"claim", request->claim_id()}, {"released", response->released()}});
  return grpc::Status::OK;
}

grpc::Status SchedulerService::ListMachineTypes(grpc::ServerContext* context,
                                                const api::ListMachineTypesRequest* request,
                                                api::ListMachineTypesResponse* response) {
  if (absl::Status s = callers_.availability.Check(*context, "ListMachineTypes"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<CallLimiter::Slot> slot =
      unary_.Acquire(CallerOf(context->peer(), PeerCommonName(*context)));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  auto [version, list] = board_.Current();
  for (const TypeAvailability& a : *list) {
    if (Matches(*request, a)) ToProto(a, response->add_machine_types());
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerService::GetAvailability(grpc::ServerContext* context,
                                               const api::GetAvailabilityRequest* request,
                                               api::MachineType* response) {
  if (absl::Status s = callers_.availability.Check(*context, "GetAvailability"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<CallLimiter::Slot> slot =
      unary_.Acquire(CallerOf(context->peer(), PeerCommonName(*context)));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  auto [version, list] = board_.Current();
  std::vector<std::string> valid;
  for (const TypeAvailability& a : *list) {
    if (a.group == request->group() && a.type.name == request->machine_type()) {
      ToProto(a, response);
      return grpc::Status::OK;
    }
    valid.push_back(absl::StrCat(a.group, "/", a.type.name));
  }
  return ToGrpcStatus(absl::NotFoundError(
      absl::StrCat("unknown machine type ", request->group(), "/", request->machine_type(),
                   "; valid group/type: ", absl::StrJoin(valid, ", "))));
}

grpc::Status SchedulerService::GetQueue(grpc::ServerContext* context,
                                        const api::GetAvailabilityRequest* request,
                                        api::Queue* response) {
  api::MachineType type;
  if (grpc::Status s = GetAvailability(context, request, &type); !s.ok()) return s;
  auto [version, list] = board_.Current();
  for (const TypeAvailability& a : *list) {
    if (a.group != request->group() || a.type.name != request->machine_type()) continue;
    response->set_group(a.group);
    response->set_machine_type(a.type.name);
    int32_t position = 0;
    for (const WaitingPod& w : a.status.queue) {
      api::QueueEntry* e = response->add_entries();
      e->set_namespace_(w.ns);
      e->set_pod(w.name);
      e->set_waiting_since(absl::FormatTime(absl::RFC3339_sec, w.created, absl::UTCTimeZone()));
      if (static_cast<size_t>(position) < a.status.latest_start.size()) {
        e->set_estimated_start(absl::FormatTime(
            absl::RFC3339_sec, a.status.latest_start[position], absl::UTCTimeZone()));
      }
      e->set_position(++position);
    }
    if (a.type.max_runtime <= absl::ZeroDuration()) {
      // Running guests end when their users stop them: no start time can be promised.
      response->set_estimate_note(
          "no estimate: this machine type has no maxRuntime, so when a slot frees depends on "
          "when its guest is stopped");
    } else {
      response->set_estimate_note(absl::StrCat(
          "estimated starts are the latest ones, if every guest runs to its maxRuntime (",
          absl::FormatDuration(a.type.max_runtime), ") and the grace period after it; pods "
          "held back by their member's cap have none"));
    }
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerService::WatchAvailability(
    grpc::ServerContext* context, const api::ListMachineTypesRequest* request,
    grpc::ServerWriter<api::ListMachineTypesResponse>* writer) {
  if (absl::Status s = callers_.availability.Check(*context, "WatchAvailability"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<CallLimiter::Slot> slot =
      streams_.Acquire(CallerOf(context->peer(), PeerCommonName(*context)));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  uint64_t sent = 0;
  bool first = true;
  while (!context->IsCancelled() && !board_.closed()) {
    auto [version, list] = board_.Current();
    if (first || version != sent) {
      api::ListMachineTypesResponse update;
      for (const TypeAvailability& a : *list) {
        if (Matches(*request, a)) ToProto(a, update.add_machine_types());
      }
      if (!writer->Write(update)) break;
      sent = version;
      first = false;
    }
    board_.WaitNewer(sent, kWatchPoll);
  }
  return grpc::Status::OK;
}

}  // namespace labkube::scheduler
