#include "lib/metrics.h"

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace labkube::metrics {
namespace {

TEST(MetricsTest, CounterWithLabelsExposesSortedText) {
  Registry registry;
  CounterFamily* claims = registry.Counter("labkube_claims_total", "Claims by result.", {"result"});
  claims->Labels({"refused"}).Inc();
  claims->Labels({"granted"}).Inc();
  claims->Labels({"granted"}).Inc(2);
  claims->Labels({"granted"}).Inc(-5);  // ignored
  EXPECT_EQ(registry.Expose(),
            "# HELP labkube_claims_total Claims by result.\n"
            "# TYPE labkube_claims_total counter\n"
            "labkube_claims_total{result=\"granted\"} 3\n"
            "labkube_claims_total{result=\"refused\"} 1\n");
}

TEST(MetricsTest, FamiliesSortedByNameAndUnlabelledStartAtZero) {
  Registry registry;
  registry.Gauge("zeta", "Last.");
  registry.Counter("alpha_total", "First.");
  registry.Counter("labelled_total", "Not shown until used.", {"a"});
  EXPECT_EQ(registry.Expose(),
            "# HELP alpha_total First.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total 0\n"
            "# HELP zeta Last.\n"
            "# TYPE zeta gauge\n"
            "zeta 0\n");
}

TEST(MetricsTest, GaugeOperations) {
  Registry registry;
  Gauge& g = registry.Gauge("labkube_inflight", "In flight.", {"a", "b"})->Labels({"x", "y"});
  g.Set(10);
  g.Inc();
  g.Dec();
  g.Dec();
  g.Add(0.5);
  EXPECT_DOUBLE_EQ(g.Value(), 9.5);
  EXPECT_EQ(registry.Expose(),
            "# HELP labkube_inflight In flight.\n"
            "# TYPE labkube_inflight gauge\n"
            "labkube_inflight{a=\"x\",b=\"y\"} 9.5\n");
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  Registry registry;
  registry.Counter("esc_total", "Back\\slash and\nnewline \"quotes\" stay.", {"v"})
      ->Labels({"a\"b\\c\nd"})
      .Inc();
  EXPECT_EQ(registry.Expose(),
            "# HELP esc_total Back\\\\slash and\\nnewline \"quotes\" stay.\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsSumCount) {
  Registry registry;
  HistogramFamily* latency =
      registry.Histogram("labkube_latency_seconds", "Latency.", {"method"}, {0.1, 0.5, 1});
  Histogram& h = latency->Labels({"Claim"});
  h.Observe(0.0625);
  h.Observe(0.5);  // le is inclusive
  h.Observe(0.75);
  h.Observe(3);
  EXPECT_EQ(registry.Expose(),
            "# HELP labkube_latency_seconds Latency.\n"
            "# TYPE labkube_latency_seconds histogram\n"
            "labkube_latency_seconds_bucket{method=\"Claim\",le=\"0.1\"} 1\n"
            "labkube_latency_seconds_bucket{method=\"Claim\",le=\"0.5\"} 2\n"
            "labkube_latency_seconds_bucket{method=\"Claim\",le=\"1\"} 3\n"
            "labkube_latency_seconds_bucket{method=\"Claim\",le=\"+Inf\"} 4\n"
            "labkube_latency_seconds_sum{method=\"Claim\"} 4.3125\n"
            "labkube_latency_seconds_count{method=\"Claim\"} 4\n");
}

TEST(MetricsTest, UnlabelledHistogramAndTrailingInfBound) {
  Registry registry;
  registry.Histogram("h", "H.", {}, {1, std::numeric_limits<double>::infinity()})
      ->Labels({})
      .Observe(2);
  EXPECT_EQ(registry.Expose(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 2\n"
            "h_count 1\n");
}

TEST(MetricsTest, SameRegistrationReturnsSameFamily) {
  Registry registry;
  CounterFamily* a = registry.Counter("x_total", "X.", {"l"});
  CounterFamily* b = registry.Counter("x_total", "X.", {"l"});
  EXPECT_EQ(a, b);
  std::vector<std::string> values = {"v"};
  EXPECT_EQ(&a->Labels(values), &b->Labels({"v"}));
}

TEST(MetricsTest, FormatValue) {
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(-2.5), "-2.5");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsTest, BucketHelpers) {
  EXPECT_EQ(Registry::ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(Registry::LinearBuckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(Registry::DefaultBuckets().size(), 11u);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  CounterFamily* family = registry.Counter("c_total", "C.", {"t"});
  HistogramFamily* hist = registry.Histogram("h", "H.", {}, {1});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        family->Labels({t % 2 == 0 ? "even" : "odd"}).Inc();
        hist->Labels({}).Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_DOUBLE_EQ(family->Labels({"even"}).Value(), 2 * kPerThread);
  EXPECT_DOUBLE_EQ(family->Labels({"odd"}).Value(), 2 * kPerThread);
  EXPECT_EQ(hist->Labels({}).CumulativeCounts().back(), uint64_t{kThreads * kPerThread});
  EXPECT_DOUBLE_EQ(hist->Labels({}).Sum(), 0.5 * kThreads * kPerThread);
}

TEST(MetricsTest, DefaultRegistryIsShared) { EXPECT_EQ(&DefaultRegistry(), &DefaultRegistry()); }

using MetricsDeathTest = ::testing::Test;

TEST(MetricsDeathTest, ProgrammingErrorsAbort) {
  Registry registry;
  EXPECT_DEATH(registry.Counter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(registry.Counter("ok_total", "x", {"__reserved"}), "invalid label name");
  registry.Counter("dup_total", "x");
  EXPECT_DEATH(registry.Gauge("dup_total", "x"), "registered twice");
  EXPECT_DEATH(registry.Counter("dup_total", "other help"), "registered twice");
  EXPECT_DEATH(registry.Counter("l_total", "x", {"a"})->Labels({"1", "2"}), "2 label values");
  EXPECT_DEATH(registry.Histogram("h2", "x", {"le"}), "le");
  EXPECT_DEATH(registry.Histogram("h3", "x", {}, {2, 1}), "strictly increasing");
}

}  // namespace
}  // namespace labkube::metrics
