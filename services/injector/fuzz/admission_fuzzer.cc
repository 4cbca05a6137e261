// libFuzzer entry for the AdmissionReview -> decision -> JSON Patch path (no gRPC, no HTTP):
// any input must be answered without crashing, and these must hold:
//   - the answer is valid JSON echoing the uid that was read;
//   - a patch, when there is one, applies to the pod it was built for;
//   - deciding again on the patched pod (as on reinvocation) patches nothing more.
// Built and run outside Bazel by tools/fuzz_injector.sh (clang, -fsanitize=fuzzer,address).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/patch.h"
#include "services/injector/admission.h"
#include "services/injector/mutator.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;

// The node label and taint key of machine type `type` (labkube.io/<type>).
std::string TypeKey(absl::string_view type) { return absl::StrCat(contract::kPrefix, type); }

// Grants every claim the same GPU slot.
class FixedClaimer final : public Claimer {
 public:
  absl::Status Release(const std::string&, const std::string&, absl::Time) override {
    return absl::OkStatus();
  }
  absl::StatusOr<ClaimResponse> Claim(const ClaimRequest& request, absl::Time) override {
    ClaimResponse c;
    c.claim_id = request.dry_run ? contract::kDryRunClaim : "c-fuzz";
    c.node = "gpu-1";
    c.requests = {{"cpu", "8"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "1"}};
    c.limits = c.requests;
    c.node_affinity = {{TypeKey("a100"), "In", {"lab"}},
                       {"kubernetes.io/hostname", "In", {"gpu-1"}},
                       {"example.com/ssd", "Exists", {}}};
    c.tolerations = {{TypeKey("a100"), "Equal", "lab", "NoSchedule"},
                     {"example.com/gpu", "Exists", "", ""}};
    c.annotations = {{contract::kClaimAnnotation, c.claim_id},
                     {contract::kNodeAnnotation, "gpu-1"},
                     {"a/b~c", "escaped"}};
    return c;
  }
};

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "invariant violated: %s\ninput: %.*s\n", what.c_str(),
               static_cast<int>(input.size() > 4096 ? 4096 : input.size()), input.data());
  std::abort();
}

void CheckReinvocation(const AdmissionRequest& request, const Decision& first,
                       const Mutator& mutator, std::string_view input) {
  auto patch = json::Parse(first.result.patch);
  if (!patch.ok() || !patch->IsArray()) Fail("the patch is not a JSON array", input);
  AdmissionRequest again;
  again.uid = "reinvocation";
  again.kind = request.kind;
  again.resource = request.resource;
  again.operation = request.operation;
  again.ns = request.ns;
  again.name = request.name;
  again.dry_run = request.dry_run;
  again.object.CopyFrom(request.object, again.object.GetAllocator());
  absl::Status applied = kube::testing::ApplyJsonPatch(again.object, *patch);
  if (!applied.ok()) Fail("the patch does not apply: " + std::string(applied.message()), input);
  Decision second = mutator.Decide(again, absl::InfiniteFuture());
  if (!second.result.allowed || !second.result.patch.empty()) {
    Fail("the patched pod was patched again: " + second.result.message + second.result.patch,
         input);
  }
}

}  // namespace
}  // namespace labkube::injector

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace labkube::injector;  // NOLINT
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static FixedClaimer* claimer = new FixedClaimer();
  static Mutator* mutator = new Mutator(*claimer);
  ParsedReview parsed = ParseAdmissionReview(input);
  AdmissionResult result{.allowed = false, .code = 400, .message = "bad", .patch = ""};
  if (parsed.request.ok()) {
    Decision d = mutator->Decide(*parsed.request, absl::InfiniteFuture());
    if (!d.result.patch.empty()) CheckReinvocation(*parsed.request, d, *mutator, input);
    result = d.result;
  }
  std::string out = AdmissionReviewResponse(parsed.uid, result);
  auto doc = labkube::kube::json::Parse(out);
  if (!doc.ok()) labkube::injector::Fail("the response is not JSON", input);
  return 0;
}
