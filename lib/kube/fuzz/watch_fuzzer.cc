// libFuzzer entry for what labkube reads from the API server's list and watch responses:
//   - the watch stream decoder (RestClient::Watch's newline-delimited JSON events, in
//     rest_client.cc), fed through a fake Transport once as one chunk and once cut into small
//     chunks with heartbeats in between: both must deliver the same events and end the same way;
//     an ERROR event ends the watch with an error, nothing is delivered after it;
//   - every delivered object as the reflector and informer see it: typed (Decode<Pod>,
//     Decode<Node>, Decode<ObjectMeta>), as a metav1.Status (StatusFromObject), and as a
//     one-item PodList;
//   - the input as a PodList body (GET /api/v1/pods) the informers' way: RestClient::List +
//     DecodeList<Pod>, and a compact copy of every item (compact_object.h), which must read
//     exactly as the item without metadata.managedFields, in one allocation of exactly its size,
//     and keep under a field mask exactly what the mask names;
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
#include "lib/kube/compact_object.h"
#include "lib/kube/http_transport.h"
#include "lib/kube/json.h"
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

// ---- PodList: the informers' path. ----

// `item` without any metadata.managedFields (duplicate keys included), as CompactCopy keeps it.
rapidjson::Document WithoutManagedFields(const rapidjson::Value& item) {
  rapidjson::Document want;
  want.CopyFrom(item, want.GetAllocator());
  for (auto& m : want.GetObject()) {
    if (m.name != "metadata" || !m.value.IsObject()) continue;
    // EraseMember keeps the order of the others (RemoveMember moves the last one in).
    for (auto it = m.value.FindMember("managedFields"); it != m.value.MemberEnd();
         it = m.value.FindMember("managedFields")) {
      m.value.EraseMember(it);
    }
  }
  return want;
}

void CheckCompact(const rapidjson::Value& item, std::string_view input) {
  if (!item.IsObject()) return;
  ObjectPtr copy = CompactCopy(item, FieldMask());
  std::string got = json::ToString(*copy), want = json::ToString(WithoutManagedFields(item));
  if (got != want) Fail("a compact copy differs from its object:\n" + got + "\n" + want, input);
  auto& pool = const_cast<rapidjson::Document&>(*copy).GetAllocator();
  if (pool.Size() != pool.Capacity() && pool.Capacity() != 64) {
    Fail(absl::StrCat("a compact copy is not one exact allocation: ", pool.Size(), " of ",
                      pool.Capacity(), " bytes"),
         input);
  }
  FieldMask mask;
  mask.Keep({"spec", "nodeName"}).Keep({"spec", "containers", "resources"});
  ObjectPtr masked = CompactCopy(item, mask);
  for (json::Path path : {json::Path{"spec", "nodeName"}, json::Path{"metadata"}}) {
    const rapidjson::Value* a = json::Find(*masked, path);
    const rapidjson::Value* b = json::Find(*copy, path);
    // As text: rapidjson's == pairs duplicate keys by name, so equal objects may differ.
    if ((a == nullptr) != (b == nullptr) ||
        (a != nullptr && json::ToString(*a) != json::ToString(*b))) {
      Fail("a masked compact copy lost a field its mask keeps", input);
    }
  }
}

void CheckPodList(std::string_view body, std::string_view input) {
  RestClient client(std::make_unique<FakeTransport>(body, 0, false));
  absl::StatusOr<ObjectList> list = client.List(resources::Pods(), "", ListOptions{});
  if (!list.ok()) return;  // not JSON: nothing more to read
  (void)DecodeList<Pod>(*list);
  const rapidjson::Value& items = list->items();
  if (!items.IsArray()) return;
  for (const rapidjson::Value& item : items.GetArray()) CheckCompact(item, input);
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
    run.events.push_back(
        absl::StrCat(static_cast<int>(event.type), " ", json::ToString(event.object)));
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

  static constexpr long kCodes[] = {200, 201, 400, 401, 403, 404, 409,
                                    410, 422, 429, 500, 503, 504, 0};
  long code = kCodes[size % (sizeof(kCodes) / sizeof(kCodes[0]))];
  absl::Status s = ToStatus(code, input, "GET /api/v1/pods");
  if (s.ok() != (code >= 200 && code < 300)) {
    Fail(absl::StrCat("ToStatus(", code, ") gave ", s.ToString()), input);
  }
  return 0;
}
