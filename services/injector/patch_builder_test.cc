#include "services/injector/patch_builder.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/patch.h"
#include "services/injector/admission.h"
#include "services/injector/testing/fake_claimer.h"
#include "services/injector/testing/testdata.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using rapidjson::Value;
using testing::FakeClaimer;
using testing::kTestdata;
using testing::ParseJson;
using testing::ReadTestFile;

ClaimResponse Claim() {
  ClaimResponse c = FakeClaimer::GpuClaim();
  c.claim_id = "c-1";
  c.annotations["labkube.io/claim"] = "c-1";
  return c;
}

// request.object of a testdata review.
rapidjson::Document PodFrom(const std::string& name) {
  rapidjson::Document review =
      ParseJson(ReadTestFile(std::string(kTestdata) + "/admission/" + name));
  return json::Copy(*json::Find(review, {"request", "object"}));
}

rapidjson::Document Patch(const Value& pod, const ClaimResponse& claim = Claim()) {
  absl::StatusOr<rapidjson::Document> patch = BuildPatch(pod, claim, "a100");
  EXPECT_TRUE(patch.ok()) << patch.status();
  if (!patch.ok()) return rapidjson::Document(rapidjson::kArrayType);
  return std::move(patch).value();
}

// Applies `patch` to a copy of `pod` (failing the test if it does not apply).
rapidjson::Document Applied(const Value& pod, const Value& patch) {
  rapidjson::Document out = json::Copy(pod);
  absl::Status s = kube::testing::ApplyJsonPatch(out, patch);
  EXPECT_TRUE(s.ok()) << s << "\npatch: " << json::ToString(patch);
  return out;
}

std::string Error(const std::string& pod_json, const ClaimResponse& claim = Claim()) {
  absl::StatusOr<rapidjson::Document> patch = BuildPatch(ParseJson(pod_json), claim, "a100");
  EXPECT_FALSE(patch.ok()) << pod_json;
  return patch.ok() ? "" : std::string(patch.status().message());
}

TEST(EscapeJsonPointerTest, EscapesTildeThenSlash) {
  EXPECT_EQ(EscapeJsonPointer("labkube.io/claim"), "labkube.io~1claim");
  EXPECT_EQ(EscapeJsonPointer("a~/b"), "a~0~1b");
  EXPECT_EQ(EscapeJsonPointer("~1"), "~01");
  EXPECT_EQ(EscapeJsonPointer(""), "");
}

// A pod without any of the parents: each is added whole, in one operation.
TEST(BuildPatchTest, MinimalPodGetsWholeObjects) {
  rapidjson::Document patch = Patch(PodFrom("guest_minimal.json"));
  rapidjson::Document want = ParseJson(R"([
    {"op":"add","path":"/spec/containers/0/resources","value":{
      "requests":{"cpu":"8","memory":"32Gi","nvidia.com/gpu":"1"},
      "limits":{"cpu":"8","memory":"32Gi","nvidia.com/gpu":"1"}}},
    {"op":"add","path":"/spec/affinity","value":{"nodeAffinity":{
      "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[
        {"key":"labkube.io/a100","operator":"In","values":["lab"]},
        {"key":"labkube.io/node-pool","operator":"In","values":["ready"]},
        {"key":"nvidia.com/gpu.product","operator":"In","values":["NVIDIA-A100-SXM4-80GB"]},
        {"key":"kubernetes.io/hostname","operator":"In","values":["gpu-1"]}]}]}}}},
    {"op":"add","path":"/spec/tolerations","value":[
      {"key":"labkube.io/a100","operator":"Equal","value":"lab","effect":"NoSchedule"}]},
    {"op":"add","path":"/metadata/annotations","value":{
      "labkube.io/claim":"c-1","labkube.io/node":"gpu-1"}}])");
  EXPECT_EQ(json::ToString(patch), json::ToString(want));
}

