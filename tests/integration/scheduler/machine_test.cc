// The scheduler binary against the local control plane: Machines in, reservation pods, node
// marks and Machine status out. Machine lifecycle: create, change `available`, delete, bad specs.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "tests/integration/scheduler/scheduler_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
using ::testing::AnyOf;
using ::testing::UnorderedElementsAre;

// labkube's marks on a node, sorted: "label k=v", "annotation k=v", "taint k=v:effect".
std::string Marks(const rapidjson::Value& node) {
  std::vector<std::string> labels, annotations;
  for (const auto& [k, v] : Labels(node)) {
    if (k.starts_with("labkube.io/")) labels.push_back(absl::StrCat("label ", k, "=", v));
  }
  for (const auto& [k, v] : Annotations(node)) {
    if (k.starts_with("labkube.io/")) annotations.push_back(absl::StrCat("annotation ", k, "=", v));
  }
  std::sort(labels.begin(), labels.end());
  std::vector<std::string> out = labels;
  out.insert(out.end(), annotations.begin(), annotations.end());
  for (const std::string& t : LabkubeTaints(node)) out.push_back(absl::StrCat("taint ", t));
  return absl::StrJoin(out, "; ");
}

// The marks a pool node of `group` serving `types` should carry.
std::string WantMarks(const std::string& group, const std::vector<std::string>& types, bool taint,
                      const std::string& pool = "ready") {
  std::vector<std::string> labels{absl::StrCat("label labkube.io/node-pool=", pool)};
  std::vector<std::string> taints;
  for (const std::string& t : types) {
    labels.push_back(absl::StrCat("label labkube.io/", t, "=", group));
    if (taint) taints.push_back(absl::StrCat("taint labkube.io/", t, "=", group, ":NoSchedule"));
  }
  std::sort(labels.begin(), labels.end());
  std::sort(taints.begin(), taints.end());
  std::vector<std::string> all = labels;
  all.push_back(absl::StrCat("annotation labkube.io/machine-group=", group));
  all.insert(all.end(), taints.begin(), taints.end());
  return absl::StrJoin(all, "; ");
}

