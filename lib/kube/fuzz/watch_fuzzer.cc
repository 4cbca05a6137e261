// libFuzzer entry for what labkube reads from the API server's list and watch responses:
//   - the watch stream decoder (RestClient::Watch's newline-delimited JSON events, in
//     rest_client.cc), fed through a fake Transport once as one chunk and once cut into small
//     chunks with heartbeats in between: both must deliver the same events and end the same way;
//     an ERROR event ends the watch with an error, nothing is delivered after it;
//   - every delivered object as the reflector and informer see it: typed (Decode<Pod>,
//     Decode<Node>, Decode<ObjectMeta>), as a metav1.Status (StatusFromObject), and as a
//     one-item PodList through both Pod decoders;
//   - the input as a PodList body (GET /api/v1/pods): RestClient::List + DecodeList<Pod>
//     (RapidJSON) against PodListDecoder (simdjson On-Demand, pod_list_decoder.h). For valid
//     JSON they must agree as the header promises: when the simdjson decoder accepts the list,
//     the RapidJSON path gives the same Pods, resourceVersion and continue token; when it
//     rejects an item (an "items[N]: ..." error), the RapidJSON path gives the same error. The
//     decoder reused across inputs, reading in place, must agree with a fresh one;
//   - the input as an error response body (ToStatus).
// rest_client.cc's only tie to libcurl is RestClient::Create (CurlTransport::Create), which the
// fuzzer never calls: stubs below stand in for CurlTransport, so neither libcurl nor
// http_transport.cc is linked.
// Built and run outside Bazel by tools/fuzz.sh (target `watch`).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/kube/http_transport.h"
#include "lib/kube/json.h"
#include "lib/kube/pod_list_decoder.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "lib/kube/status.h"
#include "lib/kube/types.h"

namespace labkube::kube {

// Stand-ins for CurlTransport, which rest_client.cc refers to (RestClient::Create; UBSan's vptr
// checks also need its type info, emitted with its destructor): they let rest_client.cc link
// without http_transport.cc and libcurl. The fuzzer never makes a CurlTransport.
struct CurlTransport::Share {};
CurlTransport::~CurlTransport() { std::abort(); }
absl::StatusOr<HttpResponse> CurlTransport::Do(const HttpRequest&) { std::abort(); }
absl::Status CurlTransport::Stream(const HttpRequest&, const ChunkCallback&) { std::abort(); }
absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(const ClusterConfig&,
                                                                     TransportOptions) {
  std::abort();
}

namespace {

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "invariant violated: %s\ninput: %.*s\n", what.c_str(),
               static_cast<int>(input.size() > 4096 ? 4096 : input.size()), input.data());
  std::abort();
}

// Streams `body` cut into pieces of `chunk` bytes (0: one piece), with a heartbeat (an empty
// chunk) before each piece when `heartbeats`; Do() answers `status` with `body`.
class FakeTransport : public Transport {
 public:
  FakeTransport(std::string_view body, size_t chunk, bool heartbeats, long status = 200)
      : body_(body), chunk_(chunk), heartbeats_(heartbeats), status_(status) {}

  absl::StatusOr<HttpResponse> Do(const HttpRequest&) override {
    return HttpResponse{status_, std::string(body_), "application/json"};
  }
  absl::Status Stream(const HttpRequest&, const ChunkCallback& on_chunk) override {
    size_t step = chunk_ == 0 ? body_.size() : chunk_;
    for (size_t at = 0; at < body_.size(); at += step) {
      if (heartbeats_ && !on_chunk("")) return absl::OkStatus();
      if (!on_chunk(body_.substr(at, step))) return absl::OkStatus();
    }
    return absl::OkStatus();
  }

 private:
  std::string_view body_;
  size_t chunk_;
  bool heartbeats_;
  long status_;
};

// ---- Every field of a Pod as text, to compare the two decoders (as pod_list_decoder_test). ----

std::string Quote(const std::string& s) { return absl::StrCat("\"", absl::CHexEscape(s), "\""); }

std::string Text(absl::Time t) { return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()); }

void DumpMap(std::string& out, const std::string& path, const StringMap& m) {
  absl::StrAppend(&out, path, ".size=", m.size(), "\n");
  for (const auto& [k, v] : m) absl::StrAppend(&out, path, "[", Quote(k), "]=", Quote(v), "\n");
}

