#include "services/scheduler/cluster_view.h"

#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return std::move(doc).value();
}

// A Pod or Node as the scheduler's informers keep it: a compact copy through PodFields() or
// NodeFields(), so a reader of a field the masks drop fails here.
rapidjson::Document Masked(const std::string& text, const kube::FieldMask& mask) {
  return json::Copy(*kube::CompactCopy(Json(text), mask));
}
rapidjson::Document PodJson(const std::string& text) { return Masked(text, PodFields()); }
rapidjson::Document NodeJson(const std::string& text) { return Masked(text, NodeFields()); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ClusterViewTest, ParsesImperatorMachine) {
  auto doc = Json(ReadFile("services/scheduler/testdata/machine_imperator.json"));
  ParsedMachine m = ParseMachine(doc);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0];
  const MachineGroup& g = m.group;
  EXPECT_EQ(g.group, "gpu");
  EXPECT_EQ(g.machine_uid, "m-uid");
  EXPECT_EQ(g.generation, 3);
  ASSERT_EQ(g.types.size(), 3u);
  EXPECT_EQ(g.types[0].resources.cpu_milli, 8000);
  EXPECT_EQ(g.types[0].resources.memory_bytes, int64_t{32} << 30);
  EXPECT_EQ(g.types[0].resources.extended.at("nvidia.com/gpu"), 2);
  EXPECT_EQ(g.types[0].gpu.product, "NVIDIA-GeForce-RTX-3090");
  EXPECT_EQ(g.types[1].cpu, "4");
  EXPECT_EQ(g.types[1].gpu.count, 1);
  EXPECT_EQ(g.types[1].gpu.family, "ampere");
  EXPECT_EQ(g.types[2].gpu.count, 0);
  EXPECT_EQ(g.types[2].available, 4);
  ASSERT_EQ(g.pool.size(), 2u);
  EXPECT_TRUE(g.pool[0].taint);
  EXPECT_EQ(g.pool[1].mode, PoolMode::kMaintenance);
  EXPECT_FALSE(g.pool[1].taint);
  EXPECT_THAT(g.pool[1].machine_types, ElementsAre("rtx3090-x1"));
}

TEST(ClusterViewTest, GroupDefaultsToName) {
  ParsedMachine m = ParseMachine(Json(R"({"metadata":{"name":"lab"},"spec":{}})"));
  EXPECT_EQ(m.group.group, "lab");
  EXPECT_TRUE(m.group.types.empty());
}

TEST(ClusterViewTest, BadTypesBecomeProblems) {
  ParsedMachine m = ParseMachine(Json(R"({"metadata":{"name":"lab"},"spec":{"machineTypes":[
      {"name":"a","spec":{"cpu":"lots","memory":"1Gi"},"available":1},
      {"name":"b","spec":{"memory":"1Gi"},"available":1},
      {"name":"c","spec":{"cpu":"1","memory":"1Gi"},"available":1},
      {"name":"c","spec":{"cpu":"1","memory":"1Gi"},"available":1}],
      "nodePool":[{"mode":"ready","machineType":[]}]}})"));
  ASSERT_EQ(m.problems.size(), 4u);
  EXPECT_THAT(m.problems[0], HasSubstr("spec.machineTypes[0] (a): cpu, memory or gpu.num"));
  EXPECT_THAT(m.problems[1], HasSubstr("spec.machineTypes[1] (b): name, spec.cpu and spec.memory"));
  EXPECT_THAT(m.problems[2], HasSubstr("c is declared twice"));
  EXPECT_THAT(m.problems[3], HasSubstr("spec.nodePool: an entry has no name"));
  ASSERT_EQ(m.group.types.size(), 1u);
}

TEST(ClusterViewTest, NodeReadinessAndAllocatable) {
  NodeInfo n = ParseNode(
      NodeJson(R"({"metadata":{"name":"gpu-a","labels":{"kubernetes.io/hostname":"gpu-a"}},
      "status":{"allocatable":{"cpu":"32","memory":"128Gi","nvidia.com/gpu":"2","pods":"110"},
      "conditions":[{"type":"Ready","status":"True"}]}})"));
  EXPECT_TRUE(n.ready);
  EXPECT_EQ(n.allocatable.cpu_milli, 32000);
  EXPECT_EQ(n.allocatable.extended.at("nvidia.com/gpu"), 2);
  EXPECT_EQ(n.labels.at("kubernetes.io/hostname"), "gpu-a");
  NodeInfo tainted = ParseNode(NodeJson(R"({"metadata":{"name":"x"},"spec":{"taints":[
      {"key":"node.kubernetes.io/unreachable","effect":"NoExecute"}]},
      "status":{"conditions":[{"type":"Ready","status":"True"}]}})"));
  EXPECT_FALSE(tainted.ready);
  NodeInfo unknown = ParseNode(NodeJson(R"({"metadata":{"name":"y"},
      "status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})"));
  EXPECT_FALSE(unknown.ready);
}

const ClaimSigner& Signer() {
  static const ClaimSigner* signer = new ClaimSigner(*ClaimSigner::Create(std::string(32, 'k')));
  return *signer;
}

GuestCheck Check() { return GuestCheck{&Signer(), absl::Seconds(90)}; }