// A Deployment's pod: target container by label, init container and sidecar untouched (the
// sidecar's 100m / 64Mi come out of the target's share, slot_share.h), the user's terms each get
// the requirements, preferred terms and tolerations kept.
TEST(BuildPatchTest, DeploymentPodKeepsWhatTheUserSet) {
  rapidjson::Document pod = PodFrom("guest_deployment_pod.json");
  rapidjson::Document patch = Patch(pod);
  std::string text = json::ToString(patch);
  EXPECT_NE(text.find(R"("path":"/spec/containers/1/resources/requests/cpu","value":"7900m")"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("path":"/spec/containers/1/resources/requests/nvidia.com~1gpu")"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("path":"/spec/containers/1/resources/limits","value":{)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("path":"/metadata/annotations/labkube.io~1claim","value":"c-1")"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("/spec/containers/0/"), std::string::npos) << text;
  EXPECT_EQ(text.find("initContainers"), std::string::npos) << text;

  rapidjson::Document out = Applied(pod, patch);
  const Value& trainer = out["spec"]["containers"][1];
  EXPECT_EQ(json::ToString(trainer["resources"]["limits"]),
            R"({"cpu":"7900m","memory":"32704Mi","nvidia.com/gpu":"1"})");
  EXPECT_EQ(json::GetString(trainer, {"resources", "requests", "ephemeral-storage"}), "10Gi");
  EXPECT_EQ(json::ToString(out["spec"]["containers"][0]),
            json::ToString(pod["spec"]["containers"][0]));
  EXPECT_EQ(json::ToString(out["spec"]["initContainers"]),
            json::ToString(pod["spec"]["initContainers"]));
  const Value& terms =
      *json::Find(out, {"spec", "affinity", "nodeAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
  ASSERT_EQ(terms.Size(), 2u);
  EXPECT_EQ(terms[0]["matchExpressions"].Size(), 5u);  // the user's 1 + 4
  EXPECT_EQ(terms[1]["matchExpressions"].Size(), 5u);
  EXPECT_EQ(terms[1]["matchFields"].Size(), 1u);
  EXPECT_EQ(json::ToString(*json::Find(out, {"spec", "affinity", "nodeAffinity",
                                             "preferredDuringSchedulingIgnoredDuringExecution"})),
            json::ToString(*json::Find(pod, {"spec", "affinity", "nodeAffinity",
                                             "preferredDuringSchedulingIgnoredDuringExecution"})));
  EXPECT_TRUE(json::Find(out, {"spec", "affinity", "podAntiAffinity"}) != nullptr);
  EXPECT_EQ(out["spec"]["tolerations"].Size(), 3u);
  EXPECT_EQ(json::GetString(out, {"metadata", "annotations", "example.com/owner"}), "vision");
  EXPECT_EQ(json::GetString(out, {"metadata", "annotations", "labkube.io/node"}), "gpu-1");
}

// Building again on the patched pod gives nothing: safe when the webhook is re-invoked.
TEST(BuildPatchTest, PatchedPodNeedsNoSecondPatch) {
  for (const char* name : {"guest_minimal.json", "guest_deployment_pod.json",
                           "guest_kubectl_run.json", "guest_dry_run.json"}) {
    rapidjson::Document pod = PodFrom(name);
    rapidjson::Document once = Applied(pod, Patch(pod));
    rapidjson::Document again = Patch(once);
    EXPECT_EQ(json::ToString(again), "[]") << name;
  }
}

TEST(BuildPatchTest, AddsMissingParentsAtEachLevel) {
  struct Case {
    const char* spec_extra;
    const char* path;
  } cases[] = {
      {R"("affinity":null)", R"("path":"/spec/affinity","value":{"nodeAffinity")"},
      {R"("affinity":{"podAffinity":{}})", R"("path":"/spec/affinity/nodeAffinity","value":{"req)"},
      {R"("affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[]}})",
       R"("path":"/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution","value":{"nodeSelectorTerms":[)"},
      {R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}})",
       R"("path":"/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms","value":[{)"},
      {R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[]}]}}})",
       R"("path":"/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions","value":[{)"},
      {R"("tolerations":[])", R"("path":"/spec/tolerations/-")"},
      {R"("containers":[{"name":"a","resources":{}}])",
       R"("path":"/spec/containers/0/resources/requests","value":{)"},
      {R"("containers":[{"name":"a","resources":{"limits":null}}])",
       R"("path":"/spec/containers/0/resources/limits","value":{)"},
  };
  for (const Case& c : cases) {
    std::string pod = std::string(R"({"metadata":{"annotations":{}},"spec":{)") + c.spec_extra;
    if (std::string(c.spec_extra).find("containers") == std::string::npos) {
      pod += R"(,"containers":[{"name":"a"}])";
    }
    pod += "}}";
    rapidjson::Document doc = ParseJson(pod);
    rapidjson::Document patch = Patch(doc);
    EXPECT_NE(json::ToString(patch).find(c.path), std::string::npos) << pod << "\n"
                                                                     << json::ToString(patch);
    rapidjson::Document out = Applied(doc, patch);
    EXPECT_EQ(json::ToString(Patch(out)), "[]") << pod;
  }
}

