// Scale benchmark against a real control plane (kube-apiserver + kube-scheduler + kwok):
// N fake nodes, M slots. Measures, in the same run,
//   bare:    M plain pods with the slot's requests created directly -> all Running
//   labkube: a Machine declaring M slots applied -> M reservation pods Running
// then, against that lab, the scheduler's reconcile passes (CPU and wall time per pass, from its
// own metrics, over --quiet_seconds), --guests real claims (each deletes its reservation pod at
// the API server) from --threads clients with their p50/p99, their release and the time until
// every slot is locked again; and the scheduler's peak RSS. Targets: labkube <= 1.5x bare,
// RSS <= 200 MB. Prints a table with the targets beside the figures.
//
//   bazel run -c opt //services/scheduler:scale_bench -- --kubeconfig=K --scheduler=BIN
//       [--nodes=1000 --pods=10000]
// tools/scale_bench.sh builds, starts a cluster of its own, installs what is needed and runs it.
// By hand: a cluster of its own (LABKUBE_STATE=/tmp/x tests/cluster/cluster.sh up): it creates and
// deletes nodes bench-node-*. It needs labkube's CRD, namespace and PriorityClass
// (`kubectl apply -f k8s/crds/ -f k8s/base/`) and stops at once, saying so, when they are missing
// or the scheduler exits.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "services/scheduler/bench_support.h"

ABSL_FLAG(std::string, kubeconfig, "", "admin kubeconfig of a cluster of its own");
ABSL_FLAG(std::string, scheduler, "", "path of the labkube scheduler binary");
ABSL_FLAG(int, nodes, 1000, "fake nodes");
ABSL_FLAG(int, pods, 10000, "slots / pods");
ABSL_FLAG(int, threads, 16, "concurrent API writers and claim clients");
ABSL_FLAG(int, guests, 500, "claims made (and released) against the converged lab");
ABSL_FLAG(int, quiet_seconds, 20, "window over which reconcile passes are measured");

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using bench::Check;
using bench::CountRunning;
using bench::Fail;
using bench::PeakRssKb;
using bench::Percentile;
using bench::Scrape;
using bench::WaitRunning;

void Parallel(int n, const std::function<void(int)>& fn) {
  bench::Parallel(n, absl::GetFlag(FLAGS_threads), fn);
}


double Bare(kube::Client& c, int pods) {
  auto ns =
      json::Parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench-bare"}})");
  Check(c.Create(res::Namespaces(), "", *ns), "create namespace");
  while (!c.Get(res::ServiceAccounts(), "bench-bare", "default").ok()) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  absl::Time start = absl::Now();
  Parallel(pods, [&](int i) {
    auto pod = json::Parse(absl::StrCat(
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"bare-)", i,
        R"(","labels":{"bench":"bare"}},"spec":{"terminationGracePeriodSeconds":0,)",
        R"("containers":[{"name":"pause","image":"registry.k8s.io/pause:3.10","resources":{)",
        R"("requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"100m","memory":"64Mi"}}}]}})"));
    Check(c.Create(res::Pods(), "bench-bare", *pod), "create pod");
  });
  double seconds = WaitRunning(c, "bench-bare", "bench=bare", pods, start);
  kube::DeleteOptions now;
  now.grace_period_seconds = 0;
  Parallel(pods, [&](int i) {
    Check(c.Delete(res::Pods(), "bench-bare", absl::StrCat("bare-", i), now), "delete pod");
  });
  Check(c.Delete(res::Namespaces(), "", "bench-bare"), "delete namespace");
  return seconds;
}

std::string MachineJson(int nodes, int pods) {
  std::string pool;
  for (int i = 0; i < nodes; ++i) {
    absl::StrAppend(&pool, i ? "," : "", R"({"name":"bench-node-)", i,
                    R"(","mode":"ready","machineType":[{"name":"slot"}]})");
  }
  return absl::StrCat(
      R"({"apiVersion":"labkube.io/v1alpha1","kind":"Machine","metadata":{"name":"bench"},)",
      R"("spec":{"nodePool":[)", pool, R"(],"machineTypes":[{"name":"slot","spec":{"cpu":"100m",)",
      R"("memory":"64Mi"},"available":)", pods, "}]}}");
}

struct PassCost {
  double passes = 0, cpu_ms = 0, wall_ms = 0;  // per pass
};

