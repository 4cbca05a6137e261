// Queue benchmark against a real control plane (kube-apiserver + kube-scheduler + kwok): a
// machine type of --slots slots on --nodes fake nodes, every slot held by a guest, --waiting
// guests waiting in line (each asked the scheduler's Claim as the injector does and was created
// as the injector admits it: gated, with its queue ticket). Then
//   - --handovers times, one at a time: the oldest running guest is deleted, and the time until
//     the next waiting guest is Running (on the freed node) is taken;
//   - every running guest deleted at once: the time until as many waiting guests run
//     (handovers per second);
// with the scheduler's reconcile pass cost while 1,000 wait, its CPU time and peak RSS.
// Target: handover p99 <= 1 s (imperator: ~30 s+, its reservation StatefulSet scales down one pod
// at a time with a full grace period). Prints a table with the target beside the figures.
//
// tools/queue_bench.sh builds it, starts a control plane of its own, installs what is needed and
// runs it; it creates and deletes nodes qbench-node-* and the namespace bench-queue.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "services/scheduler/bench_support.h"

ABSL_FLAG(std::string, kubeconfig, "", "admin kubeconfig of a cluster of its own");
ABSL_FLAG(std::string, scheduler, "", "path of the labkube scheduler binary");
ABSL_FLAG(int, nodes, 10, "fake nodes");
ABSL_FLAG(int, slots, 100, "slots of the machine type (all held by guests)");
ABSL_FLAG(int, waiting, 1000, "guests waiting in line");
ABSL_FLAG(int, handovers, 200, "handovers measured one at a time");
ABSL_FLAG(int, threads, 16, "concurrent API writers");
ABSL_FLAG(int, quiet_seconds, 15, "window over which reconcile passes are measured");

namespace labkube::scheduler {
namespace {

namespace api = ::labkube::scheduler::v1alpha1;
namespace json = kube::json;
namespace res = kube::resources;
using bench::Check;
using bench::Fail;

constexpr char kNs[] = "bench-queue";
constexpr char kGroup[] = "bench-q";
constexpr char kNodePrefix[] = "qbench-node-";

void Parallel(int n, const std::function<void(int)>& fn) {
  bench::Parallel(n, absl::GetFlag(FLAGS_threads), fn);
}

std::string MachineJson(int nodes, int slots) {
  std::string pool;
  for (int i = 0; i < nodes; ++i) {
    absl::StrAppend(&pool, i ? "," : "", R"({"name":")", kNodePrefix, i,
                    R"(","mode":"ready","machineType":[{"name":"slot"}]})");
  }
  return absl::StrCat(
      R"({"apiVersion":"labkube.io/v1alpha1","kind":"Machine","metadata":{"name":")", kGroup,
      R"("},"spec":{"nodePool":[)", pool,
      R"(],"machineTypes":[{"name":"slot","spec":{"cpu":"1","memory":"1Gi"},"available":)",
      slots, "}]}}");
}

// The pod the injector would admit for `claim` (a slot, or a place in line).
rapidjson::Document GuestPod(const std::string& name, const api::ClaimResponse& claim) {
  kube::Builder b;
  kube::ObjectMeta meta;
  meta.name = name;
  meta.namespace_ = kNs;
  meta.labels = {{contract::kRoleLabel, contract::kRoleGuest},
                 {contract::kGroupLabel, kGroup},
                 {contract::kTypeLabel, "slot"},
                 {"bench", "queue"}};
  meta.annotations.insert(claim.annotations().begin(), claim.annotations().end());
  kube::StringMap resources(claim.requests().begin(), claim.requests().end());
  rapidjson::Value exprs = b.Array({});
  for (const api::NodeSelectorRequirement& r : claim.node_affinity()) {
    rapidjson::Value values = b.Array({});
    for (const std::string& v : r.values()) b.Push(values, b.Str(v));
    b.Push(exprs, b.Object({{"key", b.Str(r.key())},
                            {"operator", b.Str(r.operator_())},
                            {"values", std::move(values)}}));
  }
  rapidjson::Value spec = b.Object(
      {{"terminationGracePeriodSeconds", b.Int(0)},
       {"containers", b.Array({b.Object({{"name", b.Str("c")},
                                         {"image", b.Str("registry.k8s.io/pause:3.10")},
                                         {"resources", b.Object({{"requests", b.Map(resources)},
                                                                 {"limits", b.Map(resources)}})}})})},
       {"affinity",
        b.Object({{"nodeAffinity",
                   b.Object({{"requiredDuringSchedulingIgnoredDuringExecution",
                              b.Object({{"nodeSelectorTerms",
                                         b.Array({b.Object(
                                             {{"matchExpressions", std::move(exprs)}})})}})}})}})}});
  if (claim.queued()) {
    b.Add(spec, "schedulingGates", b.Array({b.Object({{"name", b.Str(contract::kQueueGate)}})}));
  }
  auto doc = b.Finish(b.Manifest("v1", "Pod", meta, {{"spec", std::move(spec)}}));
  if (!doc.ok()) Fail(doc.status().ToString());
  return std::move(doc).value();
}

