#include "services/scheduler/slot_spec.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

MachineGroup Group() {
  MachineGroup g;
  g.machine_name = "gpu-machines";
  g.machine_uid = "uid-1";
  g.group = "gpu";
  MachineType t;
  t.name = "rtx3090-x2";
  t.cpu = "8000m";
  t.memory = "32Gi";
  t.gpu.count = 2;
  t.gpu.product = "NVIDIA-GeForce-RTX-3090";
  MachineType x1 = t;
  x1.name = "rtx3090-x1";
  g.types = {t, x1};
  g.pool = {{"node-a", PoolMode::kReady, true, {"rtx3090-x2", "rtx3090-x1"}},
            {"node-b", PoolMode::kReady, false, {"rtx3090-x2"}}};
  return g;
}

TEST(SlotSpecTest, ReservationPodIsGuaranteedPinnedAndOwned) {
  MachineGroup g = Group();
  auto pod = ReservationPod(g, g.types[0], "node-a", ReservationOptions{});
  EXPECT_EQ(json::GetString(pod, {"metadata", "namespace"}), "labkube-system");
  EXPECT_EQ(json::GetString(pod, {"metadata", "generateName"}), "gpu-rtx3090-x2-");
  EXPECT_EQ(json::GetString(pod, {"metadata", "labels", "labkube.io/pod-role"}), "reservation");
  const auto& owner = (*json::Find(pod, {"metadata", "ownerReferences"}))[0];
  EXPECT_EQ(json::GetString(owner, {"uid"}), "uid-1");
  const auto& c = (*json::Find(pod, {"spec", "containers"}))[0];
  EXPECT_EQ(json::GetString(c, {"resources", "requests", "cpu"}), "8000m");
  EXPECT_EQ(json::GetString(c, {"resources", "limits", "nvidia.com/gpu"}), "2");
  EXPECT_EQ(json::GetString(c, {"resources", "limits", "memory"}), "32Gi");
  const auto* field = json::Find(pod, {"spec", "affinity", "nodeAffinity",
                                       "requiredDuringSchedulingIgnoredDuringExecution",
                                       "nodeSelectorTerms"});
  ASSERT_NE(field, nullptr);
  EXPECT_EQ(json::GetString((*field)[0]["matchFields"][0], {"key"}), "metadata.name");
  EXPECT_EQ(json::View((*field)[0]["matchFields"][0]["values"][0]), "node-a");
  // node-a is tainted for both of its types: the pod tolerates both.
  const auto& tols = *json::Find(pod, {"spec", "tolerations"});
  ASSERT_EQ(tols.Size(), 2u);
  EXPECT_EQ(json::GetString(tols[0], {"key"}), "labkube.io/rtx3090-x2");
  EXPECT_EQ(json::GetString(tols[1], {"key"}), "labkube.io/rtx3090-x1");
  EXPECT_EQ(json::GetString(tols[1], {"value"}), "gpu");
  EXPECT_EQ(json::GetString(pod, {"spec", "priorityClassName"}), "labkube-reservation");
}

TEST(SlotSpecTest, GuestSpecCarriesGpuLabelsAndHostname) {
  MachineGroup g = Group();
  GuestSpec s = GuestSpecFor(g, g.types[0], "node-a", "node-a");
  EXPECT_EQ(s.resources.at("nvidia.com/gpu"), "2");
  ASSERT_EQ(s.node_affinity.size(), 4u);
  EXPECT_EQ(s.node_affinity[0].key, "labkube.io/rtx3090-x2");
  EXPECT_EQ(s.node_affinity[1].key, "labkube.io/node-pool");
  EXPECT_EQ(s.node_affinity[2].key, "nvidia.com/gpu.product");
  EXPECT_EQ(s.node_affinity[3].values[0], "node-a");
  ASSERT_EQ(s.tolerations.size(), 2u);
  EXPECT_EQ(s.tolerations[0].value, "gpu");
  EXPECT_TRUE(GuestSpecFor(g, g.types[0], "node-b", "node-b").tolerations.empty());
}

TEST(SlotSpecTest, CpuOnlyTypeHasNoGpuResource) {
  MachineGroup g = Group();
  g.types[0].gpu = GpuSpec{};
  EXPECT_EQ(SlotResources(g.types[0]).count("nvidia.com/gpu"), 0u);
  EXPECT_EQ(SlotResources(g.types[0]).size(), 2u);
}

}  // namespace
}  // namespace labkube::scheduler
