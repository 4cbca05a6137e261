#include "lib/kube/pod_list_decoder.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/simdjson_fields.h"
#include "lib/status_macros.h"

namespace labkube::kube {
namespace {

namespace od = simdjson::ondemand;
using sj::At;

// Keys in the order types.cc checks them (a key's index is its rank, see sj::FirstError).
constexpr std::string_view kListKeys[] = {"items", "metadata"};
constexpr std::string_view kListMetaKeys[] = {"resourceVersion", "continue"};
constexpr std::string_view kPodKeys[] = {"metadata", "spec", "status"};
constexpr std::string_view kMetaKeys[] = {
    "name",           "namespace",   "uid",        "resourceVersion",   "generation",
    "labels",         "annotations", "finalizers", "creationTimestamp", "deletionTimestamp",
    "ownerReferences"};
constexpr std::string_view kOwnerKeys[] = {"apiVersion", "kind",       "name",
                                           "uid",        "controller", "blockOwnerDeletion"};
constexpr std::string_view kSpecKeys[] = {"nodeName",     "schedulerName", "priorityClassName",
                                          "priority",     "containers",    "initContainers",
                                          "nodeSelector", "affinity",      "tolerations"};
constexpr std::string_view kContainerKeys[] = {"name", "image", "resources"};
constexpr std::string_view kResourcesKeys[] = {"requests", "limits"};
constexpr std::string_view kTolerationKeys[] = {"key", "operator", "value", "effect",
                                                "tolerationSeconds"};
constexpr std::string_view kStatusKeys[] = {"phase", "podIP", "reason", "message", "conditions"};
constexpr std::string_view kConditionKeys[] = {"type", "status", "reason", "message"};

const At kRoot{nullptr, ""};

// Whether metadata.namespace and metadata.name are strings: types.cc names the Pod in an error
// ("Pod ns/name: ...") from the raw document, whatever else failed.
struct Who {
  bool ns = false;
  bool name = false;
};

absl::Status Named(od::value& v, const At& at, std::string_view key, std::string& out,
                   bool& is_string) {
  od::json_type type;
  if (simdjson::error_code e = v.type().get(type)) return sj::JsonError(e);
  is_string = type == od::json_type::string;
  return sj::Str(v, at, key, out);
}

absl::Status OwnerReferences(od::value& v, const At& at, std::string_view key,
                             std::vector<OwnerReference>& out) {
  return sj::Each(v, at, key, [&](od::object r, const At& a) {
    OwnerReference& o = out.emplace_back();
    return sj::Fields(r, kOwnerKeys, [&](int rank, std::string_view k, od::value& f) {
      switch (rank) {
        case 0:
          return sj::Str(f, a, k, o.api_version);
        case 1:
          return sj::Str(f, a, k, o.kind);
        case 2:
          return sj::Str(f, a, k, o.name);
        case 3:
          return sj::Str(f, a, k, o.uid);
        case 4:
          return sj::Bool(f, a, k, o.controller);
        default:
          return sj::Bool(f, a, k, o.block_owner_deletion);
      }
    });
  });
}

absl::Status MetaField(int rank, std::string_view key, od::value& v, const At& at, ObjectMeta& out,
                       Who& who) {
  bool present;
  absl::Time deletion;
  switch (rank) {
    case 0:
      return Named(v, at, key, out.name, who.name);
    case 1:
      return Named(v, at, key, out.namespace_, who.ns);
    case 2:
      return sj::Str(v, at, key, out.uid);
    case 3:
      return sj::Str(v, at, key, out.resource_version);
    case 4:
      return sj::Int(v, at, key, out.generation);
    case 5:
      return sj::Map(v, at, key, out.labels);
    case 6:
      return sj::Map(v, at, key, out.annotations);
    case 7:
      return sj::StrList(v, at, key, out.finalizers);
    case 8:
      return sj::Time(v, at, key, out.creation_timestamp, present);
    case 9:
      LK_RETURN_IF_ERROR(sj::Time(v, at, key, deletion, present));
      if (present) out.deletion_timestamp = deletion;
      return absl::OkStatus();
    default:
      return OwnerReferences(v, at, key, out.owner_references);
  }
}

absl::Status Containers(od::value& v, const At& at, std::string_view key,
                        std::vector<Container>& out) {
  return sj::Each(v, at, key, [&](od::object c, const At& a) {
    Container& o = out.emplace_back();
    return sj::Fields(c, kContainerKeys, [&](int rank, std::string_view k, od::value& f) {
      if (rank == 0) return sj::Str(f, a, k, o.name);
      if (rank == 1) return sj::Str(f, a, k, o.image);
      return sj::Object(f, a, k, kResourcesKeys,
                        [&](int r, std::string_view rk, od::value& q, const At& res) {
                          return sj::Map(q, res, rk, r == 0 ? o.requests : o.limits,
                                         /*numbers_ok=*/true);
                        });
    });
  });
}

absl::Status Tolerations(od::value& v, const At& at, std::string_view key,
                         std::vector<Toleration>& out) {
  return sj::Each(v, at, key, [&](od::object t, const At& a) {
    Toleration& o = out.emplace_back();
    return sj::Fields(t, kTolerationKeys, [&](int rank, std::string_view k, od::value& f) {
      switch (rank) {
        case 0:
          return sj::Str(f, a, k, o.key);
        case 1:
          return sj::Str(f, a, k, o.operator_);
        case 2:
          return sj::Str(f, a, k, o.value);
        case 3:
          return sj::Str(f, a, k, o.effect);
        default:
          return sj::Int(f, a, k, o.toleration_seconds);
      }
    });
  });
}

absl::Status SpecField(int rank, std::string_view key, od::value& v, const At& at, Pod& out) {
  std::optional<int64_t> priority;
  switch (rank) {
    case 0:
      return sj::Str(v, at, key, out.node_name);
    case 1:
      return sj::Str(v, at, key, out.scheduler_name);
    case 2:
      return sj::Str(v, at, key, out.priority_class_name);
    case 3:
      LK_RETURN_IF_ERROR(sj::Int(v, at, key, priority));
      if (priority.has_value()) out.priority = static_cast<int32_t>(*priority);
      return absl::OkStatus();
    case 4:
      return Containers(v, at, key, out.containers);
    case 5:
      return Containers(v, at, key, out.init_containers);
    case 6:
      return sj::Map(v, at, key, out.node_selector);
    case 7:
      return sj::NonEmptyObject(v, at, key, out.has_affinity);
    default:
      return Tolerations(v, at, key, out.tolerations);
  }
}

absl::Status Conditions(od::value& v, const At& at, std::string_view key,
                        std::vector<Condition>& out) {
  return sj::Each(v, at, key, [&](od::object c, const At& a) {
    Condition& o = out.emplace_back();
    return sj::Fields(c, kConditionKeys, [&](int rank, std::string_view k, od::value& f) {
      switch (rank) {
        case 0:
          return sj::Str(f, a, k, o.type);
        case 1:
          return sj::Str(f, a, k, o.status);
        case 2:
          return sj::Str(f, a, k, o.reason);
        default:
          return sj::Str(f, a, k, o.message);
      }
    });
  });
}

absl::Status StatusField(int rank, std::string_view key, od::value& v, const At& at, Pod& out) {
  switch (rank) {
    case 0:
      return sj::Str(v, at, key, out.phase);
    case 1:
      return sj::Str(v, at, key, out.pod_ip);
    case 2:
      return sj::Str(v, at, key, out.reason);
    case 3:
      return sj::Str(v, at, key, out.message);
    default:
      return Conditions(v, at, key, out.conditions);
  }
}

// "Pod ns/name: " before a type error, as types.cc (which names them as C strings).
absl::Status Prefixed(const absl::Status& s, const Who& who, const ObjectMeta& meta) {
  std::string name;
  if (who.ns) name = absl::StrCat(meta.namespace_.c_str(), "/");
  if (who.name) absl::StrAppend(&name, meta.name.c_str());
  return absl::Status(s.code(),
                      absl::StrCat("Pod", name.empty() ? "" : " ", name, ": ", s.message()));
}

absl::Status PodField(int rank, std::string_view key, od::value& v, Pod& out, Who& who) {
  switch (rank) {
    case 0:
      return sj::Object(v, kRoot, key, kMetaKeys,
                        [&](int r, std::string_view k, od::value& f, const At& at) {
                          return MetaField(r, k, f, at, out.metadata, who);
                        });
    case 1:
      return sj::Object(v, kRoot, key, kSpecKeys,
                        [&](int r, std::string_view k, od::value& f, const At& at) {
                          return SpecField(r, k, f, at, out);
                        });
    default:
      return sj::Object(v, kRoot, key, kStatusKeys,
                        [&](int r, std::string_view k, od::value& f, const At& at) {
                          return StatusField(r, k, f, at, out);
                        });
  }
}

absl::Status DecodePod(od::value& item, Pod& out) {
  od::json_type type;
  if (simdjson::error_code e = item.type().get(type)) return sj::JsonError(e);
  if (type != od::json_type::object) {
    LK_RETURN_IF_ERROR(sj::CheckScalar(item, type));
    return absl::InvalidArgumentError("Pod: not an object");
  }
  od::object object;
  if (simdjson::error_code e = item.get_object().get(object)) return sj::JsonError(e);
  Who who;
  absl::Status s = sj::Fields(object, kPodKeys, [&](int rank, std::string_view key, od::value& v) {
    return PodField(rank, key, v, out, who);
  });
  if (s.ok() || sj::IsJsonError(s)) return s;
  return Prefixed(s, who, out.metadata);
}

absl::Status Items(od::value& v, std::string_view key, std::vector<Pod>& out) {
  bool present;
  LK_RETURN_IF_ERROR(sj::Expect(v, od::json_type::array, kRoot, key, "a list", present));
  if (!present) return absl::OkStatus();
  od::array array;
  if (simdjson::error_code e = v.get_array().get(array)) return sj::JsonError(e);
  size_t i = 0;
  for (auto result : array) {
    od::value item;
    if (simdjson::error_code e = std::move(result).get(item)) return sj::JsonError(e);
    absl::Status s = DecodePod(item, out.emplace_back());
    if (sj::IsJsonError(s)) return s;
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("items[", i, "]: ", s.message()));
    ++i;
  }
  return absl::OkStatus();
}

absl::Status DecodeList(od::document& doc, PodList& out) {
  od::json_type type;
  if (simdjson::error_code e = doc.type().get(type)) return sj::JsonError(e);
  if (type != od::json_type::object) return absl::InvalidArgumentError("PodList: not an object");
  od::object object;
  if (simdjson::error_code e = doc.get_object().get(object)) return sj::JsonError(e);
  return sj::Fields(object, kListKeys, [&](int rank, std::string_view key, od::value& v) {
    if (rank == 0) return Items(v, key, out.items);
    return sj::Object(
        v, kRoot, key, kListMetaKeys, [&](int r, std::string_view k, od::value& f, const At& at) {
          return sj::Str(f, at, k, r == 0 ? out.resource_version : out.continue_token);
        });
  });
}

// Nothing but whitespace may follow the list.
absl::Status CheckEnd(od::document& doc) {
  const char* rest;
  simdjson::error_code e = doc.current_location().get(rest);
  if (e == simdjson::OUT_OF_BOUNDS) return absl::OkStatus();
  return sj::JsonError(e ? e : simdjson::TRAILING_CONTENT);
}

// kInvalidArgument for malformed JSON, naming where the decoder stopped when it knows.
absl::Status InvalidJson(std::string_view json, std::string_view reason, const char* at) {
  if (at == nullptr || at < json.data() || at > json.data() + json.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON (", json.size(), " bytes): ", ToAbsl(reason)));
  }
  size_t offset = at - json.data();
  std::string_view near = json.substr(offset, 20);
  return absl::InvalidArgumentError(
      absl::StrCat("invalid JSON at offset ", offset, " of ", json.size(), ": ", ToAbsl(reason),
                   near.empty() ? std::string() : absl::StrCat(" (near \"", ToAbsl(near), "\")")));
}

}  // namespace

