// Load generator for the injector webhook: HTTPS keep-alive connections posting
// AdmissionReviews at a fixed total rate (open loop), like kube-apiserver does.
//
//   bazel run -c opt //services/injector:load_bench -- --target=127.0.0.1:PORT --ca=CA.pem
//       --mode=nonguest|guest [--group=G --type=T] [--dry_run=true] --rate=500 --seconds=10
//
// nonguest: a plain pod (allowed untouched, no scheduler call); guest: a guest pod, so the
// injector calls the scheduler's Claim (dry_run: consumes nothing, exercises the whole path).
// Prints one line of figures.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "lib/contract.h"

ABSL_FLAG(std::string, target, "", "injector host:port");
ABSL_FLAG(std::string, ca, "", "CA PEM that signed the injector's certificate");
ABSL_FLAG(std::string, cert, "",
          "client certificate to present (an injector with --client_ca answers only the API "
          "server's: in the local lab $LABKUBE_STATE/pki/webhook-client.crt)");
ABSL_FLAG(std::string, key, "", "its private key");
ABSL_FLAG(std::string, mode, "nonguest", "nonguest | guest");
ABSL_FLAG(std::string, group, "gpu-machines", "guest: machine group");
ABSL_FLAG(std::string, type, "rtx3090-x1", "guest: machine type");
ABSL_FLAG(bool, dry_run, true, "guest: dry-run reviews (consume no slot)");
ABSL_FLAG(int, connections, 4, "keep-alive connections");
ABSL_FLAG(double, rate, 500, "total requests per second");
ABSL_FLAG(int, seconds, 10, "duration");
ABSL_FLAG(std::string, vegeta_targets, "",
          "instead of sending: write --count reviews (distinct uids) as vegeta JSON targets for "
          "https://--target/mutate-pods to this file, for an independent load generator");
ABSL_FLAG(int, count, 100000, "--vegeta_targets: how many");
ABSL_FLAG(bool, accept_gzip, true,
          "send Accept-Encoding: gzip, as the API server does (a server that compresses pays)");

namespace {

std::string Review(int i) {
  bool guest = absl::GetFlag(FLAGS_mode) == "guest";
  std::string labels =
      guest
          ? absl::StrCat("\"", labkube::contract::kGroupLabel, "\":\"", absl::GetFlag(FLAGS_group),
                         "\",\"", labkube::contract::kTypeLabel, "\":\"", absl::GetFlag(FLAGS_type),
                         "\",\"", labkube::contract::kRoleLabel, "\":\"",
                         labkube::contract::kRoleGuest, "\"")
          : R"("app":"web")";
  return absl::StrCat(
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"bench-)",
      absl::ToUnixNanos(absl::Now()), "-", i,
      R"(","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1",)",
      R"("resource":"pods"},"namespace":"lab-bench","operation":"CREATE","dryRun":)",
      absl::GetFlag(FLAGS_dry_run) ? "true" : "false",
      R"(,"userInfo":{"username":"bench"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{)",
      R"("generateName":"bench-","namespace":"lab-bench","labels":{)", labels,
      R"(}},"spec":{"containers":[{"name":"main","image":"pytorch/pytorch"}]}}}})");
}

struct Stats {
  std::vector<double> ms;
  int ok = 0, denied = 0, errors = 0;
};

void Connection(int index, int connections, Stats& out) {
  std::vector<std::string> hp = absl::StrSplit(absl::GetFlag(FLAGS_target), ':');
  httplib::SSLClient client(hp[0], std::stoi(hp[1]), absl::GetFlag(FLAGS_cert),
                            absl::GetFlag(FLAGS_key));
  client.set_ca_cert_path(absl::GetFlag(FLAGS_ca).c_str());
  client.enable_server_certificate_verification(true);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_decompress(false);
  httplib::Headers headers;
  if (absl::GetFlag(FLAGS_accept_gzip)) headers.emplace("Accept-Encoding", "gzip");
  absl::Duration period = absl::Seconds(connections / absl::GetFlag(FLAGS_rate));
  absl::Time next = absl::Now() + period * index / connections;
  absl::Time end = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  for (int i = 0; absl::Now() < end; ++i) {
    absl::SleepFor(next - absl::Now());
    next += period;
    absl::Time start = absl::Now();
    auto res = client.Post("/mutate-pods?timeout=10s", headers, Review(index * 1000000 + i),
                           "application/json");
    out.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!res || res->status != 200) {
      ++out.errors;
    } else if (res->body.find("\"allowed\":true") != std::string::npos) {
      ++out.ok;
    } else {
      ++out.denied;
    }
  }
}

// One vegeta target per line (vegeta attack -format=json).
int WriteVegetaTargets(const std::string& path) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) return std::fprintf(stderr, "cannot write %s\n", path.c_str()), 1;
  const std::string url =
      absl::StrCat("https://", absl::GetFlag(FLAGS_target), "/mutate-pods?timeout=10s");
  const char* gzip = absl::GetFlag(FLAGS_accept_gzip) ? R"(,"Accept-Encoding":["gzip"])" : "";
  for (int i = 0; i < absl::GetFlag(FLAGS_count); ++i) {
    std::fprintf(
        out,
        R"({"method":"POST","url":"%s","body":"%s","header":{"Content-Type":["application/json"]%s}})"
        "\n",
        url.c_str(), absl::Base64Escape(Review(i)).c_str(), gzip);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_vegeta_targets).empty()) {
    return WriteVegetaTargets(absl::GetFlag(FLAGS_vegeta_targets));
  }
  int n = absl::GetFlag(FLAGS_connections);
  std::vector<Stats> stats(n);
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { Connection(i, n, stats[i]); });
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Stats all;
  for (Stats& s : stats) {
    all.ms.insert(all.ms.end(), s.ms.begin(), s.ms.end());
    all.ok += s.ok, all.denied += s.denied, all.errors += s.errors;
  }
  std::printf(
      "injector_load mode=%s dry_run=%d connections=%d target_rate=%.0f requests=%zu "
      "allowed=%d denied=%d errors=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f rps=%.0f\n",
      absl::GetFlag(FLAGS_mode).c_str(), absl::GetFlag(FLAGS_dry_run), n, absl::GetFlag(FLAGS_rate),
      all.ms.size(), all.ok, all.denied, all.errors, Percentile(all.ms, 0.5),
      Percentile(all.ms, 0.99), Percentile(all.ms, 1.0), all.ms.size() / seconds);
  return all.errors == 0 ? 0 : 1;
}