// A guest pod "g" in lab-alice on node-b, created 2026-01-01T00:00:05Z, with claim c-1 signed for
// `who` and `node` at 2026-01-01T00:00:00Z (or carrying `signature` when given).
rapidjson::Document SignedGuest(const std::string& who = "g", const std::string& node = "node-b",
                                const std::string& bound = "node-b") {
  std::string sig = Signer().Sign(
      {"c-1", "lab-alice", who, "gpu", "x1", node, absl::FromUnixSeconds(1767225600)});
  return PodJson(absl::StrCat(
      R"({"metadata":{"name":"g","namespace":"lab-alice",
      "creationTimestamp":"2026-01-01T00:00:05Z",
      "labels":{"labkube.io/pod-role":"guest","labkube.io/machine-group":"gpu","labkube.io/machine-type":"x1"},
      "annotations":{"labkube.io/claim":"c-1","labkube.io/node":"node-b","labkube.io/claim-signature":")",
      sig, R"("}},"spec":{"nodeName":")", bound,
      R"(","containers":[{"resources":{"requests":{"cpu":"2"}}}]},"status":{"phase":"Running"}})"));
}

TEST(ClusterViewTest, OnlyAPodWithItsOwnSignedClaimIsAGuest) {
  EXPECT_EQ(ClassifyPod(SignedGuest(), "labkube-system", Check()).kind, PodView::kGuest);
  // Signed for another pod, another node, or bound elsewhere: an ordinary pod, counted on its node.
  for (const auto& [who, node, bound] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"other", "node-b", "node-b"}, {"g", "node-a", "node-b"}, {"g", "node-b", "node-a"}}) {
    PodView v = ClassifyPod(SignedGuest(who, node, bound), "labkube-system", Check());
    EXPECT_EQ(v.kind, PodView::kOther) << who << " " << node << " " << bound;
    EXPECT_EQ(v.requests.cpu_milli, 2000);
    EXPECT_FALSE(v.forged.empty());
  }
  GuestCheck short_window{&Signer(), absl::Seconds(3)};
  PodView late = ClassifyPod(SignedGuest(), "labkube-system", short_window);
  EXPECT_EQ(late.kind, PodView::kOther);
  EXPECT_NE(late.forged.find("lifetime"), std::string::npos) << late.forged;
}

TEST(ClusterViewTest, HugeRequestsSaturateInsteadOfOverflowing) {
  Resources r = PodRequests(PodJson(R"({"spec":{"containers":[
      {"resources":{"requests":{"memory":"7Ei","cpu":"9000000000000"}}},
      {"resources":{"requests":{"memory":"7Ei","cpu":"9000000000000"}}}]}})"));
  EXPECT_EQ(r.memory_bytes, std::numeric_limits<int64_t>::max());
  EXPECT_GT(r.cpu_milli, 0);
}

TEST(ClusterViewTest, ClassifiesPods) {
  auto reservation =
      ClassifyPod(PodJson(R"({"metadata":{"name":"r1","namespace":"labkube-system","uid":"u1",
      "creationTimestamp":"2026-01-01T00:00:00Z",
      "labels":{"labkube.io/pod-role":"reservation","labkube.io/machine-group":"gpu",
                "labkube.io/machine-type":"x1"},"annotations":{"labkube.io/node":"node-a"}},
      "spec":{},"status":{"phase":"Pending"}})"),
                  "labkube-system", Check());
  EXPECT_EQ(reservation.kind, PodView::kReservation);
  EXPECT_EQ(reservation.slot.node, "node-a");
  EXPECT_FALSE(reservation.slot.running);
  EXPECT_EQ(reservation.slot.created, absl::FromUnixSeconds(1767225600));

  rapidjson::Document finished = SignedGuest();
  json::SetString(finished, {"status", "phase"}, "Succeeded");
  auto guest = ClassifyPod(finished, "labkube-system", Check());
  EXPECT_EQ(guest.kind, PodView::kGuest);
  EXPECT_EQ(guest.slot.claim_id, "c-1");
  EXPECT_TRUE(guest.slot.finished);

  auto other = ClassifyPod(PodJson(R"({"metadata":{"name":"o","namespace":"default"},
      "spec":{"nodeName":"node-a","containers":[
        {"resources":{"requests":{"cpu":"500m","memory":"1Gi"}}},
        {"resources":{"requests":{"cpu":"1","nvidia.com/gpu":"1"}}}],
      "initContainers":[{"resources":{"requests":{"cpu":"4"}}}]},"status":{"phase":"Running"}})"),
                           "labkube-system", Check());
  EXPECT_EQ(other.kind, PodView::kOther);
  EXPECT_EQ(other.node, "node-a");
  EXPECT_EQ(other.requests.cpu_milli, 4000);
  EXPECT_EQ(other.requests.memory_bytes, int64_t{1} << 30);
  EXPECT_EQ(other.requests.extended.at("nvidia.com/gpu"), 1);
  EXPECT_EQ(other.requests.extended.at("pods"), 1);

  // A pod labelled guest without a claim was never admitted by labkube: it is just a pod.
  auto unclaimed = ClassifyPod(PodJson(R"({"metadata":{"name":"u","namespace":"x",
      "labels":{"labkube.io/pod-role":"guest"}},"spec":{}})"),
                               "labkube-system", Check());
  EXPECT_EQ(unclaimed.kind, PodView::kIgnored);
}

}  // namespace
}  // namespace labkube::scheduler
