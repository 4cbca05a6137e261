// lib/metrics against prometheus-cpp 1.0.1 (Debian's prometheus-cpp-dev) on what labkube's
// services do with metrics: a counter increment on a cached child, a labelled lookup + increment
// (what a handler does when the label value varies: the webhook's result, a gRPC method and
// code), a histogram observation (16 exponential buckets, the webhook's and the gRPC calls'),
// the webhook's whole per-review cost (one labelled increment + one observation), the same from
// 2 threads at once, and the /metrics text of a registry with 200 series.
//
//   bazel run -c opt //lib:metrics_bench
//
// The figures and the decision they led to are in lib/metrics.h.
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>
#include <vector>

#include "lib/metrics.h"

namespace labkube::metrics {
namespace {

std::vector<double> Buckets() { return Registry::ExponentialBuckets(0.0001, 2, 16); }

const char* const kResults[] = {"ignored", "injected", "unchanged", "denied_full"};

// --- lib/metrics ---

void BM_Ours_CounterInc(benchmark::State& state) {
  static Registry registry;
  static Counter& c = registry.Counter("bench_total", "h", {"result"})->Labels({"ignored"});
  for (auto _ : state) c.Inc();
}

void BM_Ours_LabelsInc(benchmark::State& state) {
  static Registry registry;
  static CounterFamily* f = registry.Counter("bench_total", "h", {"result"});
  int i = 0;
  for (auto _ : state) f->Labels({kResults[++i & 3]}).Inc();
}

void BM_Ours_Observe(benchmark::State& state) {
  static Registry registry;
  static Histogram& h = registry.Histogram("bench_seconds", "h", {}, Buckets())->Labels({});
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v > 1 ? 0.0001 : v * 1.7;
  }
}

void BM_Ours_Review(benchmark::State& state) {
  static Registry registry;
  static CounterFamily* f = registry.Counter("bench_total", "h", {"result"});
  static Histogram& h = registry.Histogram("bench_seconds", "h", {}, Buckets())->Labels({});
  int i = 0;
  for (auto _ : state) {
    f->Labels({kResults[++i & 3]}).Inc();
    h.Observe(0.0003);
  }
}

void FillOurs(Registry& registry) {
  CounterFamily* calls = registry.Counter("bench_calls_total", "h", {"method", "code"});
  HistogramFamily* seconds = registry.Histogram("bench_call_seconds", "h", {"method"}, Buckets());
  for (int m = 0; m < 10; ++m) {
    std::string method = "Method" + std::to_string(m);
    for (int c = 0; c < 18; ++c) calls->Labels({method, "CODE_" + std::to_string(c)}).Inc();
    seconds->Labels({method}).Observe(0.01 * m);
  }
}

void BM_Ours_Expose(benchmark::State& state) {
  Registry registry;
  FillOurs(registry);
  size_t bytes = 0;
  for (auto _ : state) bytes = registry.Expose().size();
  state.counters["bytes"] = bytes;
}

// --- prometheus-cpp ---

void BM_Prom_CounterInc(benchmark::State& state) {
  static prometheus::Registry registry;
  static prometheus::Counter& c = prometheus::BuildCounter()
                                      .Name("bench_total")
                                      .Help("h")
                                      .Register(registry)
                                      .Add({{"result", "ignored"}});
  for (auto _ : state) c.Increment();
}

void BM_Prom_LabelsInc(benchmark::State& state) {
  static prometheus::Registry registry;
  static auto& f = prometheus::BuildCounter().Name("bench_total").Help("h").Register(registry);
  int i = 0;
  for (auto _ : state) f.Add({{"result", kResults[++i & 3]}}).Increment();
}

prometheus::Histogram& PromHistogram(prometheus::Registry& registry) {
  auto& f = prometheus::BuildHistogram().Name("bench_seconds").Help("h").Register(registry);
  return f.Add({}, prometheus::Histogram::BucketBoundaries(Buckets()));
}

void BM_Prom_Observe(benchmark::State& state) {
  static prometheus::Registry registry;
  static prometheus::Histogram& h = PromHistogram(registry);
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v > 1 ? 0.0001 : v * 1.7;
  }
}

void BM_Prom_Review(benchmark::State& state) {
  static prometheus::Registry registry;
  static auto& f = prometheus::BuildCounter().Name("bench_total").Help("h").Register(registry);
  static prometheus::Histogram& h = PromHistogram(registry);
  int i = 0;
  for (auto _ : state) {
    f.Add({{"result", kResults[++i & 3]}}).Increment();
    h.Observe(0.0003);
  }
}

void BM_Prom_Expose(benchmark::State& state) {
  prometheus::Registry registry;
  auto& calls = prometheus::BuildCounter().Name("bench_calls_total").Help("h").Register(registry);
  auto& seconds =
      prometheus::BuildHistogram().Name("bench_call_seconds").Help("h").Register(registry);
  for (int m = 0; m < 10; ++m) {
    std::string method = "Method" + std::to_string(m);
    for (int c = 0; c < 18; ++c) {
      calls.Add({{"method", method}, {"code", "CODE_" + std::to_string(c)}}).Increment();
    }
    seconds.Add({{"method", method}}, prometheus::Histogram::BucketBoundaries(Buckets()))
        .Observe(0.01 * m);
  }
  prometheus::TextSerializer serializer;
  size_t bytes = 0;
  for (auto _ : state) bytes = serializer.Serialize(registry.Collect()).size();
  state.counters["bytes"] = bytes;
}

BENCHMARK(BM_Ours_CounterInc);
BENCHMARK(BM_Prom_CounterInc);
BENCHMARK(BM_Ours_LabelsInc);
BENCHMARK(BM_Prom_LabelsInc);
BENCHMARK(BM_Ours_Observe);
BENCHMARK(BM_Prom_Observe);
BENCHMARK(BM_Ours_Review);
BENCHMARK(BM_Prom_Review);
BENCHMARK(BM_Ours_Review)->Threads(2)->UseRealTime();
BENCHMARK(BM_Prom_Review)->Threads(2)->UseRealTime();
BENCHMARK(BM_Ours_Expose);
BENCHMARK(BM_Prom_Expose);

}  // namespace
}  // namespace labkube::metrics

BENCHMARK_MAIN();
