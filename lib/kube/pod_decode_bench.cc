// Measures how fast labkube lists and decodes Pods, against kubectl, on a real cluster.
//
//   bazel run -c opt //lib/kube:pod_decode_bench -- --kubeconfig PATH [--pods 5000]
//       [--kubectl PATH] [--reps 5] [--threads 8] [--namespace bench-decode] [--cleanup]
//       [--dump FILE]
//   bazel run -c opt //lib/kube:pod_decode_bench -- --offline [--pods 5000]
//
// Creates --pods realistic Pods (labels, annotations, 2 containers with env and resources,
// tolerations, affinity; schedulerName "bench-none" so no scheduler acts on them) in the
// namespace unless they are already there, then prints one line of key=value figures:
//   pods_decoded, list_bytes, list_get_ms (raw GET /api/v1/pods);
//   decode_mb_per_s and decode_ms: the list decoded into typed Pods by simdjson On-Demand
//     (PodListDecoder, pod_list_decoder.h; one decoder reused, body read in place when its
//     std::string has room for simdjson's padding, else copied: in_place=1|0), best of --reps;
//   rapidjson_decode_mb_per_s (the previous path: json::Parse + DecodeList<Pod>, best of
//     --reps), rapidjson_parse_mb_per_s and rapidjson_typed_mb_per_s (its two halves);
//   labkube_end_to_end_ms (GET + simdjson decode, best of 3), kubectl_end_to_end_ms
//     (`kubectl get pods -A -o json >/dev/null`, best of 3).
// Each decoder is timed in a block of --reps runs of its own (RapidJSON first); both must
// agree on the number of Pods, or the bench fails. Throughput is list_bytes / time.
// --offline decodes a synthetic list of --pods Pods (no cluster; decode figures only).
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
#include "lib/kube/pod_list_decoder.h"
#include "lib/kube/rest_client.h"
#include "lib/kube/types.h"

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

// The RapidJSON path: parses and decodes `body`; returns {parse time, decode time}.
std::pair<absl::Duration, absl::Duration> RapidJsonDecode(const std::string& body, size_t* count) {
  absl::Time t0 = absl::Now();
  auto doc = json::Parse(body);
  if (!doc.ok()) Die(std::string(doc.status().message()));
  ObjectList list;
  list.doc = std::move(*doc);
  absl::Time t1 = absl::Now();
  auto pods = DecodeList<Pod>(list);
  if (!pods.ok()) Die(std::string(pods.status().message()));
  absl::Time t2 = absl::Now();
  *count = pods->size();
  return {t1 - t0, t2 - t1};
}

// The informers' path (reflector.cc): json::Parse of the page, then a compact copy of each item
// through `mask` (what the informer keeps).
absl::Duration InformerDecode(const std::string& body, const FieldMask& mask, size_t* count,
                              bool insitu = false) {
  std::string copy = insitu ? body : std::string();
  absl::Time t0 = absl::Now();
  absl::StatusOr<rapidjson::Document> doc;
  if (insitu) {
    rapidjson::Document d;
    d.ParseInsitu<rapidjson::kParseStopWhenDoneFlag>(copy.data());
    doc = std::move(d);
  } else {
    doc = json::Parse(body);
  }
  if (!doc.ok()) Die(std::string(doc.status().message()));
  std::vector<ObjectPtr> objects;
  const rapidjson::Value* items = json::Find(*doc, {"items"});
  if (items == nullptr || !items->IsArray()) Die("no items");
  objects.reserve(items->Size());
  for (const rapidjson::Value& item : items->GetArray()) {
    objects.push_back(CompactCopy(item, mask, "Pod", "v1"));
  }
  absl::Duration took = absl::Now() - t0;
  *count = objects.size();
  return took;
}

// The simdjson path (the fastest): decodes `body` in place when it has room for the padding.
absl::Duration SimdjsonDecode(PodListDecoder& decoder, const std::string& body, size_t* count) {
  absl::Time t0 = absl::Now();
  auto list = decoder.Decode(body, body.capacity());
  if (!list.ok()) Die(std::string(list.status().message()));
  absl::Duration took = absl::Now() - t0;
  *count = list->items.size();
  return took;
}