// Claims as the injector does, then creates the pod as it would be admitted.
void Admit(kube::Client& c, api::Scheduler::Stub& stub, const std::string& name, bool want_queued) {
  api::ClaimRequest req;
  req.set_group(kGroup);
  req.set_machine_type("slot");
  req.set_namespace_(kNs);
  req.set_pod_name(name);
  req.set_admission_uid(absl::StrCat("queue-bench-", absl::ToUnixNanos(absl::Now()), "-", name));
  api::ClaimResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status st = stub.Claim(&ctx, req, &resp);
  if (!st.ok()) Fail(absl::StrCat("claim for ", name, ": ", st.error_message()));
  if (resp.queued() != want_queued) {
    Fail(absl::StrCat(name, (want_queued ? " got a slot" : " was queued"), " unexpectedly"));
  }
  Check(c.Create(res::Pods(), kNs, GuestPod(name, resp)), "create guest");
}

struct Running {
  std::string phase, node;
};

Running Get(kube::Client& c, const std::string& name) {
  auto pod = c.Get(res::Pods(), kNs, name);
  if (!pod.ok()) return {};
  return {std::string(json::GetString(*pod, {"status", "phase"})),
          std::string(json::GetString(*pod, {"spec", "nodeName"}))};
}

std::string Waiter(int i) { return absl::StrFormat("w-%05d", i); }

struct Figures {
  std::vector<double> ms;
  int wrong_node = 0, timeouts = 0;
};

// One at a time: the oldest running guest ends; the next waiting one must run on its node.
Figures Sequential(kube::Client& c, std::deque<std::string>& running, int& next, int n) {
  Figures f;
  kube::DeleteOptions now;
  now.grace_period_seconds = 0;
  for (int i = 0; i < n; ++i) {
    std::string victim = running.front();
    running.pop_front();
    std::string node = Get(c, victim).node;
    std::string heir = Waiter(next++);
    absl::Time start = absl::Now();
    Check(c.Delete(res::Pods(), kNs, victim, now), "delete guest");
    Running r;
    while ((r = Get(c, heir)).phase != "Running" && absl::Now() - start < absl::Seconds(60)) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    if (r.phase != "Running") {
      ++f.timeouts;
      continue;
    }
    f.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    f.wrong_node += r.node != node;
    running.push_back(heir);
  }
  return f;
}

