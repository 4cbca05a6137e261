// Measures how fast labkube's informers list and decode Pods, against kubectl, on a real cluster.
//
//   bazel run -c opt //lib/kube:pod_decode_bench -- --kubeconfig PATH [--pods 5000]
//       [--kubectl PATH] [--reps 5] [--threads 8] [--namespace bench-decode] [--cleanup]
//       [--dump FILE]
//   bazel run -c opt //lib/kube:pod_decode_bench -- --offline [--pods 5000]
//
// Creates --pods realistic Pods (labels, annotations, 2 containers with env and resources,
// tolerations, affinity; schedulerName "bench-none" so no scheduler acts on them) in the
// namespace unless they are already there, lists them all (GET /api/v1/pods, best of 3) and
// decodes the list the way every informer does (reflector.cc): RapidJSON parses the page, then
// each item becomes a compact copy (compact_object.h), whole or through the scheduler's field
// mask. Prints a table: MB/s and ms of each step, best of --reps, then labkube's list end to end
// (GET + decode) beside `kubectl get pods -A -o json >/dev/null` (best of 3), which it is judged
// by. --offline decodes a synthetic list of --pods Pods (no cluster; decode figures only).
// Kubeconfig: --kubeconfig or $LABKUBE_KUBECONFIG; kubectl: --kubectl or $KUBECTL or "kubectl".
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "lib/kube/compact_object.h"
#include "lib/kube/json.h"
#include "lib/kube/rest_client.h"

namespace labkube::kube {
namespace {

struct Flags {
  std::string kubeconfig;
  std::string kubectl;
  std::string ns = "bench-decode";
  int pods = 5000;
  int reps = 5;
  int threads = 8;
  bool offline = false;
  std::string dump;  // --dump FILE: also write the list JSON there
  bool cleanup = false;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "pod_decode_bench: %s\n", message.c_str());
  std::exit(1);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  if (const char* k = std::getenv("LABKUBE_KUBECONFIG")) f.kubeconfig = k;
  f.kubectl = std::getenv("KUBECTL") ? std::getenv("KUBECTL") : "kubectl";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) Die("missing value for " + arg);
      return argv[++i];
    };
    auto is = [&](const char* name) {
      return arg == name || arg.rfind(std::string(name) + "=", 0) == 0;
    };
    if (is("--kubeconfig"))
      f.kubeconfig = value();
    else if (is("--kubectl"))
      f.kubectl = value();
    else if (is("--namespace"))
      f.ns = value();
    else if (is("--pods"))
      f.pods = std::atoi(value().c_str());
    else if (is("--reps"))
      f.reps = std::atoi(value().c_str());
    else if (is("--threads"))
      f.threads = std::atoi(value().c_str());
    else if (is("--dump"))
      f.dump = value();
    else if (arg == "--offline")
      f.offline = true;
    else if (arg == "--cleanup")
      f.cleanup = true;
    else
      Die("unknown flag " + arg + " (see the header of pod_decode_bench.cc)");
  }
  if (f.pods <= 0 || f.reps <= 0 || f.threads <= 0) Die("--pods, --reps, --threads must be > 0");
  return f;
}

std::string PodName(int i) { return absl::StrFormat("bench-pod-%05d", i); }

// A realistic Pod as a client would create it.
std::string PodJson(const std::string& ns, int i) {
  return absl::StrFormat(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s",)"
      R"("labels":{"app":"bench","bench":"decode","tier":"backend","shard":"%d",)"
      R"("app.kubernetes.io/managed-by":"labkube-bench","pod-template-hash":"7d9f8c6b5"},)"
      R"("annotations":{"labkube.io/slot":"slot-%d","labkube.io/owner":"team-%d",)"
      R"("kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",)"
      R"(\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"}}"}},)"
      R"("spec":{"schedulerName":"bench-none","priorityClassName":"",)"
      R"("containers":[{"name":"main","image":"registry.example/ml/trainer:2.14.1",)"
      R"("command":["python","-m","trainer"],"args":["--epochs","10","--shard","%d"],)"
      R"("env":[{"name":"MODEL","value":"resnet50"},{"name":"BATCH_SIZE","value":"256"},)"
      R"({"name":"DATA_DIR","value":"/data/shard-%d"},{"name":"LOG_LEVEL","value":"info"}],)"
      R"("ports":[{"containerPort":8080,"name":"metrics"}],)"
      R"("resources":{"requests":{"cpu":"4","memory":"32Gi","nvidia.com/gpu":"1"},)"
      R"("limits":{"cpu":"8","memory":"48Gi","nvidia.com/gpu":"1"}}},)"
      R"({"name":"sidecar","image":"registry.example/infra/log-shipper:1.3",)"
      R"("env":[{"name":"TARGET","value":"logs.example:514"},{"name":"POD","value":"%s"}],)"
      R"("resources":{"requests":{"cpu":"100m","memory":"128Mi"},)"
      R"("limits":{"cpu":"200m","memory":"256Mi"}}}],)"
      R"("tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"},)"
      R"({"key":"labkube.io/reserved","operator":"Equal","value":"team-%d","effect":"NoSchedule"}],)"
      R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
      R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"labkube.io/pool","operator":"In",)"
      R"("values":["a100","h100"]}]}]}}}}})",
      PodName(i), ns, i % 16, i, i % 8, PodName(i), i, i, PodName(i), i % 8);
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// The informers' path (reflector.cc): the page parsed by RapidJSON, then a compact copy of
// each item through `mask`. Returns {parse time, copy time}.
std::pair<absl::Duration, absl::Duration> InformerDecode(const std::string& body,
                                                         const FieldMask& mask, size_t* count) {
  absl::Time t0 = absl::Now();
  auto doc = json::Parse(body);
  if (!doc.ok()) Die(std::string(doc.status().message()));
  absl::Time t1 = absl::Now();
  const rapidjson::Value* items = json::Find(*doc, {"items"});
  if (items == nullptr || !items->IsArray()) Die("the list has no items");
  std::vector<ObjectPtr> objects;
  objects.reserve(items->Size());
  for (const rapidjson::Value& item : items->GetArray()) {
    objects.push_back(CompactCopy(item, mask, "Pod", "v1"));
  }
  *count = objects.size();
  return {t1 - t0, absl::Now() - t1};
}

