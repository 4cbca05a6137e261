// Label and field selectors as the Kubernetes API server understands them, for FakeClient.
//
// Labels: comma-separated requirements `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
// `k notin (a,b)`. Fields: `path=v`, `path==v`, `path!=v` where path is a dotted JSON path
// (metadata.name, metadata.namespace, spec.nodeName, status.phase, ...); a missing field
// compares as "". Unlike the real server, any field path is accepted.
//
// Values; immutable after Parse; safe to share between threads.
#ifndef LABKUBE_LIB_KUBE_TESTING_SELECTOR_H_
#define LABKUBE_LIB_KUBE_TESTING_SELECTOR_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"

namespace labkube::kube::testing {

class Selector {
 public:
  // Errors: kInvalidArgument for malformed selectors. An empty string selects everything.
  static absl::StatusOr<Selector> ParseLabels(std::string_view text);
  static absl::StatusOr<Selector> ParseFields(std::string_view text);

  // Whether the Kubernetes object `object` is selected.
  bool Matches(const rapidjson::Value& object) const;

 private:
  enum class Op { kEquals, kNotEquals, kExists, kNotExists, kIn, kNotIn };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  static absl::StatusOr<Requirement> ParseRequirement(std::string_view text, bool fields);
  bool MatchesOne(const Requirement& r, const rapidjson::Value& object) const;

  bool fields_ = false;
  std::vector<Requirement> requirements_;
};

}  // namespace labkube::kube::testing

#endif  // LABKUBE_LIB_KUBE_TESTING_SELECTOR_H_
