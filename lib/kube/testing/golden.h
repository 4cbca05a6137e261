// Golden comparison of JSON objects for tests: whether a document equals the expected JSON text
// (members in any order), printing both when not.
// Test-only; pure function.
#ifndef LABKUBE_LIB_KUBE_TESTING_GOLDEN_H_
#define LABKUBE_LIB_KUBE_TESTING_GOLDEN_H_

#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace labkube::kube::testing {

::testing::AssertionResult MatchesGolden(const char* golden, const rapidjson::Value& got);

}  // namespace labkube::kube::testing

#endif  // LABKUBE_LIB_KUBE_TESTING_GOLDEN_H_
