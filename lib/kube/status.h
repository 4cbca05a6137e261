// Maps API server responses to absl::Status, once for all of labkube (see client.h for the
// table). The error message names the request, the HTTP code, the Status reason and the API
// server's message, e.g.
//   PUT /api/v1/namespaces/a/configmaps/b: 409 Conflict: Operation cannot be fulfilled on ...
// Free functions, no state; thread-safe.
#ifndef LABKUBE_LIB_KUBE_STATUS_H_
#define LABKUBE_LIB_KUBE_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "rapidjson/document.h"

namespace labkube::kube {

// `body` is the response body (usually a metav1.Status; anything else is quoted, truncated).
// `verb_and_path` e.g. "PUT /api/v1/namespaces/a/configmaps/b". 2xx gives OK.
absl::Status ToStatus(long http_code, std::string_view body, std::string_view verb_and_path);

// A metav1.Status object (e.g. the object of a watch ERROR event) as absl::Status; its `code`
// (or, when absent, its reason) picks the status code. A Status with status "Success" gives OK.
absl::Status StatusFromObject(const rapidjson::Value& status, std::string_view context);

// The code table alone. `reason` is metav1.Status.reason ("" if unknown); `verb` the HTTP
// method, used to tell AlreadyExists from Conflict on a 409 without a reason.
absl::StatusCode CodeForHttp(long http_code, std::string_view reason, std::string_view verb);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_STATUS_H_