void DumpContainers(std::string& out, const std::string& path, const std::vector<Container>& cs) {
  absl::StrAppend(&out, path, ".size=", cs.size(), "\n");
  for (size_t i = 0; i < cs.size(); ++i) {
    std::string at = absl::StrCat(path, "[", i, "]");
    absl::StrAppend(&out, at, ".name=", Quote(cs[i].name), "\n", at, ".image=", Quote(cs[i].image),
                    "\n");
    DumpMap(out, at + ".requests", cs[i].requests);
    DumpMap(out, at + ".limits", cs[i].limits);
  }
}

std::string Dump(const Pod& p) {
  const ObjectMeta& m = p.metadata;
  std::string out;
  absl::StrAppend(&out, "name=", Quote(m.name), "\nnamespace=", Quote(m.namespace_),
                  "\nuid=", Quote(m.uid), "\nresourceVersion=", Quote(m.resource_version),
                  "\ngeneration=", m.generation, "\n");
  DumpMap(out, "labels", m.labels);
  DumpMap(out, "annotations", m.annotations);
  for (const OwnerReference& o : m.owner_references) {
    absl::StrAppend(&out, "ownerReference=", Quote(o.api_version), ",", Quote(o.kind), ",",
                    Quote(o.name), ",", Quote(o.uid), ",", o.controller, ",",
                    o.block_owner_deletion, "\n");
  }
  for (const std::string& f : m.finalizers) absl::StrAppend(&out, "finalizer=", Quote(f), "\n");
  absl::StrAppend(&out, "creationTimestamp=", Text(m.creation_timestamp), "\ndeletionTimestamp=",
                  m.deletion_timestamp ? Text(*m.deletion_timestamp) : "none", "\n");
  absl::StrAppend(&out, "nodeName=", Quote(p.node_name), "\nschedulerName=", Quote(p.scheduler_name),
                  "\npriorityClassName=", Quote(p.priority_class_name),
                  "\npriority=", p.priority ? absl::StrCat(*p.priority) : "none", "\n");
  DumpContainers(out, "containers", p.containers);
  DumpContainers(out, "initContainers", p.init_containers);
  DumpMap(out, "nodeSelector", p.node_selector);
  for (const Toleration& t : p.tolerations) {
    absl::StrAppend(&out, "toleration=", Quote(t.key), ",", Quote(t.operator_), ",", Quote(t.value),
                    ",", Quote(t.effect), ",",
                    t.toleration_seconds ? absl::StrCat(*t.toleration_seconds) : "none", "\n");
  }
  absl::StrAppend(&out, "hasAffinity=", p.has_affinity, "\nphase=", Quote(p.phase),
                  "\npodIP=", Quote(p.pod_ip), "\nreason=", Quote(p.reason),
                  "\nmessage=", Quote(p.message), "\n");
  for (const Condition& c : p.conditions) {
    absl::StrAppend(&out, "condition=", Quote(c.type), ",", Quote(c.status), ",", Quote(c.reason),
                    ",", Quote(c.message), "\n");
  }
  return out;
}

std::string Dump(const PodList& list) {
  std::string out = absl::StrCat("resourceVersion=", Quote(list.resource_version),
                                 "\ncontinue=", Quote(list.continue_token), "\n");
  for (size_t i = 0; i < list.items.size(); ++i) {
    absl::StrAppend(&out, "-- items[", i, "]\n", Dump(list.items[i]));
  }
  return out;
}

// ---- PodList: RapidJSON path against the simdjson decoder. ----

