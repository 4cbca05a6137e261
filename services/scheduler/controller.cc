#include "services/scheduler/controller.h"

#include <sys/resource.h>

#include "absl/time/clock.h"
#include "lib/kube/json.h"
#include "lib/log.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

std::string Field(const rapidjson::Value& v, json::Path path) {
  return std::string(json::GetString(v, path));
}

// CPU time (user + system) of the calling thread.
absl::Duration ThreadCpu() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return absl::DurationFromTimeval(u.ru_utime) + absl::DurationFromTimeval(u.ru_stime);
}

}  // namespace

Controller::Controller(kube::Client& client, SchedulerState& state, AvailabilityBoard& board,
                       Clock& clock, std::function<bool()> is_leader, metrics::Registry& registry,
                       ControllerOptions options)
    : state_(state),
      board_(board),
      is_leader_(std::move(is_leader)),
      options_(std::move(options)),
      machines_(client, res::Machines(), {}, clock),
      // The informers keep only what cluster_view reads: every pod of the cluster is cached.
      nodes_(client, res::Nodes(), {.fields = NodeFields()}, clock),
      pods_(client, res::Pods(), {.fields = PodFields()}, clock),
      reconciler_(client, state, clock, options_.reconciler),
      passes_(registry.Counter("labkube_scheduler_reconciles_total",
                               "Reconcile passes by role and outcome.", {"role", "outcome"})),
      pass_seconds_(registry.Histogram("labkube_scheduler_reconcile_seconds",
                                       "Wall time of a reconcile pass, its API writes included.",
                                       {"role"},
                                       metrics::Registry::ExponentialBuckets(0.0005, 2, 14))),
      pass_cpu_seconds_(registry.Histogram(
          "labkube_scheduler_reconcile_cpu_seconds",
          "CPU time of a reconcile pass (its thread; concurrent writers not included).", {"role"},
          metrics::Registry::ExponentialBuckets(0.0005, 2, 14))),
      slots_(registry.Gauge("labkube_scheduler_slots",
                            "Slots per machine type: maximum, reserved, used, waiting, fits.",
                            {"group", "type", "state"})) {
  auto upsert_machine = [this](const kube::ObjectPtr& m) { state_.OnMachine(m); };
  machines_.AddEventHandlers(
      {upsert_machine, [=](const kube::ObjectPtr&, const kube::ObjectPtr& m) { upsert_machine(m); },
       [this](const kube::ObjectPtr& m) {
         state_.OnMachineDeleted(Field(*m, {"metadata", "name"}));
       }});
  auto upsert_node = [this](const kube::ObjectPtr& n) { state_.OnNode(n); };
  nodes_.AddEventHandlers(
      {upsert_node, [=](const kube::ObjectPtr&, const kube::ObjectPtr& n) { upsert_node(n); },
       [this](const kube::ObjectPtr& n) {
         state_.OnNodeDeleted(Field(*n, {"metadata", "name"}));
       }});
  auto upsert_pod = [this](const kube::ObjectPtr& p) { state_.OnPod(*p); };
  pods_.AddEventHandlers(
      {upsert_pod, [=](const kube::ObjectPtr&, const kube::ObjectPtr& p) { upsert_pod(p); },
       [this](const kube::ObjectPtr& p) {
         state_.OnPodDeleted(Field(*p, {"metadata", "namespace"}), Field(*p, {"metadata", "name"}));
       }});
}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  machines_.Start();
  nodes_.Start();
  pods_.Start();
  thread_ = std::thread([this] { Loop(); });
}

bool Controller::HasSynced() {
  return machines_.HasSynced() && nodes_.HasSynced() && pods_.HasSynced();
}

bool Controller::WaitForSync(absl::Time deadline) {
  return machines_.WaitForSync(deadline) && nodes_.WaitForSync(deadline) &&
         pods_.WaitForSync(deadline);
}

void Controller::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  pods_.Stop();
  nodes_.Stop();
  machines_.Stop();
}

void Controller::Loop() {
  SchedulerState::Versions seen = state_.version();
  while (!stop_.load()) {
    if (HasSynced()) {
      bool leader = is_leader_();
      absl::Time start = absl::Now();
      absl::Duration cpu = ThreadCpu();
      PassResult result = reconciler_.RunOnce(leader);
      const char* role = leader ? "leader" : "follower";
      pass_cpu_seconds_->Labels({role}).Observe(absl::ToDoubleSeconds(ThreadCpu() - cpu));
      pass_seconds_->Labels({role}).Observe(absl::ToDoubleSeconds(absl::Now() - start));
      passes_->Labels({role, result.errors > 0 ? "error" : "ok"}).Inc();
      Publish(result);
    }
    absl::Time next = absl::Now() + options_.min_interval;
    seen = state_.WaitForChange(seen, options_.resync, options_.status_interval);
    while (!stop_.load() && absl::Now() < next) {
      absl::SleepFor(std::min(next - absl::Now(), absl::Milliseconds(20)));
    }
  }
}

void Controller::Publish(const PassResult& result) {
  AvailabilityList list = BuildAvailability(result.input, result.plan);
  for (const TypeAvailability& a : list) {
    const TypeStatus& s = a.status;
    for (auto [state, value] : {std::pair{"maximum", s.maximum},
                                {"reserved", s.reserved},
                                {"used", s.used},
                                {"waiting", s.waiting},
                                {"fits", s.fits}}) {
      slots_->Labels({a.group, a.type.name, state}).Set(value);
    }
  }
  board_.Publish(std::move(list));
}

}  // namespace labkube::scheduler
