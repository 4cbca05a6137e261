#include "services/gateway/availability.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/absl_compat.h"
#include "lib/names.h"

namespace labkube::gateway {

using names::CheckLength;

namespace {

std::string Key(const gw::MachineType& t) { return absl::StrCat(t.group(), "/", t.name()); }

}  // namespace

absl::StatusOr<gw::MachineType> ResolveMachineType(const std::vector<gw::MachineType>& types,
                                                   std::string_view spec) {
  if (spec.empty()) {
    return absl::InvalidArgumentError("machine_type is required (see `labctl machines`)");
  }
  if (absl::Status s = CheckLength("machine_type", spec, 127); !s.ok()) return s;
  std::string_view group;
  std::string_view name = spec;
  if (size_t slash = spec.find('/'); slash != std::string_view::npos) {
    group = spec.substr(0, slash);
    name = spec.substr(slash + 1);
  }
  std::vector<const gw::MachineType*> matches;
  std::vector<std::string> valid;
  for (const gw::MachineType& t : types) {
    valid.push_back(Key(t));
    if (t.name() == name && (group.empty() || t.group() == group)) matches.push_back(&t);
  }
  if (matches.size() == 1) return *matches[0];
  if (matches.size() > 1) {
    std::vector<std::string> keys;
    for (const gw::MachineType* t : matches) keys.push_back(Key(*t));
    return absl::InvalidArgumentError(
        absl::StrCat("machine_type: \"", ToAbsl(spec), "\" exists in several groups (",
                     absl::StrJoin(keys, ", "), "): name one as group/type"));
  }
  return absl::NotFoundError(absl::StrCat(
      "machine_type: unknown machine type \"", ToAbsl(spec), "\"; valid: ",
      valid.empty() ? "(none: no machine types are defined)" : absl::StrJoin(valid, ", ")));
}

std::vector<gw::MachineType> FilterGroup(const std::vector<gw::MachineType>& types,
                                         std::string_view group) {
  std::vector<gw::MachineType> out;
  for (const gw::MachineType& t : types) {
    if (group.empty() || t.group() == group) out.push_back(t);
  }
  return out;
}

}  // namespace labkube::gateway