class MachineTest : public SchedulerLabTest {
 protected:
  // Waits until the node carries exactly `want` (see Marks).
  ::testing::AssertionResult WaitMarks(const std::string& node, const std::string& want) {
    std::string have;
    if (WaitFor([&] { return (have = Marks(GetNode(node))) == want; }, kConverge)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << node << " carries [" << have << "], want [" << want << "]";
  }

  // Waits until the Machine's status shows `reserved` free slots of `type` out of `maximum` and
  // `fits`, with no guest, for the current generation.
  ::testing::AssertionResult WaitTypeStatus(const std::string& machine, const std::string& type,
                                            int maximum, int reserved, int fits) {
    return WaitMachine(machine, [&](const rapidjson::Value& m) {
      const rapidjson::Value* t = StatusType(m, type);
      return t != nullptr && json::GetInt(*t, {"usage", "maximum"}) == maximum &&
             json::GetInt(*t, {"usage", "reserved"}) == reserved &&
             json::GetInt(*t, {"usage", "used"}) == 0 && json::GetInt(*t, {"fits"}) == fits &&
             json::GetInt(m, {"status", "observedGeneration"}) ==
                 json::GetInt(m, {"metadata", "generation"});
    });
  }
};

// Issue 1: imperator's Machine (apiVersion changed only) -> reservation pods packed so that every
// declared slot fits, node labels and taints, and a complete status.
TEST_F(MachineTest, LabMachinesGetPackedReservationsMarksAndStatus) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  ASSERT_NE(StartScheduler("machines"), nullptr);
  const std::map<std::string, int> gpu_types{
      {"rtx3090-x2", 1}, {"rtx3090-x1", 2}, {"v100-x4", 1}, {"v100-x1", 4}};
  for (const auto& [type, n] : gpu_types) EXPECT_TRUE(WaitReservations("gpu-machines", type, n));
  EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));

  // Two 2-GPU nodes hold one x2 and two x1 only if the x2 gets a node of its own.
  std::vector<PodInfo> x2 = Reservations("gpu-machines", "rtx3090-x2");
  std::vector<PodInfo> x1 = Reservations("gpu-machines", "rtx3090-x1");
  ASSERT_EQ(x2.size(), 1u);
  ASSERT_EQ(x1.size(), 2u);
  EXPECT_THAT(x2[0].node, AnyOf("gpu-3090-a", "gpu-3090-b"));
  std::string other = x2[0].node == "gpu-3090-a" ? "gpu-3090-b" : "gpu-3090-a";
  EXPECT_THAT((std::vector<std::string>{x1[0].node, x1[1].node}),
              UnorderedElementsAre(other, other));
  for (const std::string type : {"v100-x4", "v100-x1"}) {
    for (const PodInfo& p : Reservations("gpu-machines", type))
      EXPECT_EQ(p.node, "dgx-1") << p.name;
  }
  for (const PodInfo& p : Reservations("cpu-machines", "cpu-small")) EXPECT_EQ(p.node, "cpu-a");

  std::vector<std::string> rtx{"rtx3090-x2", "rtx3090-x1"};
  EXPECT_TRUE(WaitMarks("gpu-3090-a", WantMarks("gpu-machines", rtx, true)));
  EXPECT_TRUE(WaitMarks("gpu-3090-b", WantMarks("gpu-machines", rtx, true)));
  EXPECT_TRUE(WaitMarks("dgx-1", WantMarks("gpu-machines", {"v100-x4", "v100-x1"}, true)));
  EXPECT_TRUE(WaitMarks("cpu-a", WantMarks("cpu-machines", {"cpu-small"}, false)));

  for (const auto& [type, n] : gpu_types) {
    EXPECT_TRUE(WaitTypeStatus("gpu-machines", type, n, n, n));
  }
  EXPECT_TRUE(WaitTypeStatus("cpu-machines", "cpu-small", 4, 4, 4));
  rapidjson::Document m = GetMachine("gpu-machines");
  ASSERT_TRUE(m.IsObject());
  std::string message;
  EXPECT_EQ(ReadyStatus(m, &message), "True") << message;
  EXPECT_EQ(json::GetString(m, {"status", "summary"}), "8/8 free");
  EXPECT_EQ(json::Find(m, {"metadata", "finalizers"}), nullptr)
      << "no finalizer: deleting Machines (or labkube) never waits for a scheduler";
  for (const std::string node : {"gpu-3090-a", "gpu-3090-b", "dgx-1"}) {
    const rapidjson::Value* p = StatusPoolNode(m, node);
    ASSERT_NE(p, nullptr) << node;
    EXPECT_EQ(json::GetString(*p, {"condition"}), "Ready") << node;
    EXPECT_EQ(json::GetString(*p, {"mode"}), "ready") << node;
  }
  const rapidjson::Value* x1_status = StatusType(m, "rtx3090-x1");
  ASSERT_NE(x1_status, nullptr);
  EXPECT_EQ(json::ToString(*json::Find(*x1_status, {"nodes"})), R"(["gpu-3090-a","gpu-3090-b"])");
  EXPECT_EQ(json::GetInt(*x1_status, {"usage", "waiting"}), 0);
  rapidjson::Document cpu = GetMachine("cpu-machines");
  EXPECT_EQ(ReadyStatus(cpu), "True");
  EXPECT_EQ(json::GetString(cpu, {"status", "summary"}), "4/4 free");
}

// Issue 2: the number of reservation pods follows `available`, up to what fits.
TEST_F(MachineTest, ReservationsFollowAvailableUpAndDown) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  ASSERT_NE(StartScheduler("available"), nullptr);
  ASSERT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
  // cpu-a has 16 CPUs: 8 slots of 2 CPUs fit, whatever `available` says.
  for (auto [available, fits] : {std::pair{6, 6}, {10, 8}, {1, 1}, {0, 0}, {3, 3}}) {
    SCOPED_TRACE(absl::StrCat("available=", available));
    PatchMachine(
        "cpu-machines",
        absl::StrCat(R"([{"op":"test","path":"/spec/machineTypes/0/name","value":"cpu-small"},)",
                     R"({"op":"replace","path":"/spec/machineTypes/0/available","value":)",
                     available, "}]"));
    EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", fits));
    EXPECT_TRUE(WaitTypeStatus("cpu-machines", "cpu-small", available, fits, fits));
  }
  // The other Machine was left alone.
  EXPECT_TRUE(WaitReservations("gpu-machines", "v100-x1", 4));
}

