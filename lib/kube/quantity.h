// Kubernetes resource quantities ("8", "8000m", "1.5", "32Gi", "100M", "1e3") as integers.
// Pure functions; thread-safe.
#ifndef LABKUBE_LIB_KUBE_QUANTITY_H_
#define LABKUBE_LIB_KUBE_QUANTITY_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"

namespace labkube::kube {

// The quantity in thousandths (CPU millicores), rounded up. kInvalidArgument names the text.
absl::StatusOr<int64_t> ParseQuantityMilli(std::string_view text);
// The quantity in whole units (bytes, GPUs), rounded up.
absl::StatusOr<int64_t> ParseQuantity(std::string_view text);

// The same for a JSON value that is a string or a number (int-or-string fields).
absl::StatusOr<int64_t> QuantityMilli(const rapidjson::Value& v);
absl::StatusOr<int64_t> QuantityValue(const rapidjson::Value& v);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_QUANTITY_H_