// Reconcile passes of the converged lab over `window` (resyncs, node heartbeats).
PassCost MeasurePasses(int http_port, absl::Duration window) {
  auto read = [&] {
    return std::array<double, 3>{Scrape(http_port, "labkube_scheduler_reconcile_seconds_count"),
                                 Scrape(http_port, "labkube_scheduler_reconcile_cpu_seconds_sum"),
                                 Scrape(http_port, "labkube_scheduler_reconcile_seconds_sum")};
  };
  std::array<double, 3> before = read();
  absl::SleepFor(window);
  std::array<double, 3> after = read();
  PassCost cost;
  cost.passes = after[0] - before[0];
  if (cost.passes > 0) {
    cost.cpu_ms = (after[1] - before[1]) * 1000 / cost.passes;
    cost.wall_ms = (after[2] - before[2]) * 1000 / cost.passes;
  }
  return cost;
}

struct ClaimFigures {
  int granted = 0, released = 0;
  double p50_ms = 0, p99_ms = 0, relock_s = 0;
};

// The API server's own time for what a claim waits on: DELETEs (grace 0) of `n` plain pods made
// for the purpose, from --threads clients at once, in this lab. Returns {p50, p99} in ms.
std::pair<double, double> ProbeDeletes(kube::Client& c, int n) {
  auto ns =
      json::Parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench-probe"}})");
  Check(c.Create(res::Namespaces(), "", *ns), "create namespace");
  while (!c.Get(res::ServiceAccounts(), "bench-probe", "default").ok()) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  Parallel(n, [&](int i) {
    auto pod = json::Parse(absl::StrCat(
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"probe-)", i,
        R"("},"spec":{"schedulerName":"none","containers":[{"name":"c","image":"pause"}]}})"));
    Check(c.Create(res::Pods(), "bench-probe", *pod), "create probe pod");
  });
  std::mutex mu;
  std::vector<double> ms;
  kube::DeleteOptions now;
  now.grace_period_seconds = 0;
  Parallel(n, [&](int i) {
    absl::Time start = absl::Now();
    Check(c.Delete(res::Pods(), "bench-probe", absl::StrCat("probe-", i), now), "delete probe pod");
    std::lock_guard<std::mutex> lock(mu);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  });
  Check(c.Delete(res::Namespaces(), "", "bench-probe"), "delete namespace");
  return {Percentile(ms, 0.5), Percentile(ms, 0.99)};
}

// `guests` claims as the injector makes them (each deletes its reservation pod at the API
// server), then their release, then the time until all `pods` slots are Running again.
ClaimFigures ClaimAndRelease(kube::Client& c, int grpc_port, int guests, int pods) {
  namespace api = ::labkube::scheduler::v1alpha1;
  auto stub = api::Scheduler::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  std::mutex mu;
  std::vector<double> ms;
  std::vector<std::pair<std::string, std::string>> claims;  // id, signature
  Parallel(guests, [&](int i) {
    api::ClaimRequest req;
    req.set_group("bench");
    req.set_machine_type("slot");
    req.set_namespace_("bench-guests");
    req.set_pod_name(absl::StrCat("guest-", i));
    req.set_admission_uid(absl::StrCat("scale-bench-", absl::ToUnixNanos(absl::Now()), "-", i));
    api::ClaimResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    absl::Time start = absl::Now();
    grpc::Status st = stub->Claim(&ctx, req, &resp);
    double took = absl::ToDoubleMilliseconds(absl::Now() - start);
    std::lock_guard<std::mutex> lock(mu);
    ms.push_back(took);
    if (!st.ok()) return;
    claims.emplace_back(resp.annotations().at(contract::kClaimAnnotation),
                        resp.annotations().at(contract::kClaimSignatureAnnotation));
  });
  ClaimFigures f;
  f.granted = static_cast<int>(claims.size());
  f.p50_ms = Percentile(ms, 0.5);
  f.p99_ms = Percentile(ms, 0.99);
  absl::Time start = absl::Now();
  std::atomic<int> released{0};
  Parallel(f.granted, [&](int i) {
    api::ReleaseRequest req;
    req.set_claim_id(claims[i].first);
    req.set_signature(claims[i].second);
    api::ReleaseResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (stub->Release(&ctx, req, &resp).ok() && resp.released()) ++released;
  });
  f.released = released.load();
  f.relock_s = WaitRunning(c, "labkube-system", "labkube.io/machine-group=bench", pods, start);
  return f;
}

