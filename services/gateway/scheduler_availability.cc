#include "services/gateway/scheduler_availability.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/log.h"

namespace labkube::gateway {
namespace {

std::vector<gw::MachineType> Convert(const sched::ListMachineTypesResponse& response) {
  std::vector<gw::MachineType> out;
  for (const sched::MachineType& t : response.machine_types()) out.push_back(FromScheduler(t));
  return out;
}

}  // namespace

gw::MachineType FromScheduler(const sched::MachineType& in) {
  gw::MachineType out;
  out.set_group(in.group());
  out.set_name(in.name());
  out.set_cpu(in.spec().cpu());
  out.set_memory(in.spec().memory());
  if (in.spec().has_gpu() && in.spec().gpu().num() > 0) {
    gw::GpuSpec* gpu = out.mutable_gpu();
    gpu->set_resource(in.spec().gpu().type());
    gpu->set_count(in.spec().gpu().num());
    gpu->set_model(!in.spec().gpu().product().empty()
                       ? in.spec().gpu().product()
                       : absl::StrJoin(in.gpu_products(), " or "));
    gpu->set_family(in.spec().gpu().family());
    gpu->set_machine(in.spec().gpu().machine());
  }
  out.set_maximum(in.usage().maximum());
  out.set_reserved(in.usage().reserved());
  out.set_used(in.usage().used());
  out.set_waiting(in.usage().waiting());
  out.set_fits(in.usage().fits());
  out.set_free(in.usage().reserved());
  return out;
}

gw::Queue FromScheduler(const sched::Queue& in) {
  gw::Queue out;
  out.set_group(in.group());
  out.set_machine_type(in.machine_type());
  out.set_estimate_note(in.estimate_note());
  auto set_time = [](const std::string& text, google::protobuf::Timestamp* t) {
    absl::Time parsed;
    std::string error;
    if (!text.empty() && absl::ParseTime(absl::RFC3339_full, text, &parsed, &error)) {
      t->set_seconds(absl::ToUnixSeconds(parsed));
    }
  };
  for (const sched::QueueEntry& e : in.entries()) {
    gw::QueueEntry* o = out.add_entries();
    o->set_position(e.position());
    o->set_namespace_(e.namespace_());
    o->set_pod(e.pod());
    set_time(e.waiting_since(), o->mutable_waiting_since());
    if (!e.estimated_start().empty()) set_time(e.estimated_start(), o->mutable_estimated_start());
  }
  return out;
}

SchedulerAvailability::SchedulerAvailability(std::shared_ptr<grpc::Channel> channel,
                                             SchedulerAvailabilityOptions options)
    : stub_(sched::Scheduler::NewStub(std::move(channel))), options_(options) {}

SchedulerAvailability::~SchedulerAvailability() { Stop(); }

void SchedulerAvailability::Start() {
  thread_ = std::thread([this] { Run(); });
}

void SchedulerAvailability::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool SchedulerAvailability::Connected() {
  absl::MutexLock lock(&mu_);
  return connected_;
}

void SchedulerAvailability::Run() {
  absl::Duration backoff = options_.min_backoff;
  while (true) {
    grpc::Status status = WatchOnce();
    absl::MutexLock lock(&mu_);
    const bool had_updates = connected_;
    connected_ = false;
    if (stopping_) return;
    LogEvent(LogLevel::kWarn, "scheduler.watch_ended",
             {{"code", static_cast<int>(status.error_code())}, {"error", status.error_message()}});
    backoff = had_updates ? options_.min_backoff : std::min(backoff * 2, options_.max_backoff);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), backoff);
    if (stopping_) return;
  }
}

grpc::Status SchedulerAvailability::WatchOnce() {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return grpc::Status::CANCELLED;
    stream_context_ = &context;
  }
  std::unique_ptr<grpc::ClientReader<sched::ListMachineTypesResponse>> reader =
      stub_->WatchAvailability(&context, sched::ListMachineTypesRequest());
  sched::ListMachineTypesResponse update;
  while (reader->Read(&update)) {
    std::vector<gw::MachineType> types = Convert(update);
    absl::MutexLock lock(&mu_);
    snapshot_.types = std::move(types);
    ++snapshot_.version;
    connected_ = true;
  }
  grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  stream_context_ = nullptr;
  return status;
}

absl::StatusOr<AvailabilitySnapshot> SchedulerAvailability::Current() {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    if (connected_) return snapshot_;
    version = snapshot_.version;
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(options_.call_timeout));
  sched::ListMachineTypesResponse response;
  grpc::Status s = stub_->ListMachineTypes(&context, sched::ListMachineTypesRequest(), &response);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the scheduler is unavailable (", s.error_message(), "); try again shortly"));
  }
  return AvailabilitySnapshot{version, Convert(response)};
}

absl::StatusOr<gw::Queue> SchedulerAvailability::Queue(const gw::MachineType& type) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(options_.call_timeout));
  sched::GetAvailabilityRequest request;
  request.set_group(type.group());
  request.set_machine_type(type.name());
  sched::Queue response;
  grpc::Status s = stub_->GetQueue(&context, request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(s.error_message());
  }
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("the scheduler is unavailable (", s.error_message(),
                                               "); try again shortly"));
  }
  return FromScheduler(response);
}

AvailabilitySnapshot SchedulerAvailability::WaitNewer(uint64_t version, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto changed = [this, version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (snapshot_.version != 0 && snapshot_.version != version);
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return snapshot_;
}

}  // namespace labkube::gateway
