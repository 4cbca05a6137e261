// Compact copies of Kubernetes objects for the caches that hold thousands of them (informers):
// only the fields the cache's readers use (a FieldMask), never metadata.managedFields (the
// largest part of most objects, read by nothing labkube runs), in one allocation sized exactly
// to the copy (a rapidjson Document otherwise reserves a 64 KiB chunk per object).
//
//   FieldMask pods;
//   pods.Keep({"spec", "nodeName"}).Keep({"spec", "containers", "resources"});
//   ObjectPtr copy = CompactCopy(pod, pods);
//
// A path names members from the root; on the way, an array applies the rest of the path to
// each of its elements ({"spec", "containers", "resources"} keeps every container's
// resources). apiVersion, kind and metadata are always kept. An empty mask keeps everything.
// Values of a type the path does not expect (a string where an object was expected) are kept
// whole, so a reader sees what the API server sent and reports it as it would without a mask.
//
// Thread-safe: a FieldMask is immutable after setup; copies are independent of the source.
#ifndef LABKUBE_LIB_KUBE_COMPACT_OBJECT_H_
#define LABKUBE_LIB_KUBE_COMPACT_OBJECT_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "lib/kube/json.h"
#include "rapidjson/document.h"

namespace labkube::kube {

// One object as delivered by a reflector: immutable and shareable between threads.
using ObjectPtr = std::shared_ptr<const rapidjson::Document>;

class FieldMask {
 public:
  // Keeps `path` and everything under it. Returns *this for chaining.
  FieldMask& Keep(json::Path path);
  bool KeepsEverything() const { return root_.children.empty(); }

  // A node of the mask: the members kept under one path; none = the whole value.
  struct Node {
    std::map<std::string, Node, std::less<>> children;
  };
  const Node& root() const { return root_; }

 private:
  Node root_;
};

// A copy of `object` (an object) reduced to `mask`, in an allocation of its own exactly as large
// as the copy needs. `kind` and `api_version`, when not empty, are set if the object lacks them
// (list items carry neither).
ObjectPtr CompactCopy(const rapidjson::Value& object, const FieldMask& mask,
                      std::string_view kind = "", std::string_view api_version = "");

// Bytes CompactCopy allocates for its copy (for tests and benchmarks).
size_t CompactSize(const rapidjson::Value& object, const FieldMask& mask);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_COMPACT_OBJECT_H_
