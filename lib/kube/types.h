// Typed views of the Kubernetes objects labkube reads (ObjectMeta, Pod, Node), decoded straight
// from RapidJSON, plus Decode<T>/DecodeList<T>.
//
// Decoding tolerates missing fields (they stay empty/zero) and rejects fields of the wrong JSON
// type with kInvalidArgument naming the object and the field path, e.g.
//   Pod team-a/web-1: spec.containers[1].resources.requests.cpu: must be a string
// Quantities stay strings here (as the API sends them); parse them with quantity.h.
// All strings are copies: a decoded value does not refer to the document. Plain values;
// decoding is a pure function and thread-safe.
#ifndef LABKUBE_LIB_KUBE_TYPES_H_
#define LABKUBE_LIB_KUBE_TYPES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "rapidjson/document.h"

namespace labkube::kube {

using StringMap = std::map<std::string, std::string>;

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool block_owner_deletion = false;
};

struct ObjectMeta {
  std::string name;
  std::string generate_name;  // metadata.generateName: a prefix the API server completes
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  StringMap labels;
  StringMap annotations;
  std::vector<OwnerReference> owner_references;
  std::vector<std::string> finalizers;
  absl::Time creation_timestamp = absl::InfinitePast();  // InfinitePast when absent
  std::optional<absl::Time> deletion_timestamp;          // set while being deleted

  bool being_deleted() const { return deletion_timestamp.has_value(); }
};

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
};

struct Container {
  std::string name;
  std::string image;
  StringMap requests;  // resources.requests: "cpu" -> "500m", "nvidia.com/gpu" -> "1"
  StringMap limits;
};

struct Toleration {
  std::string key;
  std::string operator_;  // "Exists" or "Equal" ("" means Equal)
  std::string value;
  std::string effect;  // "" matches every effect
  std::optional<int64_t> toleration_seconds;
};

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
};

struct Pod {
  ObjectMeta metadata;
  // spec
  std::string node_name;
  std::string scheduler_name;
  std::string priority_class_name;
  std::optional<int32_t> priority;
  std::vector<Container> containers;
  std::vector<Container> init_containers;
  StringMap node_selector;
  std::vector<Toleration> tolerations;
  bool has_affinity = false;  // spec.affinity present and not empty
  // status
  std::string phase;
  std::string pod_ip;
  std::string reason;
  std::string message;
  std::vector<Condition> conditions;
};

struct Node {
  ObjectMeta metadata;
  bool unschedulable = false;
  std::vector<Taint> taints;
  StringMap capacity;
  StringMap allocatable;
  std::vector<Condition> conditions;
  bool ready = false;  // condition Ready is "True"
};

// Decodes one object. Specialised for ObjectMeta (from an object's "metadata" or from the
// metadata value itself when it has no "metadata" member), Pod and Node.
template <typename T>
absl::StatusOr<T> Decode(const rapidjson::Value& object);
template <>
absl::StatusOr<ObjectMeta> Decode<ObjectMeta>(const rapidjson::Value& object);
template <>
absl::StatusOr<Pod> Decode<Pod>(const rapidjson::Value& object);
template <>
absl::StatusOr<Node> Decode<Node>(const rapidjson::Value& object);

// Decodes every item of a list; the first bad item fails the whole list (its error names the
// item's index).
template <typename T>
absl::StatusOr<std::vector<T>> DecodeList(const ObjectList& list) {
  const rapidjson::Value& items = list.items();
  std::vector<T> out;
  out.reserve(items.Size());
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    absl::StatusOr<T> item = Decode<T>(items[i]);
    if (!item.ok()) {
      return absl::Status(item.status().code(), "items[" + std::to_string(i) +
                                                    "]: " + std::string(item.status().message()));
    }
    out.push_back(std::move(*item));
  }
  return out;
}

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_TYPES_H_