void ReportDecode(PodListDecoder& decoder, const std::string& body, int reps) {
  absl::Duration best = absl::InfiniteDuration(), rj_best = best, rj_parse = best, rj_typed = best;
  size_t count = 0, rj_count = 0;
  for (int r = 0; r < reps; ++r) {  // each path in a block of its own: its steady state
    auto [parse, typed] = RapidJsonDecode(body, &rj_count);
    rj_best = std::min(rj_best, parse + typed);
    rj_parse = std::min(rj_parse, parse);
    rj_typed = std::min(rj_typed, typed);
  }
  for (int r = 0; r < reps; ++r) best = std::min(best, SimdjsonDecode(decoder, body, &count));
  // What the informers do, whole objects and through a scheduler-like mask.
  FieldMask scheduler_like;
  scheduler_like.Keep({"spec", "nodeName"})
      .Keep({"spec", "containers", "resources", "requests"})
      .Keep({"status", "phase"});
  absl::Duration informer = absl::InfiniteDuration(), masked = informer;
  size_t informer_count = 0;
  for (int r = 0; r < reps; ++r)
    informer = std::min(informer, InformerDecode(body, FieldMask(), &informer_count));
  for (int r = 0; r < reps; ++r)
    masked = std::min(masked, InformerDecode(body, scheduler_like, &informer_count));
  if (count != rj_count) {
    Die(absl::StrFormat("simdjson decoded %d pods, RapidJSON %d", count, rj_count));
  }
  double mb = static_cast<double>(body.size()) / 1e6;
  auto rate = [mb](absl::Duration d) { return mb / absl::ToDoubleSeconds(d); };
  std::printf(
      "pods_decoded=%zu list_bytes=%zu decode_mb_per_s=%.1f decode_ms=%.1f in_place=%d "
      "rapidjson_decode_mb_per_s=%.1f rapidjson_parse_mb_per_s=%.1f "
      "rapidjson_typed_mb_per_s=%.1f informer_mb_per_s=%.1f informer_masked_mb_per_s=%.1f ",
      count, body.size(), rate(best), Ms(best),
      body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING, rate(rj_best), rate(rj_parse),
      rate(rj_typed), rate(informer), rate(masked));
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

// GET /api/v1/pods, then the fastest decode (simdjson), 3 times; returns the best times of the
// GET alone and of GET + decode, and the last body in `body`.
std::pair<absl::Duration, absl::Duration> TimeList(RestClient& client, PodListDecoder& decoder,
                                                   std::string& body) {
  HttpRequest get;
  get.path = "/api/v1/pods";
  absl::Duration best_get = absl::InfiniteDuration(), best_e2e = best_get;
  for (int r = 0; r < 3; ++r) {
    absl::Time t0 = absl::Now();
    auto resp = client.transport().Do(get);
    if (!resp.ok() || resp->status != 200) Die("GET /api/v1/pods failed");
    absl::Time t1 = absl::Now();
    size_t count;
    SimdjsonDecode(decoder, resp->body, &count);
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
    PodListDecoder decoder;
    ReportDecode(decoder, body, f.reps);
    std::printf("\n");
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

  PodListDecoder decoder;
  std::string body;
  auto [best_get, best_e2e] = TimeList(**client, decoder, body);
  Dump(f, body);
  ReportDecode(decoder, body, f.reps);
  std::printf("list_get_ms=%.1f labkube_end_to_end_ms=%.1f kubectl_end_to_end_ms=%.1f\n",
              Ms(best_get), Ms(best_e2e), Ms(TimeKubectl(f)));
  if (f.cleanup) {
    absl::Status s = (*client)->Delete(resources::Namespaces(), "", f.ns);
    if (!s.ok()) Die(std::string(s.message()));
  }
  return 0;
}

}  // namespace
}  // namespace labkube::kube

int main(int argc, char** argv) { return labkube::kube::Main(argc, argv); }
