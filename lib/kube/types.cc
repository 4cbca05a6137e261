#include "lib/kube/types.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "lib/status_macros.h"

namespace labkube::kube {
namespace {

using V = rapidjson::Value;

// A field path built only when an error needs it: {parent, key} or {parent, index}.
struct At {
  const At* parent;
  const char* key;
  int index = -1;

  std::string str() const {
    std::string head = parent == nullptr ? "" : parent->str();
    if (index >= 0) return absl::StrCat(head, "[", index, "]");
    return head.empty() ? std::string(key) : absl::StrCat(head, ".", key);
  }
};

absl::Status Bad(const At& at, const char* key, const char* want) {
  At field{&at, key};
  return absl::InvalidArgumentError(absl::StrCat(field.str(), ": must be ", want));
}

const V* Member(const V& obj, const char* key) {
  auto it = obj.FindMember(rapidjson::StringRef(key, std::strlen(key)));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

absl::Status Str(const V& obj, const char* key, const At& at, std::string& out) {
  const V* v = Member(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString()) return Bad(at, key, "a string");
  out.assign(v->GetString(), v->GetStringLength());
  return absl::OkStatus();
}

absl::Status Int(const V& obj, const char* key, const At& at, int64_t& out) {
  const V* v = Member(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsInt64()) return Bad(at, key, "an integer");
  out = v->GetInt64();
  return absl::OkStatus();
}

absl::Status Bool(const V& obj, const char* key, const At& at, bool& out) {
  const V* v = Member(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsBool()) return Bad(at, key, "true or false");
  out = v->GetBool();
  return absl::OkStatus();
}

// Object member `key` (nullptr when absent); an error when it is not an object.
absl::Status Obj(const V& obj, const char* key, const At& at, const V*& out) {
  out = Member(obj, key);
  if (out != nullptr && !out->IsObject()) return Bad(at, key, "an object");
  return absl::OkStatus();
}

absl::Status Arr(const V& obj, const char* key, const At& at, const V*& out) {
  out = Member(obj, key);
  if (out != nullptr && !out->IsArray()) return Bad(at, key, "a list");
  return absl::OkStatus();
}

// An object of strings (labels, annotations, nodeSelector). `numbers_ok`: quantities may be
// JSON numbers.
absl::Status Map(const V& obj, const char* key, const At& at, StringMap& out,
                 bool numbers_ok = false) {
  const V* m;
  LK_RETURN_IF_ERROR(Obj(obj, key, at, m));
  if (m == nullptr) return absl::OkStatus();
  At here{&at, key};
  for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
    std::string k(it->name.GetString(), it->name.GetStringLength());
    const V& v = it->value;
    if (v.IsString()) {
      out.emplace_hint(out.end(), std::move(k), std::string(v.GetString(), v.GetStringLength()));
    } else if (numbers_ok && v.IsInt64()) {
      out.emplace_hint(out.end(), std::move(k), std::to_string(v.GetInt64()));
    } else if (numbers_ok && v.IsNumber()) {
      out.emplace_hint(out.end(), std::move(k), absl::StrCat(v.GetDouble()));
    } else {
      return Bad(here, it->name.GetString(), numbers_ok ? "a quantity" : "a string");
    }
  }
  return absl::OkStatus();
}

absl::Status StrList(const V& obj, const char* key, const At& at, std::vector<std::string>& out) {
  const V* a;
  LK_RETURN_IF_ERROR(Arr(obj, key, at, a));
  if (a == nullptr) return absl::OkStatus();
  out.reserve(a->Size());
  for (const V& v : a->GetArray()) {
    if (!v.IsString()) return Bad(at, key, "a list of strings");
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return absl::OkStatus();
}

// Each element of list `key` (must be objects) through `fn(element, at_element)`.
template <typename Fn>
absl::Status Each(const V& obj, const char* key, const At& at, Fn fn) {
  const V* a;
  LK_RETURN_IF_ERROR(Arr(obj, key, at, a));
  if (a == nullptr) return absl::OkStatus();
  At list{&at, key};
  for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
    At item{&list, nullptr, static_cast<int>(i)};
    if (!(*a)[i].IsObject()) {
      return absl::InvalidArgumentError(absl::StrCat(item.str(), ": must be an object"));
    }
    LK_RETURN_IF_ERROR(fn((*a)[i], item));
  }
  return absl::OkStatus();
}

int Digits(const char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

// RFC 3339; the common "2024-05-01T10:00:00Z" without a general parser.
absl::Status Time(const V& obj, const char* key, const At& at, absl::Time& out, bool& present) {
  const V* v = Member(obj, key);
  present = v != nullptr;
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString()) return Bad(at, key, "an RFC 3339 time");
  const char* s = v->GetString();
  if (v->GetStringLength() == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
      s[16] == ':' && s[19] == 'Z') {
    int y = Digits(s, 4), mo = Digits(s + 5, 2), d = Digits(s + 8, 2), h = Digits(s + 11, 2),
        mi = Digits(s + 14, 2), se = Digits(s + 17, 2);
    if (y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 &&
        mi < 60 && se >= 0 && se < 61) {
      out = absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, se), absl::UTCTimeZone());
      return absl::OkStatus();
    }
  }
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(s, v->GetStringLength()), &out, &err)) {
    return Bad(at, key, "an RFC 3339 time");
  }
  return absl::OkStatus();
}

