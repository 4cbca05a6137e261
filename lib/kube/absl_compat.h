// Debian 12's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0: absl::string_view is its own
// type, and absl::StrCat / absl::Status do not accept std::string_view. These converters bridge
// the two without copying. Header only; no state.
#ifndef LABKUBE_LIB_KUBE_ABSL_COMPAT_H_
#define LABKUBE_LIB_KUBE_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace labkube {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace labkube

#endif  // LABKUBE_LIB_KUBE_ABSL_COMPAT_H_
