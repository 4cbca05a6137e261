// JSON patch algorithms for FakeClient: JSON Merge Patch (RFC 7386) and JSON Patch (RFC 6902,
// ops add/remove/replace/test/move/copy with JSON Pointer paths).
//
// Free functions, no state; each call works on the caller's document only.
#ifndef LABKUBE_LIB_KUBE_TESTING_PATCH_H_
#define LABKUBE_LIB_KUBE_TESTING_PATCH_H_

#include "absl/status/status.h"
#include "rapidjson/document.h"

namespace labkube::kube::testing {

// Applies merge patch `patch` to `target` (RFC 7386: objects merge recursively, null removes a
// member, anything else replaces). Allocates from `target`'s allocator.
void ApplyMergePatch(rapidjson::Document& target, const rapidjson::Value& patch);

// Applies the JSON Patch operations array `patch` to `target`, all or nothing (on error
// `target` is unchanged). Errors: kInvalidArgument for malformed operations, missing paths and
// failed `test` operations.
absl::Status ApplyJsonPatch(rapidjson::Document& target, const rapidjson::Value& patch);

}  // namespace labkube::kube::testing

#endif  // LABKUBE_LIB_KUBE_TESTING_PATCH_H_
