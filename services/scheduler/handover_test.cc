#include "services/scheduler/handover.h"

#include <gtest/gtest.h>

#include "lib/kube/json.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

ClaimDecision Decision() {
  ClaimDecision d;
  d.record.id = "c-1";
  d.record.node = "node-a";
  d.record.signature = "v1.1.ab";
  d.spec.node_affinity = {{"labkube.io/x1", "In", {"gpu"}},
                          {"kubernetes.io/hostname", "In", {"host-a"}}};
  return d;
}

WaitingPod Pod() {
  WaitingPod p;
  p.ns = "lab-bob";
  p.name = "b1";
  p.uid = "u-1";
  p.affinity_terms = 2;
  p.gate_index = 1;
  return p;
}

TEST(HandoverPatchTest, TestsClaimsNarrowsAndUngates) {
  auto patch = HandoverPatch(Pod(), Decision());
  ASSERT_TRUE(patch.ok()) << patch.status();
  EXPECT_EQ(json::ToString(*patch),
            R"([{"op":"test","path":"/metadata/uid","value":"u-1"},)"
            R"({"op":"test","path":"/spec/schedulingGates/1/name","value":"labkube.io/queue"},)"
            R"({"op":"add","path":"/metadata/annotations/labkube.io~1claim","value":"c-1"},)"
            R"({"op":"add","path":"/metadata/annotations/labkube.io~1node","value":"node-a"},)"
            R"({"op":"add","path":"/metadata/annotations/labkube.io~1claim-signature",)"
            R"("value":"v1.1.ab"},)"
            R"({"op":"add","path":"/spec/affinity/nodeAffinity/)"
            R"(requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/)"
            R"(matchExpressions/-","value":{"key":"kubernetes.io/hostname","operator":"In",)"
            R"("values":["host-a"]}},)"
            R"({"op":"add","path":"/spec/affinity/nodeAffinity/)"
            R"(requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1/)"
            R"(matchExpressions/-","value":{"key":"kubernetes.io/hostname","operator":"In",)"
            R"("values":["host-a"]}},)"
            R"({"op":"remove","path":"/spec/schedulingGates/1"}])");
}

TEST(HandoverPatchTest, RefusesWhatCannotBeHandedSafely) {
  WaitingPod no_affinity = Pod();
  no_affinity.affinity_terms = 0;
  EXPECT_EQ(HandoverPatch(no_affinity, Decision()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ClaimDecision unsigned_claim = Decision();
  unsigned_claim.record.signature.clear();
  EXPECT_EQ(HandoverPatch(Pod(), unsigned_claim).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace labkube::scheduler