// Issue 7: deleting a Machine removes its reservation pods and node marks (no finalizer: the
// Machine goes at once, the scheduler cleans up what belongs to no group any more).
TEST_F(MachineTest, DeletingMachineCleansUp) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  ASSERT_NE(StartScheduler("delete"), nullptr);
  ASSERT_TRUE(WaitReservations("gpu-machines", "v100-x1", 4));
  ASSERT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
  ASSERT_TRUE(WaitMarks("dgx-1", WantMarks("gpu-machines", {"v100-x4", "v100-x1"}, true)));
  ASSERT_TRUE(WaitMachine("gpu-machines", [](const rapidjson::Value& m) {
    return json::Find(m, {"status", "summary"}) != nullptr;
  }));

  ASSERT_TRUE(DeleteObject(*client_, kube::resources::Machines(), "", "gpu-machines").ok());
  EXPECT_TRUE(WaitFor([&] { return Reservations("gpu-machines").empty(); }, kConverge))
      << "reservation pods left: " << Reservations("gpu-machines").size();
  for (const std::string node : {"gpu-3090-a", "gpu-3090-b", "dgx-1"}) {
    EXPECT_TRUE(WaitMarks(node, ""));
  }
  EXPECT_TRUE(WaitFor([&] { return !GetMachine("gpu-machines").IsObject(); }, kConverge))
      << "Machine gpu-machines still exists: " << json::ToString(GetMachine("gpu-machines"));
  // The other group is untouched.
  EXPECT_EQ(Reservations("cpu-machines", "cpu-small").size(), 4u);
  EXPECT_EQ(Marks(GetNode("cpu-a")), WantMarks("cpu-machines", {"cpu-small"}, false));
}

constexpr char kBadMachines[] = R"(
apiVersion: labkube.io/v1alpha1
kind: Machine
metadata: {name: good-cpu}
spec:
  nodePool:
    - {name: cpu-a, mode: ready, machineType: [{name: cpu-small}]}
  machineTypes:
    - {name: cpu-small, spec: {cpu: 2, memory: 4Gi}, available: 2}
---
apiVersion: labkube.io/v1alpha1
kind: Machine
metadata: {name: bad-unknown-type}
spec:
  nodePool:
    - {name: gpu-3090-a, mode: ready, machineType: [{name: rtx3090-x1}, {name: no-such-type}]}
  machineTypes:
    - {name: rtx3090-x1, spec: {cpu: 4, memory: 16Gi, gpu: {num: 1}}, available: 1}
---
apiVersion: labkube.io/v1alpha1
kind: Machine
metadata: {name: bad-no-fit}
spec:
  nodePool:
    - {name: dgx-1, mode: ready, machineType: [{name: huge}]}
  machineTypes:
    - {name: huge, spec: {cpu: 1000, memory: 64Gi}, available: 1}
---
apiVersion: labkube.io/v1alpha1
kind: Machine
metadata: {name: zz-shared-node}
spec:
  nodePool:
    - {name: cpu-a, mode: ready, machineType: [{name: cpu-other}]}
  machineTypes:
    - {name: cpu-other, spec: {cpu: 1, memory: 1Gi}, available: 1}
)";

// Issue 10: bad Machines get Ready=False naming the culprit; the scheduler keeps serving the
// good one.
TEST_F(MachineTest, BadMachinesReportTheCulpritAndDoNotStopTheScheduler) {
  ASSERT_TRUE(ApplyYaml(kBadMachines).ok());
  SchedulerProcess* s = StartScheduler("bad");
  ASSERT_NE(s, nullptr);
  auto not_ready_with = [](std::vector<std::string> words) {
    return [words](const rapidjson::Value& m) {
      std::string message;
      if (ReadyStatus(m, &message) != "False") return false;
      for (const std::string& w : words) {
        if (message.find(w) == std::string::npos) return false;
      }
      return true;
    };
  };
  EXPECT_TRUE(WaitMachine("bad-unknown-type", not_ready_with({"no-such-type", "gpu-3090-a"})));
  EXPECT_TRUE(WaitMachine("bad-no-fit", not_ready_with({"huge", "fits on none", "dgx-1"})));
  EXPECT_TRUE(WaitMachine("zz-shared-node", not_ready_with({"cpu-a", "good-cpu"})));
  EXPECT_TRUE(
      WaitMachine("good-cpu", [](const rapidjson::Value& m) { return ReadyStatus(m) == "True"; }));
  EXPECT_TRUE(WaitReservations("good-cpu", "cpu-small", 2));
  EXPECT_TRUE(Reservations("bad-no-fit").empty());
  EXPECT_TRUE(Reservations("zz-shared-node").empty());
  EXPECT_TRUE(WaitMarks("cpu-a", WantMarks("good-cpu", {"cpu-small"}, false)));
  EXPECT_TRUE(s->process().Running());
  EXPECT_TRUE(s->Healthy());
  EXPECT_TRUE(s->Ready());

  // Fixing a Machine clears its condition.
  PatchMachine(
      "bad-unknown-type",
      R"([{"op":"test","path":"/spec/nodePool/0/machineType/1/name","value":"no-such-type"},)"
      R"({"op":"remove","path":"/spec/nodePool/0/machineType/1"}])");
  EXPECT_TRUE(WaitMachine("bad-unknown-type",
                          [](const rapidjson::Value& m) { return ReadyStatus(m) == "True"; }));
  EXPECT_TRUE(WaitReservations("bad-unknown-type", "rtx3090-x1", 1));
}

}  // namespace
}  // namespace labkube::it