void CheckPodList(std::string_view body, std::string_view input) {
  absl::StatusOr<PodList> fresh = DecodePodList(body);

  // The long-lived decoder, reading in place from a buffer with room for simdjson's padding.
  static PodListDecoder* reused = new PodListDecoder();
  std::string padded;
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(body);
  absl::StatusOr<PodList> in_place = reused->Decode(padded, padded.capacity());
  if (fresh.ok() != in_place.ok() ||
      (fresh.ok() ? Dump(*fresh) != Dump(*in_place) : fresh.status() != in_place.status())) {
    Fail(absl::StrCat("a reused in-place PodListDecoder disagrees with a fresh one: ",
                      fresh.ok() ? "ok" : fresh.status().ToString(), " vs ",
                      in_place.ok() ? "ok" : in_place.status().ToString()),
         input);
  }

  // RestClient::List + DecodeList<Pod>, as the services read a PodList.
  RestClient client(std::make_unique<FakeTransport>(body, 0, false));
  absl::StatusOr<ObjectList> list = client.List(resources::Pods(), "", ListOptions{});
  if (!list.ok()) return;  // not JSON: nothing to compare
  absl::StatusOr<std::vector<Pod>> pods = DecodeList<Pod>(*list);
  if (fresh.ok()) {
    if (!pods.ok()) {
      Fail("simdjson accepts the PodList, RapidJSON says " + pods.status().ToString(), input);
    }
    PodList want{std::move(*pods), list->resource_version, list->continue_token};
    std::string a = Dump(*fresh), b = Dump(want);
    if (a != b) Fail("the two Pod decoders disagree:\nsimdjson:\n" + a + "RapidJSON:\n" + b, input);
  } else if (absl::StartsWith(fresh.status().message(), "items[")) {
    if (pods.ok() || pods.status().message() != fresh.status().message()) {
      Fail(absl::StrCat("simdjson rejects an item: ", fresh.status().ToString(), "; RapidJSON: ",
                        pods.ok() ? "ok" : pods.status().ToString()),
           input);
    }
  }
}

// ---- The watch stream. ----

struct WatchRun {
  std::vector<std::string> events;  // "<type> <object JSON>"
  absl::Status status;
};

WatchRun Watch(std::string_view stream, size_t chunk, bool heartbeats, std::string_view input,
               std::vector<rapidjson::Document>* objects) {
  WatchRun run;
  RestClient client(std::make_unique<FakeTransport>(stream, chunk, heartbeats));
  WatchOptions options;
  options.resource_version = "1";
  bool after_error = false;
  run.status = client.Watch(resources::Pods(), "", options, [&](WatchEvent&& event) {
    if (after_error) Fail("an event was delivered after an ERROR event", input);
    if (!event.object.IsObject()) Fail("a watch event whose object is not an object", input);
    after_error = event.type == WatchEventType::kError;
    run.events.push_back(absl::StrCat(static_cast<int>(event.type), " ", json::ToString(event.object)));
    if (objects != nullptr) objects->push_back(std::move(event.object));
    return true;
  });
  if (after_error && run.status.ok()) Fail("an ERROR event ended the watch with OK", input);
  return run;
}

void CheckObject(const rapidjson::Value& object, std::string_view input) {
  (void)Decode<Pod>(object);
  (void)Decode<Node>(object);
  (void)Decode<ObjectMeta>(object);
  (void)StatusFromObject(object, "watch pods");
  // The reflector's view: resourceVersion, and the object as one item of a list.
  (void)json::GetString(object, {"metadata", "resourceVersion"});
  CheckPodList(absl::StrCat(R"({"metadata":{"resourceVersion":"7"},"items":[)",
                            json::ToString(object), "]}"),
               input);
}

}  // namespace
}  // namespace labkube::kube

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace labkube::kube;  // NOLINT
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::vector<rapidjson::Document> objects;
  WatchRun whole = Watch(input, 0, false, input, &objects);
  size_t chunk = 1 + (size > 0 ? data[size / 2] % 17 : 0);
  WatchRun pieces = Watch(input, chunk, true, input, nullptr);
  if (whole.events != pieces.events || whole.status != pieces.status) {
    Fail(absl::StrCat("chunks of ", chunk, " bytes give another watch than one chunk: ",
                      whole.events.size(), " events, ", whole.status.ToString(), " vs ",
                      pieces.events.size(), " events, ", pieces.status.ToString()),
         input);
  }
  for (const rapidjson::Document& object : objects) CheckObject(object, input);

  CheckPodList(input, input);

  static constexpr long kCodes[] = {200, 201, 400, 401, 403, 404, 409, 410, 422, 429, 500, 503, 504, 0};
  long code = kCodes[size % (sizeof(kCodes) / sizeof(kCodes[0]))];
  absl::Status s = ToStatus(code, input, "GET /api/v1/pods");
  if (s.ok() != (code >= 200 && code < 300)) {
    Fail(absl::StrCat("ToStatus(", code, ") gave ", s.ToString()), input);
  }
  return 0;
}