// Kubernetes keys cannot hold '~', but a JSON Pointer must still escape it (and '/').
TEST(BuildPatchTest, EscapesKeysInPaths) {
  ClaimResponse claim;
  claim.annotations = {{"a/b~c", "x"}};
  claim.requests = {{"example.com/f~pga", "1"}};
  rapidjson::Document pod = ParseJson(
      R"({"metadata":{"annotations":{}},"spec":{"containers":[{"name":"a","resources":{"requests":{}}}]}})");
  rapidjson::Document patch = Patch(pod, claim);
  std::string text = json::ToString(patch);
  EXPECT_NE(text.find(R"("path":"/metadata/annotations/a~1b~0c")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("path":"/spec/containers/0/resources/requests/example.com~1f~0pga")"),
            std::string::npos)
      << text;
  rapidjson::Document out = Applied(pod, patch);
  EXPECT_EQ(json::GetString(out, {"metadata", "annotations", "a/b~c"}), "x");
  EXPECT_EQ(json::ToString(Patch(out, claim)), "[]");
}

// A toleration without an operator means Equal, on either side.
TEST(BuildPatchTest, TolerationOperatorDefaultsToEqual) {
  ClaimResponse claim;
  claim.tolerations = {{"labkube.io/a100", "", "lab", "NoSchedule"}};
  rapidjson::Document pod = ParseJson(R"({"spec":{"containers":[{"name":"a"}],"tolerations":[
      {"key":"labkube.io/a100","operator":"Equal","value":"lab","effect":"NoSchedule"}]}})");
  EXPECT_EQ(json::ToString(Patch(pod, claim)), "[]");
}

TEST(BuildPatchTest, PodWithoutMetadataGetsIt) {
  rapidjson::Document pod = ParseJson(R"({"spec":{"containers":[{"name":"a"}]}})");
  rapidjson::Document patch = Patch(pod);
  EXPECT_NE(json::ToString(patch).find(R"("path":"/metadata","value":{"annotations":{)"),
            std::string::npos);
  Applied(pod, patch);
}

TEST(BuildPatchTest, AddsOnlyTheRequirementsATermLacks) {
  rapidjson::Document pod = ParseJson(R"({"spec":{"containers":[{"name":"a"}],"affinity":{
      "nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"labkube.io/a100","operator":"In","values":["lab"]},
                             {"key":"kubernetes.io/hostname","operator":"In","values":["gpu-2"]}]}]}}},
      "tolerations":[{"key":"labkube.io/a100","value":"lab","effect":"NoSchedule"},
                     {"key":"labkube.io/a100","operator":"Equal","value":"lab",
                      "effect":"NoSchedule","tolerationSeconds":60}]}})");
  std::string text = json::ToString(Patch(pod));
  // labkube.io/a100 is already there; hostname In [gpu-2] differs from In [gpu-1]: both stay.
  EXPECT_EQ(text.find(R"("key":"labkube.io/a100")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("key":"kubernetes.io/hostname","operator":"In","values":["gpu-1"])"),
            std::string::npos)
      << text;
  // The operator defaults to Equal, so the first toleration matches; the timed one does not
  // count, and nothing is added for tolerations.
  EXPECT_EQ(text.find("tolerations"), std::string::npos) << text;
}