absl::Status DecodeMeta(const V& m, const At& at, ObjectMeta& out) {
  LK_RETURN_IF_ERROR(Str(m, "name", at, out.name));
  LK_RETURN_IF_ERROR(Str(m, "generateName", at, out.generate_name));
  LK_RETURN_IF_ERROR(Str(m, "namespace", at, out.namespace_));
  LK_RETURN_IF_ERROR(Str(m, "uid", at, out.uid));
  LK_RETURN_IF_ERROR(Str(m, "resourceVersion", at, out.resource_version));
  LK_RETURN_IF_ERROR(Int(m, "generation", at, out.generation));
  LK_RETURN_IF_ERROR(Map(m, "labels", at, out.labels));
  LK_RETURN_IF_ERROR(Map(m, "annotations", at, out.annotations));
  LK_RETURN_IF_ERROR(StrList(m, "finalizers", at, out.finalizers));
  bool present;
  LK_RETURN_IF_ERROR(Time(m, "creationTimestamp", at, out.creation_timestamp, present));
  absl::Time deletion;
  LK_RETURN_IF_ERROR(Time(m, "deletionTimestamp", at, deletion, present));
  if (present) out.deletion_timestamp = deletion;
  return Each(m, "ownerReferences", at, [&](const V& r, const At& a) {
    OwnerReference& o = out.owner_references.emplace_back();
    LK_RETURN_IF_ERROR(Str(r, "apiVersion", a, o.api_version));
    LK_RETURN_IF_ERROR(Str(r, "kind", a, o.kind));
    LK_RETURN_IF_ERROR(Str(r, "name", a, o.name));
    LK_RETURN_IF_ERROR(Str(r, "uid", a, o.uid));
    LK_RETURN_IF_ERROR(Bool(r, "controller", a, o.controller));
    return Bool(r, "blockOwnerDeletion", a, o.block_owner_deletion);
  });
}

absl::Status DecodeObjectMeta(const V& object, ObjectMeta& out) {
  static const At kMeta{nullptr, "metadata"};
  const V* m;
  LK_RETURN_IF_ERROR(Obj(object, "metadata", At{nullptr, ""}, m));
  return m == nullptr ? absl::OkStatus() : DecodeMeta(*m, kMeta, out);
}

