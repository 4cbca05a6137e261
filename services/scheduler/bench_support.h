// What the scheduler's benchmarks against a real control plane share (scale_bench,
// queue_bench): parallel API writes, stopping at once with the reason, fake kwok nodes,
// counting Running pods, starting the scheduler binary on free ports, scraping its /metrics,
// its peak RSS and CPU time, percentiles.
//
// Benchmarks only (not for services): they exit the process on a setup failure. Functions are
// thread-safe unless they say otherwise.
#ifndef LABKUBE_SERVICES_SCHEDULER_BENCH_SUPPORT_H_
#define LABKUBE_SERVICES_SCHEDULER_BENCH_SUPPORT_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace labkube::scheduler::bench {

// Runs fn(i) for i in [0, n) on `threads` threads.
void Parallel(int n, int threads, const std::function<void(int)>& fn);

// Prints "<name>: <why>", stops the scheduler started by StartScheduler, exits 1.
[[noreturn]] void Fail(const std::string& why);
void SetName(std::string name);  // the benchmark's name in Fail's message

// A failed setup/teardown call stops the bench (AlreadyExists/NotFound are fine).
void Check(const absl::Status& s, const char* what);
template <typename T>
void Check(const absl::StatusOr<T>& s, const char* what) {
  Check(s.status(), what);
}

// kwok nodes "<prefix>0".. with 64 cpu, 256Gi, 110 pods.
void CreateNodes(kube::Client& c, const std::string& prefix, int n, int threads);
void DeleteNodes(kube::Client& c, const std::string& prefix, int n, int threads);
int CountRunning(kube::Client& c, const std::string& ns, const std::string& selector);
// Waits for `want` Running pods (30 minutes at most); stops the bench if the scheduler exits.
// Seconds since `start`, or -1 on timeout.
double WaitRunning(kube::Client& c, const std::string& ns, const std::string& selector,
                   int want, absl::Time start);

// Stops the bench when labkube's CRD, namespace or PriorityClass is missing.
void Preflight(kube::Client& c);

int FreePort();

struct SchedulerProcess {
  pid_t pid = 0;
  int grpc_port = 0;
  int http_port = 0;
};
// The scheduler binary `bin` with plaintext ports on 127.0.0.1, no leader election, log level
// warn; stopped by Fail and by StopScheduler.
SchedulerProcess StartScheduler(const std::string& bin, const std::string& kubeconfig);
void StopScheduler(SchedulerProcess& s);

// Sum over every series of `name` in the scheduler's /metrics.
double Scrape(int port, const std::string& name);
long PeakRssKb(pid_t pid);
double CpuSeconds(pid_t pid);  // user + system so far
double Percentile(std::vector<double> v, double p);

}  // namespace labkube::scheduler::bench

#endif  // LABKUBE_SERVICES_SCHEDULER_BENCH_SUPPORT_H_