int Run() {
  bench::SetName("queue_bench");
  auto config = kube::LoadKubeconfig(absl::GetFlag(FLAGS_kubeconfig));
  if (!config.ok()) Fail(config.status().ToString());
  auto client = kube::RestClient::Create(*config);
  if (!client.ok()) Fail(client.status().ToString());
  kube::Client& c = **client;
  int nodes = absl::GetFlag(FLAGS_nodes), slots = absl::GetFlag(FLAGS_slots);
  int waiting = absl::GetFlag(FLAGS_waiting), handovers = absl::GetFlag(FLAGS_handovers);
  if (handovers + slots > waiting) Fail("--waiting must be at least --handovers + --slots");
  bench::Preflight(c);
  bench::CreateNodes(c, kNodePrefix, nodes, absl::GetFlag(FLAGS_threads));
  Check(c.Create(res::Namespaces(), "",
                 *json::Parse(absl::StrCat(R"({"apiVersion":"v1","kind":"Namespace",)",
                                           R"("metadata":{"name":")", kNs, R"("}})"))),
        "create namespace");
  bench::SchedulerProcess sched =
      bench::StartScheduler(absl::GetFlag(FLAGS_scheduler), absl::GetFlag(FLAGS_kubeconfig));
  auto stub = api::Scheduler::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", sched.grpc_port), grpc::InsecureChannelCredentials()));
  Check(c.Create(res::Machines(), "", *json::Parse(MachineJson(nodes, slots))), "create Machine");
  std::string reservations = absl::StrCat(contract::kGroupLabel, "=", kGroup);
  bench::WaitRunning(c, "labkube-system", reservations, slots, absl::Now());

  // Every slot held by a guest, then the line.
  std::deque<std::string> running;
  for (int i = 0; i < slots; ++i) running.push_back(absl::StrFormat("g-%05d", i));
  Parallel(slots, [&](int i) { Admit(c, *stub, running[i], false); });
  bench::WaitRunning(c, kNs, "bench=queue", slots, absl::Now());
  absl::Time queued_start = absl::Now();
  double cpu_before = bench::CpuSeconds(sched.pid);
  // In arrival order (the queue is first come, first served within one member): one writer.
  for (int i = 0; i < waiting; ++i) Admit(c, *stub, Waiter(i), true);
  double queue_s = absl::ToDoubleSeconds(absl::Now() - queued_start);
  double pass_before = bench::Scrape(sched.http_port, "labkube_scheduler_reconcile_cpu_seconds_sum");
  double count_before = bench::Scrape(sched.http_port, "labkube_scheduler_reconcile_seconds_count");
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_quiet_seconds)));
  double passes = bench::Scrape(sched.http_port, "labkube_scheduler_reconcile_seconds_count") -
                  count_before;
  double pass_cpu_ms =
      passes > 0 ? (bench::Scrape(sched.http_port, "labkube_scheduler_reconcile_cpu_seconds_sum") -
                    pass_before) * 1000 / passes
                 : 0;

  int next = 0;
  Figures seq = Sequential(c, running, next, handovers);
  // Burst: every running guest ends at once.
  kube::DeleteOptions now;
  now.grace_period_seconds = 0;
  std::vector<std::string> victims(running.begin(), running.end());
  absl::Time burst_start = absl::Now();
  Parallel(static_cast<int>(victims.size()),
           [&](int i) { Check(c.Delete(res::Pods(), kNs, victims[i], now), "delete guest"); });
  double burst_s = bench::WaitRunning(c, kNs, "bench=queue", slots, burst_start);
  double cpu_s = bench::CpuSeconds(sched.pid) - cpu_before;
  long rss = bench::PeakRssKb(sched.pid);

  Check(c.Delete(res::Namespaces(), "", kNs), "delete namespace");
  Check(c.Delete(res::Machines(), "", kGroup), "delete Machine");
  absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (bench::CountRunning(c, "labkube-system", reservations) > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Seconds(1));
  }
  bench::StopScheduler(sched);
  bench::DeleteNodes(c, kNodePrefix, nodes, absl::GetFlag(FLAGS_threads));

  double p50 = bench::Percentile(seq.ms, 0.5), p99 = bench::Percentile(seq.ms, 0.99);
  std::printf(
      "queue_bench nodes=%d slots=%d waiting=%d handovers=%d handover_p50_ms=%.0f "
      "handover_p99_ms=%.0f wrong_node=%d timeouts=%d burst_handovers_per_s=%.1f "
      "scheduler_cpu_s=%.1f scheduler_peak_rss_mb=%.1f pass_cpu_ms=%.1f\n",
      nodes, slots, waiting, handovers, p50, p99, seq.wrong_node, seq.timeouts,
      burst_s > 0 ? slots / burst_s : 0, cpu_s, rss / 1024.0, pass_cpu_ms);
  std::printf("| figure (%d slots, %d waiting) | labkube | judged by |\n|---|---|---|\n", slots,
              waiting);
  std::printf(
      "| a guest ends -> the next in line Running on its node (%d, one at a time) | p50 %.0f ms, "
      "p99 %.0f ms (%d on another node, %d timed out) | p99 <= 1 s; imperator ~30 s+ |\n",
      handovers, p50, p99, seq.wrong_node, seq.timeouts);
  std::printf("| %d guests end at once -> %d waiting Running | %.1f s = %.1f handovers/s | - |\n",
              slots, slots, burst_s, burst_s > 0 ? slots / burst_s : 0);
  std::printf("| %d guests admitted to wait (Claim + create, one writer) | %.1f s | - |\n",
              waiting, queue_s);
  std::printf("| reconcile pass while %d wait | %.1f ms CPU (%.0f passes in %d s) | - |\n",
              waiting, pass_cpu_ms, passes, absl::GetFlag(FLAGS_quiet_seconds));
  std::printf("| scheduler CPU over queueing and handovers | %.1f s | - |\n", cpu_s);
  std::printf("| scheduler peak RSS | %.1f MB | scale_bench's goal <= 200 MB |\n", rss / 1024.0);
  return seq.timeouts > 0 ? 1 : 0;
}

}  // namespace
}  // namespace labkube::scheduler

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return labkube::scheduler::Run();
}
