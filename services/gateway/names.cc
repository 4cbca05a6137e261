#include "services/gateway/names.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/quantity.h"
#include "lib/names.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::gateway {
namespace {

constexpr int64_t kMinSize = int64_t{1} << 20;  // 1Mi
constexpr int64_t kMaxSize = int64_t{1} << 50;  // 1Pi

}  // namespace

absl::StatusOr<int64_t> ParseSize(std::string_view field, std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " is required (e.g. 10Gi)"));
  }
  if (absl::Status s = names::CheckLength(field, text, 32); !s.ok()) return s;
  absl::StatusOr<int64_t> bytes = kube::ParseQuantity(text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), ": \"", ToAbsl(text),
                                                   "\" is not a size (use e.g. 500Mi, 10Gi, 1Ti)"));
  }
  if (*bytes < kMinSize || *bytes > kMaxSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(field), ": \"", ToAbsl(text), "\" is out of range (1Mi to 1Pi)"));
  }
  return *bytes;
}

std::string ExpandPattern(std::string_view pattern, std::string_view member,
                          std::string_view workspace, std::string_view ns) {
  return absl::StrReplaceAll(ToAbsl(pattern), {{"{member}", ToAbsl(member)},
                                               {"{workspace}", ToAbsl(workspace)},
                                               {"{namespace}", ToAbsl(ns)}});
}

std::string Selector(const std::map<std::string, std::string>& labels) {
  return absl::StrJoin(labels, ",", absl::PairFormatter("="));
}

std::optional<absl::Time> ParseTime(std::string_view text) {
  absl::Time t;
  std::string error;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, ToAbsl(text), &t, &error)) {
    return std::nullopt;
  }
  return t;
}

std::string JsonQuote(std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::Status KubeError(const absl::Status& status, std::string_view what, std::string_view ns) {
  if (status.ok()) return status;
  if (absl::IsPermissionDenied(status)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the gateway may not ", ToAbsl(what), " in namespace ", ToAbsl(ns),
        " (is its RoleBinding labkube-gateway there? ask an admin): ", status.message()));
  }
  if (absl::IsAborted(status)) {
    return absl::AbortedError(
        absl::StrCat("concurrent change while trying to ", ToAbsl(what), "; retry"));
  }
  return absl::Status(status.code(), absl::StrCat("cannot ", ToAbsl(what), ": ", status.message()));
}

}  // namespace labkube::gateway