absl::Status DecodeConditions(const V& status, const At& at, std::vector<Condition>& out) {
  return Each(status, "conditions", at, [&](const V& c, const At& a) {
    Condition& o = out.emplace_back();
    LK_RETURN_IF_ERROR(Str(c, "type", a, o.type));
    LK_RETURN_IF_ERROR(Str(c, "status", a, o.status));
    LK_RETURN_IF_ERROR(Str(c, "reason", a, o.reason));
    return Str(c, "message", a, o.message);
  });
}

absl::Status DecodeContainers(const V& spec, const char* key, const At& at,
                              std::vector<Container>& out) {
  return Each(spec, key, at, [&](const V& c, const At& a) {
    Container& o = out.emplace_back();
    LK_RETURN_IF_ERROR(Str(c, "name", a, o.name));
    LK_RETURN_IF_ERROR(Str(c, "image", a, o.image));
    const V* res;
    LK_RETURN_IF_ERROR(Obj(c, "resources", a, res));
    if (res == nullptr) return absl::OkStatus();
    At r{&a, "resources"};
    LK_RETURN_IF_ERROR(Map(*res, "requests", r, o.requests, /*numbers_ok=*/true));
    return Map(*res, "limits", r, o.limits, /*numbers_ok=*/true);
  });
}

absl::Status DecodePodSpec(const V& spec, const At& at, Pod& out) {
  LK_RETURN_IF_ERROR(Str(spec, "nodeName", at, out.node_name));
  LK_RETURN_IF_ERROR(Str(spec, "schedulerName", at, out.scheduler_name));
  LK_RETURN_IF_ERROR(Str(spec, "priorityClassName", at, out.priority_class_name));
  if (Member(spec, "priority") != nullptr) {
    int64_t priority = 0;
    LK_RETURN_IF_ERROR(Int(spec, "priority", at, priority));
    out.priority = static_cast<int32_t>(priority);
  }
  LK_RETURN_IF_ERROR(DecodeContainers(spec, "containers", at, out.containers));
  LK_RETURN_IF_ERROR(DecodeContainers(spec, "initContainers", at, out.init_containers));
  LK_RETURN_IF_ERROR(Map(spec, "nodeSelector", at, out.node_selector));
  const V* affinity;
  LK_RETURN_IF_ERROR(Obj(spec, "affinity", at, affinity));
  out.has_affinity = affinity != nullptr && affinity->MemberCount() > 0;
  return Each(spec, "tolerations", at, [&](const V& t, const At& a) {
    Toleration& o = out.tolerations.emplace_back();
    LK_RETURN_IF_ERROR(Str(t, "key", a, o.key));
    LK_RETURN_IF_ERROR(Str(t, "operator", a, o.operator_));
    LK_RETURN_IF_ERROR(Str(t, "value", a, o.value));
    LK_RETURN_IF_ERROR(Str(t, "effect", a, o.effect));
    if (Member(t, "tolerationSeconds") != nullptr) {
      int64_t seconds = 0;
      LK_RETURN_IF_ERROR(Int(t, "tolerationSeconds", a, seconds));
      o.toleration_seconds = seconds;
    }
    return absl::OkStatus();
  });
}

absl::Status DecodePod(const V& object, Pod& out) {
  static const At kSpec{nullptr, "spec"};
  static const At kStatus{nullptr, "status"};
  LK_RETURN_IF_ERROR(DecodeObjectMeta(object, out.metadata));
  const V* spec;
  LK_RETURN_IF_ERROR(Obj(object, "spec", At{nullptr, ""}, spec));
  if (spec != nullptr) LK_RETURN_IF_ERROR(DecodePodSpec(*spec, kSpec, out));
  const V* status;
  LK_RETURN_IF_ERROR(Obj(object, "status", At{nullptr, ""}, status));
  if (status == nullptr) return absl::OkStatus();
  LK_RETURN_IF_ERROR(Str(*status, "phase", kStatus, out.phase));
  LK_RETURN_IF_ERROR(Str(*status, "podIP", kStatus, out.pod_ip));
  LK_RETURN_IF_ERROR(Str(*status, "reason", kStatus, out.reason));
  LK_RETURN_IF_ERROR(Str(*status, "message", kStatus, out.message));
  return DecodeConditions(*status, kStatus, out.conditions);
}

