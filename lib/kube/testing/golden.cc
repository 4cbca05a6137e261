#include "lib/kube/testing/golden.h"

#include "lib/kube/json.h"

namespace labkube::kube::testing {

::testing::AssertionResult MatchesGolden(const char* golden, const rapidjson::Value& got) {
  absl::StatusOr<rapidjson::Document> want = json::Parse(golden);
  if (!want.ok()) return ::testing::AssertionFailure() << want.status();
  if (*want == got) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want " << json::ToString(*want) << "\n got "
                                       << json::ToString(got);
}

}  // namespace labkube::kube::testing