absl::StatusOr<PodList> PodListDecoder::Decode(std::string_view json, size_t capacity) {
  simdjson::padded_string_view padded = Padded(json, capacity);
  od::document doc;
  if (simdjson::error_code e = parser_.iterate(padded).get(doc)) {
    return InvalidJson(json, simdjson::error_message(e), nullptr);
  }
  PodList list;
  list.items.reserve(expected_items_);
  absl::Status s = DecodeList(doc, list);
  if (s.ok()) s = CheckEnd(doc);
  if (sj::IsJsonError(s)) {
    const char* at = nullptr;
    if (doc.current_location().get(at) != simdjson::SUCCESS) at = nullptr;
    // Offsets are in the padded copy when there is one.
    if (at != nullptr) at = json.data() + (at - padded.data());
    return InvalidJson(json, ToStd(s.message()), at);
  }
  if (!s.ok()) return s;
  expected_items_ = list.items.size();
  // Reserved for a longer list than this one: give the room back.
  if (list.items.capacity() > 2 * list.items.size() + 64) list.items.shrink_to_fit();
  return list;
}

simdjson::padded_string_view PodListDecoder::Padded(std::string_view json, size_t capacity) {
  if (capacity >= json.size() + simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(json.data(), json.size(), capacity);
  }
  buffer_.assign(json.data(), json.size());
  buffer_.append(simdjson::SIMDJSON_PADDING, ' ');
  return simdjson::padded_string_view(buffer_.data(), json.size(), buffer_.size());
}

absl::StatusOr<PodList> DecodePodList(std::string_view json) {
  PodListDecoder decoder;
  return decoder.Decode(json);
}

}  // namespace labkube::kube