absl::Status DecodeNode(const V& object, Node& out) {
  static const At kSpec{nullptr, "spec"};
  static const At kStatus{nullptr, "status"};
  LK_RETURN_IF_ERROR(DecodeObjectMeta(object, out.metadata));
  const V* spec;
  LK_RETURN_IF_ERROR(Obj(object, "spec", At{nullptr, ""}, spec));
  if (spec != nullptr) {
    LK_RETURN_IF_ERROR(Bool(*spec, "unschedulable", kSpec, out.unschedulable));
    LK_RETURN_IF_ERROR(Each(*spec, "taints", kSpec, [&](const V& t, const At& a) {
      Taint& o = out.taints.emplace_back();
      LK_RETURN_IF_ERROR(Str(t, "key", a, o.key));
      LK_RETURN_IF_ERROR(Str(t, "value", a, o.value));
      return Str(t, "effect", a, o.effect);
    }));
  }
  const V* status;
  LK_RETURN_IF_ERROR(Obj(object, "status", At{nullptr, ""}, status));
  if (status == nullptr) return absl::OkStatus();
  LK_RETURN_IF_ERROR(Map(*status, "capacity", kStatus, out.capacity, /*numbers_ok=*/true));
  LK_RETURN_IF_ERROR(Map(*status, "allocatable", kStatus, out.allocatable, /*numbers_ok=*/true));
  LK_RETURN_IF_ERROR(DecodeConditions(*status, kStatus, out.conditions));
  for (const Condition& c : out.conditions) {
    if (c.type == "Ready") out.ready = c.status == "True";
  }
  return absl::OkStatus();
}

// "Pod ns/name: " before a decoding error.
absl::Status Prefixed(const absl::Status& s, const char* kind, const V& object) {
  std::string who;
  if (object.IsObject()) {
    auto m = object.FindMember("metadata");
    if (m != object.MemberEnd() && m->value.IsObject()) {
      auto ns = m->value.FindMember("namespace");
      auto name = m->value.FindMember("name");
      if (ns != m->value.MemberEnd() && ns->value.IsString()) {
        who = absl::StrCat(ns->value.GetString(), "/");
      }
      if (name != m->value.MemberEnd() && name->value.IsString()) {
        absl::StrAppend(&who, name->value.GetString());
      }
    }
  }
  return absl::Status(s.code(), absl::StrCat(kind, who.empty() ? "" : " ", who, ": ", s.message()));
}

template <typename T, typename Fn>
absl::StatusOr<T> DecodeAs(const V& object, const char* kind, Fn fn) {
  if (!object.IsObject()) return absl::InvalidArgumentError(absl::StrCat(kind, ": not an object"));
  T out;
  absl::Status s = fn(object, out);
  if (!s.ok()) return Prefixed(s, kind, object);
  return out;
}

}  // namespace

template <>
absl::StatusOr<ObjectMeta> Decode<ObjectMeta>(const rapidjson::Value& object) {
  return DecodeAs<ObjectMeta>(object, "object", [](const V& o, ObjectMeta& out) {
    if (o.HasMember("metadata")) return DecodeObjectMeta(o, out);
    return DecodeMeta(o, At{nullptr, "metadata"}, out);
  });
}

template <>
absl::StatusOr<Pod> Decode<Pod>(const rapidjson::Value& object) {
  return DecodeAs<Pod>(object, "Pod", DecodePod);
}

template <>
absl::StatusOr<Node> Decode<Node>(const rapidjson::Value& object) {
  return DecodeAs<Node>(object, "Node", DecodeNode);
}

}  // namespace labkube::kube