// What the scheduler's Pod informer keeps (services/scheduler/cluster_view.cc PodFields()).
const FieldMask& SchedulerMask() {
  static const FieldMask* mask = &(*new FieldMask())
                                      .Keep({"spec", "nodeName"})
                                      .Keep({"spec", "containers", "resources", "requests"})
                                      .Keep({"spec", "initContainers", "resources", "requests"})
                                      .Keep({"spec", "overhead"})
                                      .Keep({"status", "phase"});
  return *mask;
}

struct DecodeFigures {
  size_t pods = 0;
  absl::Duration parse = absl::InfiniteDuration(), whole = parse, masked = parse;
};

// Best of `reps` for each path, in blocks of their own (each path's steady state).
DecodeFigures MeasureDecode(const std::string& body, int reps) {
  DecodeFigures f;
  for (int r = 0; r < reps; ++r) {
    auto [parse, copy] = InformerDecode(body, FieldMask(), &f.pods);
    f.parse = std::min(f.parse, parse);
    f.whole = std::min(f.whole, parse + copy);
  }
  for (int r = 0; r < reps; ++r) {
    auto [parse, copy] = InformerDecode(body, SchedulerMask(), &f.pods);
    f.masked = std::min(f.masked, parse + copy);
  }
  return f;
}

void PrintDecode(const DecodeFigures& f, size_t bytes) {
  double mb = static_cast<double>(bytes) / 1e6;
  auto row = [mb](const char* what, absl::Duration d) {
    std::printf("| %s | %.1f MB/s | %.1f ms |\n", what, mb / absl::ToDoubleSeconds(d), Ms(d));
  };
  std::printf("| decode of a %zu-pod list (%.1f MB) | throughput | time |\n|---|---|---|\n", f.pods,
              mb);
  row("RapidJSON parse of the page", f.parse);
  row("informer: parse + compact copies of whole objects", f.whole);
  row("informer: parse + compact copies, the scheduler's mask", f.masked);
}

std::string SyntheticList(const Flags& f) {
  std::string body =
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[)";
  for (int i = 0; i < f.pods; ++i) {
    std::string pod = PodJson(f.ns, i);
    pod.insert(pod.find(R"("labels")"),
               absl::StrFormat(R"("uid":"6f1c2a9e-0000-4000-8000-%012d","resourceVersion":"%d",)"
                               R"("creationTimestamp":"2024-05-01T10:00:00Z",)",
                               i, 1000 + i));
    pod.back() = ',';  // reopen the object for a status
    pod +=
        R"("status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False",)"
        R"("reason":"Unschedulable","message":"0/10 nodes are available"}],"qosClass":"Burstable"}})";
    absl::StrAppend(&body, i ? "," : "", pod);
  }
  return body + "]}";
}