TEST(BuildPatchTest, TargetContainerByLabel) {
  rapidjson::Document pod = ParseJson(R"({"metadata":{"labels":{
      "labkube.io/injecting-container":"b"}},"spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  EXPECT_EQ(TargetContainer(pod).value_or(99), 1u);
  rapidjson::Document first = ParseJson(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  EXPECT_EQ(TargetContainer(first).value_or(99), 0u);
  std::string message = Error(R"({"metadata":{"labels":{"labkube.io/injecting-container":"gpu"}},
      "spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  EXPECT_NE(message.find("names container \"gpu\""), std::string::npos) << message;
  EXPECT_NE(message.find("containers: a, b"), std::string::npos) << message;
}

TEST(BuildPatchTest, RefusesAContainerThatAsksForMore) {
  std::string cpu = Error(R"({"spec":{"containers":[{"name":"train","resources":{
      "limits":{"cpu":"16"}}}]}})");
  EXPECT_NE(
      cpu.find(
          R"(container "train" resources.limits["cpu"] is 16, more than machine type "a100" gives (8))"),
      std::string::npos)
      << cpu;
  std::string memory = Error(R"({"spec":{"containers":[{"name":"t","resources":{
      "requests":{"memory":"33Gi"}}}]}})");
  EXPECT_NE(memory.find(R"(resources.requests["memory"] is 33Gi)"), std::string::npos) << memory;
  std::string gpu = Error(R"({"spec":{"containers":[{"name":"t","resources":{
      "limits":{"nvidia.com/gpu":"2"}}}]}})");
  EXPECT_NE(gpu.find("nvidia.com/gpu"), std::string::npos) << gpu;
  std::string bad = Error(R"({"spec":{"containers":[{"name":"t","resources":{
      "limits":{"cpu":"lots"}}}]}})");
  EXPECT_NE(bad.find("is not a valid quantity (lots)"), std::string::npos) << bad;
  // The same amount in other units, or less, is fine (and set to the type's value).
  rapidjson::Document ok = ParseJson(R"({"spec":{"containers":[{"name":"t","resources":{
      "requests":{"cpu":"8000m","memory":"1Gi"},"limits":{"nvidia.com/gpu":1}}}]}})");
  rapidjson::Document out = Applied(ok, Patch(ok));
  EXPECT_EQ(json::GetString(out["spec"]["containers"][0], {"resources", "requests", "cpu"}), "8");
  EXPECT_EQ(
      json::GetString(out["spec"]["containers"][0], {"resources", "limits", "nvidia.com/gpu"}),
      "1");
}

TEST(BuildPatchTest, RefusesWrongTypesOnThePath) {
  std::string base = R"({"spec":{"containers":[{"name":"a"}],)";
  EXPECT_NE(Error(base + R"("tolerations":{}}})").find("/spec/tolerations is not an array"),
            std::string::npos);
  EXPECT_NE(Error(base + R"("affinity":[]}})").find("/spec/affinity is not an object"),
            std::string::npos);
  EXPECT_NE(
      Error(
          base +
          R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[1]}}}}})")
          .find("nodeSelectorTerms/0 is not an object"),
      std::string::npos);
  EXPECT_NE(Error(R"({"metadata":{"annotations":[]},"spec":{"containers":[{"name":"a"}]}})")
                .find("/metadata/annotations is not an object"),
            std::string::npos);
  EXPECT_NE(Error(R"({"spec":{"containers":[{"name":"a","resources":"big"}]}})")
                .find("/spec/containers/0/resources is not an object"),
            std::string::npos);
  EXPECT_NE(Error(R"({"spec":{}})").find("no containers"), std::string::npos);
}

TEST(BuildPatchTest, MalformedClaimIsInternal) {
  ClaimResponse claim = Claim();
  claim.limits["cpu"] = "eight";
  absl::StatusOr<rapidjson::Document> patch = BuildPatch(
      ParseJson(R"({"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"1"}}}]}})"),
      claim, "a100");
  EXPECT_EQ(patch.status().code(), absl::StatusCode::kInternal);
}

TEST(BuildPatchTest, EmptyClaimChangesNothing) {
  EXPECT_EQ(json::ToString(Patch(PodFrom("guest_minimal.json"), ClaimResponse{})), "[]");
}

}  // namespace
}  // namespace labkube::injector
