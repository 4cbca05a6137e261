#include "lib/kube/event_recorder.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"

namespace labkube::kube {
namespace {

// The API server keeps event messages up to 1 KiB.
constexpr size_t kMaxMessage = 1024;

}  // namespace

EventRecorder::EventRecorder(Client& client, Clock& clock, std::string component,
                             std::string instance)
    : client_(client),
      clock_(clock),
      component_(std::move(component)),
      instance_(std::move(instance)) {}

absl::Status EventRecorder::Normal(const EventTarget& target, std::string_view reason,
                                   std::string_view message) {
  return Record(target, "Normal", reason, message);
}

absl::Status EventRecorder::Warning(const EventTarget& target, std::string_view reason,
                                    std::string_view message) {
  return Record(target, "Warning", reason, message);
}

absl::Status EventRecorder::Record(const EventTarget& target, std::string_view type,
                                   std::string_view reason, std::string_view message) {
  absl::Time now = clock_.Now();
  std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
  ObjectMeta meta;
  // Like client-go: the object's name and the time in hex, so events of one object sort.
  // (plus a counter: two events of one object in the same instant get two names).
  meta.name = absl::StrFormat("%s.%x%04x", target.name, absl::ToUnixNanos(now),
                              next_.fetch_add(1) & 0xffff);
  meta.namespace_ = target.ns;
  Builder b;
  rapidjson::Value event = b.Manifest(
      "v1", "Event", meta,
      {{"involvedObject", b.Object({{"apiVersion", b.Str(target.api_version)},
                                    {"kind", b.Str(target.kind)},
                                    {"namespace", b.Str(target.ns)},
                                    {"name", b.Str(target.name)},
                                    {"uid", b.Str(target.uid)}})},
       {"type", b.Str(type)},
       {"reason", b.Str(reason)},
       {"message", b.Str(message.substr(0, kMaxMessage))},
       {"source", b.Object({{"component", b.Str(component_)}})},
       {"reportingComponent", b.Str(component_)},
       {"reportingInstance", b.Str(instance_)},
       {"firstTimestamp", b.Str(when)},
       {"lastTimestamp", b.Str(when)},
       {"count", b.Int(1)}});
  absl::StatusOr<rapidjson::Document> doc = b.Finish(std::move(event));
  if (!doc.ok()) return doc.status();
  return client_.Create(resources::Events(), target.ns, *doc).status();
}

}  // namespace labkube::kube