void EnsurePods(RestClient& client, const Flags& f) {
  rapidjson::Document ns = json::NewObject("v1", "Namespace", "", f.ns);
  auto created = client.Create(resources::Namespaces(), "", ns);
  if (!created.ok() && created.status().code() != absl::StatusCode::kAlreadyExists) {
    Die(std::string(created.status().message()));
  }
  ListOptions lo;
  lo.label_selector = "bench=decode";
  lo.limit = 1000;
  std::vector<bool> present(f.pods, false);
  do {
    auto page = client.List(resources::Pods(), f.ns, lo);
    if (!page.ok()) Die(std::string(page.status().message()));
    for (const auto& item : page->items().GetArray()) {
      std::string_view name = json::GetString(item, {"metadata", "name"});
      int i = name.size() > 10 ? std::atoi(std::string(name.substr(10)).c_str()) : -1;
      if (i >= 0 && i < f.pods) present[i] = true;
    }
    lo.continue_token = page->continue_token;
  } while (!lo.continue_token.empty());
  std::atomic<int> next{0}, made{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < f.threads; ++t) {
    workers.emplace_back([&] {
      for (int i; (i = next++) < f.pods;) {
        if (present[i]) continue;
        auto pod = json::Parse(PodJson(f.ns, i));
        auto r = client.Create(resources::Pods(), f.ns, *pod);
        if (!r.ok() && r.status().code() != absl::StatusCode::kAlreadyExists) {
          Die(std::string(r.status().message()));
        }
        ++made;
      }
    });
  }
  for (auto& w : workers) w.join();
  std::fprintf(stderr, "pod_decode_bench: created %d pods in %.1f s (%d threads)\n", made.load(),
               absl::ToDoubleSeconds(absl::Now() - start), f.threads);
}

void Dump(const Flags& f, const std::string& body) {
  if (f.dump.empty()) return;
  FILE* out = std::fopen(f.dump.c_str(), "w");
  if (out == nullptr || std::fwrite(body.data(), 1, body.size(), out) != body.size()) {
    Die("cannot write " + f.dump);
  }
  std::fclose(out);
}

// GET /api/v1/pods, then the informers' decode, 3 times; returns the best times of the
// GET alone and of GET + decode, and the last body in `body`.
std::pair<absl::Duration, absl::Duration> TimeList(RestClient& client, std::string& body) {
  HttpRequest get;
  get.path = "/api/v1/pods";
  absl::Duration best_get = absl::InfiniteDuration(), best_e2e = best_get;
  for (int r = 0; r < 3; ++r) {
    absl::Time t0 = absl::Now();
    auto resp = client.transport().Do(get);
    if (!resp.ok() || resp->status != 200) Die("GET /api/v1/pods failed");
    absl::Time t1 = absl::Now();
    size_t count;
    InformerDecode(resp->body, FieldMask(), &count);
    best_get = std::min(best_get, t1 - t0);
    best_e2e = std::min(best_e2e, absl::Now() - t0);
    body = std::move(resp->body);
  }
  return {best_get, best_e2e};
}

absl::Duration TimeKubectl(const Flags& f) {
  std::string cmd = absl::StrCat("'", f.kubectl, "' --kubeconfig '", f.kubeconfig,
                                 "' get pods -A -o json >/dev/null");
  absl::Duration best = absl::InfiniteDuration();
  for (int r = 0; r < 3; ++r) {
    absl::Time t0 = absl::Now();
    if (std::system(cmd.c_str()) != 0) Die("failed: " + cmd);
    best = std::min(best, absl::Now() - t0);
  }
  return best;
}

int Main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  if (f.offline) {
    std::string body = SyntheticList(f);
    Dump(f, body);
    PrintDecode(MeasureDecode(body, f.reps), body.size());
    return 0;
  }
  if (f.kubeconfig.empty()) Die("no kubeconfig: pass --kubeconfig or set LABKUBE_KUBECONFIG");
  auto config = LoadKubeconfig(f.kubeconfig);
  if (!config.ok()) Die(std::string(config.status().message()));
  TransportOptions options;
  options.timeout = absl::Minutes(2);
  auto client = RestClient::Create(*config, options);
  if (!client.ok()) Die(std::string(client.status().message()));
  EnsurePods(**client, f);

  std::string body;
  auto [best_get, best_e2e] = TimeList(**client, body);
  Dump(f, body);
  PrintDecode(MeasureDecode(body, f.reps), body.size());
  absl::Duration kubectl = TimeKubectl(f);
  std::printf("| GET /api/v1/pods (the API server's answer) | | %.1f ms |\n", Ms(best_get));
  std::printf(
      "| labkube list end to end (GET + informer decode, whole) | | %.1f ms: %.1fx faster "
      "than kubectl get pods -A -o json (%.1f ms) |\n",
      Ms(best_e2e), absl::ToDoubleSeconds(kubectl) / absl::ToDoubleSeconds(best_e2e), Ms(kubectl));
  if (f.cleanup) {
    absl::Status s = (*client)->Delete(resources::Namespaces(), "", f.ns);
    if (!s.ok()) Die(std::string(s.message()));
  }
  return 0;
}

}  // namespace
}  // namespace labkube::kube

int main(int argc, char** argv) { return labkube::kube::Main(argc, argv); }
