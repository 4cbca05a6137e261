// Test data helpers for the injector's tests: reading files under services/injector/testdata
// (Bazel runs tests in the runfiles root, so paths are relative to the workspace), listing a
// directory so that new AdmissionReview captures dropped there are picked up by the generic
// tests, and parsing JSON. Test-only; stateless; safe from any thread.
#ifndef LABKUBE_SERVICES_INJECTOR_TESTING_TESTDATA_H_
#define LABKUBE_SERVICES_INJECTOR_TESTING_TESTDATA_H_

#include <string>
#include <vector>

#include "rapidjson/document.h"

namespace labkube::injector::testing {

inline constexpr char kTestdata[] = "services/injector/testdata";

// The contents of `path` (relative to the workspace root); fails the test if unreadable.
std::string ReadTestFile(const std::string& path);

// The regular files directly in `dir`, sorted by name (full relative paths).
std::vector<std::string> ListTestFiles(const std::string& dir);

// `text` as JSON; fails the test (and returns null) when it is not.
rapidjson::Document ParseJson(const std::string& text);

}  // namespace labkube::injector::testing

#endif  // LABKUBE_SERVICES_INJECTOR_TESTING_TESTDATA_H_