int Run() {
  auto config = kube::LoadKubeconfig(absl::GetFlag(FLAGS_kubeconfig));
  if (!config.ok()) return std::fprintf(stderr, "%s\n", config.status().ToString().c_str()), 1;
  auto client = kube::RestClient::Create(*config);
  if (!client.ok()) return std::fprintf(stderr, "%s\n", client.status().ToString().c_str()), 1;
  kube::Client& c = **client;
  int nodes = absl::GetFlag(FLAGS_nodes), pods = absl::GetFlag(FLAGS_pods);
  bench::Preflight(c);
  bench::CreateNodes(c, "bench-node-", nodes, absl::GetFlag(FLAGS_threads));
  double bare = Bare(c, pods);
  bench::SchedulerProcess sched =
      bench::StartScheduler(absl::GetFlag(FLAGS_scheduler), absl::GetFlag(FLAGS_kubeconfig));
  pid_t pid = sched.pid;
  int grpc_port = sched.grpc_port, http_port = sched.http_port;
  absl::Time start = absl::Now();
  Check(c.Create(res::Machines(), "", *json::Parse(MachineJson(nodes, pods))), "create Machine");
  double labkube = WaitRunning(c, "labkube-system", "labkube.io/machine-group=bench", pods, start);
  long rss_converged = PeakRssKb(pid);
  PassCost passes = MeasurePasses(http_port, absl::Seconds(absl::GetFlag(FLAGS_quiet_seconds)));
  auto [delete_p50, delete_p99] = ProbeDeletes(c, 200);
  ClaimFigures claims = ClaimAndRelease(c, grpc_port, absl::GetFlag(FLAGS_guests), pods);
  long rss = PeakRssKb(pid);
  Check(c.Delete(res::Machines(), "", "bench"), "delete Machine");
  absl::Time deadline = absl::Now() + absl::Minutes(10);
  while (CountRunning(c, "labkube-system", "labkube.io/machine-group=bench") > 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Seconds(1));
  }
  bench::StopScheduler(sched);
  bench::DeleteNodes(c, "bench-node-", nodes, absl::GetFlag(FLAGS_threads));
  std::printf(
      "scale_bench nodes=%d pods=%d bare_s=%.1f labkube_s=%.1f ratio=%.2f "
      "scheduler_peak_rss_mb=%.1f pass_cpu_ms=%.1f claim_p99_ms=%.2f\n",
      nodes, pods, bare, labkube, bare > 0 ? labkube / bare : 0, rss / 1024.0, passes.cpu_ms,
      claims.p99_ms);
  std::printf("| figure (%d nodes, %d slots) | labkube | judged by |\n|---|---|---|\n", nodes,
              pods);
  std::printf(
      "| slots Running after the Machine is applied | %.1f s | %.2f x bare pods (%.1f s); "
      "goal <= 1.5 x |\n",
      labkube, bare > 0 ? labkube / bare : 0, bare);
  std::printf("| scheduler peak RSS | %.1f MB (%.1f MB when converged) | goal <= 200 MB |\n",
              rss / 1024.0, rss_converged / 1024.0);
  std::printf(
      "| reconcile pass, converged lab | %.1f ms CPU, %.1f ms wall (%.0f passes in %d s) "
      "| - |\n",
      passes.cpu_ms, passes.wall_ms, passes.passes, absl::GetFlag(FLAGS_quiet_seconds));
  std::printf(
      "| Claim, %d real claims from %d clients | p50 %.2f ms, p99 %.2f ms (%d granted) | "
      "includes the reservation pod's DELETE at the API server |\n",
      absl::GetFlag(FLAGS_guests), absl::GetFlag(FLAGS_threads), claims.p50_ms, claims.p99_ms,
      claims.granted);
  std::printf(
      "| the same lab's own DELETE of a pod (200 from %d clients) | p50 %.2f ms, p99 %.2f ms "
      "| what a claim waits on at the API server |\n",
      absl::GetFlag(FLAGS_threads), delete_p50, delete_p99);
  std::printf("| %d claims released -> every slot locked again | %.1f s | - |\n", claims.released,
              claims.relock_s);
  return 0;
}

}  // namespace
}  // namespace labkube::scheduler

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  labkube::scheduler::bench::SetName("scale_bench");
  return labkube::scheduler::Run();
}
