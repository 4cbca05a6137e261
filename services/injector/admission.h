// The admission.k8s.io/v1 AdmissionReview wire format, translated to and from plain values:
// ParseAdmissionReview reads what the API server POSTs (checking the envelope and, for pods,
// that request.object is shaped like a Pod where the injector will read or patch it), and
// AdmissionReviewResponse writes the answer (allowed, or a denial with an HTTP-style status
// code and message; a JSON Patch goes base64-encoded in response.patch).
//
// No decisions here (mutator.h decides). Pure functions; safe from any thread.
#ifndef LABKUBE_SERVICES_INJECTOR_ADMISSION_H_
#define LABKUBE_SERVICES_INJECTOR_ADMISSION_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"

namespace labkube::injector {

inline constexpr char kAdmissionApiVersion[] = "admission.k8s.io/v1";
inline constexpr char kAdmissionKind[] = "AdmissionReview";

struct GroupVersionKind {
  std::string group = "";  // "" for the core group
  std::string version = "";
  std::string kind = "";
};

struct AdmissionRequest {
  std::string uid = "";
  GroupVersionKind kind;          // request.kind
  std::string resource = "";      // request.resource.resource, e.g. "pods"
  std::string sub_resource = "";  // request.subResource, e.g. "status"; "" for the object itself
  std::string operation = "";     // CREATE | UPDATE | DELETE | CONNECT
  std::string ns = "";            // request.namespace
  std::string name = "";          // request.name ("" on CREATE with generateName)
  bool dry_run = false;
  rapidjson::Document object;  // request.object; null when absent (DELETE)

  // A core/v1 Pod itself (not a subresource) with an object.
  bool IsPod() const;
};

// What reading a request body gives: the request uid whenever it could be read (a rejected
// review is still answered with it), and the request or kInvalidArgument saying what is wrong.
struct ParsedReview {
  std::string uid = "";
  absl::StatusOr<AdmissionRequest> request;
};

ParsedReview ParseAdmissionReview(std::string_view body);

// Checks that `pod` is shaped like a Pod where the injector reads it: an object whose kind (if
// set) is Pod, with object metadata / labels / annotations (string values), and spec.containers
// a non-empty array of objects with string names. kInvalidArgument names the offending field.
absl::Status CheckPodShape(const rapidjson::Value& pod);

struct AdmissionResult {
  bool allowed = true;
  int code = 200;  // HTTP-style status of a denial (>= 400); status.reason follows from it
  std::string message = "";  // shown to the user by kubectl after "admission webhook ... denied"
  std::string patch = "";    // a JSON Patch (RFC 6902) array as JSON text; "" = no change
  // response.warnings: shown by kubectl as "Warning: ..." (for example, that the pod waits in
  // line for a slot).
  std::vector<std::string> warnings = {};
};

// The AdmissionReview (admission.k8s.io/v1) answering `uid` with `result`, as JSON text.
std::string AdmissionReviewResponse(std::string_view uid, const AdmissionResult& result);

// metav1.StatusReason for an HTTP status code ("NotFound", "TooManyRequests", ...).
std::string_view StatusReasonFor(int code);

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_ADMISSION_H_
