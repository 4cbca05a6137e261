#include "services/scheduler/slot_spec.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  auto made = ReservationPod(g, g.types[0], "node-a", ReservationOptions{});
  ASSERT_TRUE(made.ok()) << made.status();
  const rapidjson::Document& pod = *made;
  EXPECT_EQ(json::GetString(pod, {"metadata", "namespace"}), "labkube-system");
  EXPECT_EQ(json::GetString(pod, {"metadata", "generateName"}), "gpu-rtx3090-x2-");
  EXPECT_EQ(json::GetString(pod, {"metadata", "labels", "labkube.io/pod-role"}), "reservation");
  const auto& owner = (*json::Find(pod, {"metadata", "ownerReferences"}))[0];
  EXPECT_EQ(json::GetString(owner, {"uid"}), "uid-1");
  const auto& c = (*json::Find(pod, {"spec", "containers"}))[0];
  EXPECT_EQ(json::GetString(c, {"resources", "requests", "cpu"}), "8000m");
  EXPECT_EQ(json::GetString(c, {"resources", "limits", "nvidia.com/gpu"}), "2");
  EXPECT_EQ(json::GetString(c, {"resources", "limits", "memory"}), "32Gi");
  const auto* field =
      json::Find(pod, {"spec", "affinity", "nodeAffinity",
                       "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
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

// The reservation pod as the RapidJSON AddMember code wrote it before it moved to kube::Builder
// (node-a: tainted for both of its types). The typed build must write the same fields and values.
constexpr char kGoldenReservationPodNodeA[] = R"json({
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "namespace": "labkube-system",
    "generateName": "gpu-rtx3090-x2-",
    "labels": {
      "app.kubernetes.io/managed-by": "labkube",
      "labkube.io/machine-group": "gpu",
      "labkube.io/machine-type": "rtx3090-x2",
      "labkube.io/pod-role": "reservation"
    },
    "annotations": {
      "labkube.io/node": "node-a"
    },
    "ownerReferences": [
      {
        "apiVersion": "labkube.io/v1alpha1",
        "kind": "Machine",
        "name": "gpu-machines",
        "uid": "uid-1",
        "controller": true
      }
    ]
  },
  "spec": {
    "containers": [
      {
        "name": "pause",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {
          "requests": {
            "cpu": "8000m",
            "memory": "32Gi",
            "nvidia.com/gpu": "2"
          },
          "limits": {
            "cpu": "8000m",
            "memory": "32Gi",
            "nvidia.com/gpu": "2"
          }
        },
        "securityContext": {
          "allowPrivilegeEscalation": false,
          "readOnlyRootFilesystem": true,
          "capabilities": {
            "drop": [
              "ALL"
            ]
          }
        }
      }
    ],
    "securityContext": {
      "runAsNonRoot": true,
      "runAsUser": 65535,
      "runAsGroup": 65535,
      "seccompProfile": {
        "type": "RuntimeDefault"
      }
    },
    "priorityClassName": "labkube-reservation",
    "tolerations": [
      {
        "key": "labkube.io/rtx3090-x2",
        "operator": "Equal",
        "value": "gpu",
        "effect": "NoSchedule"
      },
      {
        "key": "labkube.io/rtx3090-x1",
        "operator": "Equal",
        "value": "gpu",
        "effect": "NoSchedule"
      }
    ],
    "affinity": {
      "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
          "nodeSelectorTerms": [
            {
              "matchFields": [
                {
                  "key": "metadata.name",
                  "operator": "In",
                  "values": [
                    "node-a"
                  ]
                }
              ]
            }
          ]
        }
      }
    },
    "terminationGracePeriodSeconds": 0,
    "automountServiceAccountToken": false,
    "enableServiceLinks": false
  }
})json";

// Every path where `got` differs from `want` (objects compared member by member whatever the
// order; arrays element by element), so a failure names the field.
void Differences(const rapidjson::Value& want, const rapidjson::Value& got, const std::string& at,
                 std::vector<std::string>& out) {
  if (want.GetType() != got.GetType()) {
    out.push_back(absl::StrCat(at, ": want ", json::ToString(want), ", got ", json::ToString(got)));
  } else if (want.IsObject()) {
    for (const auto& m : want.GetObject()) {
      const std::string key(m.name.GetString(), m.name.GetStringLength());
      auto it = got.FindMember(m.name);
      if (it == got.MemberEnd()) {
        out.push_back(absl::StrCat(at, ".", key, ": missing"));
      } else {
        Differences(m.value, it->value, absl::StrCat(at, ".", key), out);
      }
    }
    for (const auto& m : got.GetObject()) {
      if (!want.HasMember(m.name))
        out.push_back(absl::StrCat(at, ".", m.name.GetString(), ": extra"));
    }
  } else if (want.IsArray()) {
    if (want.Size() != got.Size()) {
      out.push_back(absl::StrCat(at, ": want ", want.Size(), " elements, got ", got.Size()));
      return;
    }
    for (rapidjson::SizeType i = 0; i < want.Size(); ++i) {
      Differences(want[i], got[i], absl::StrCat(at, "[", i, "]"), out);
    }
  } else if (want != got) {
    out.push_back(absl::StrCat(at, ": want ", json::ToString(want), ", got ", json::ToString(got)));
  }
}

std::string DifferencesFromGolden(const char* golden, const rapidjson::Value& got) {
  auto want = json::Parse(golden);
  if (!want.ok()) return want.status().ToString();
  std::vector<std::string> out;
  Differences(*want, got, "", out);
  return absl::StrJoin(out, "\n");
}

TEST(SlotSpecTest, ReservationPodMatchesTheGoldenFieldByField) {
  MachineGroup g = Group();
  auto made = ReservationPod(g, g.types[0], "node-a", ReservationOptions{});
  ASSERT_TRUE(made.ok()) << made.status();
  const rapidjson::Document& pod = *made;
  EXPECT_EQ(DifferencesFromGolden(kGoldenReservationPodNodeA, pod), "");
}

// node-b is not tainted: the pod still carries "tolerations", as an empty list.
TEST(SlotSpecTest, ReservationPodOnAnUntaintedNodeHasAnEmptyTolerationList) {
  MachineGroup g = Group();
  auto made = ReservationPod(g, g.types[0], "node-b", ReservationOptions{});
  ASSERT_TRUE(made.ok()) << made.status();
  const rapidjson::Document& pod = *made;
  auto want = json::Parse(kGoldenReservationPodNodeA);
  ASSERT_TRUE(want.ok());
  (*want)["metadata"]["annotations"]["labkube.io/node"].SetString("node-b");
  (*want)["spec"]["tolerations"].Clear();
  (*want)["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
         ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
             .SetString("node-b");
  EXPECT_EQ(DifferencesFromGolden(json::ToString(*want).c_str(), pod), "");
}

// A build mistake is an error naming the pod, never an abort.
TEST(SlotSpecTest, AMachineWithoutAUidIsAnError) {
  MachineGroup g = Group();
  g.machine_uid = "";
  auto pod = ReservationPod(g, g.types[0], "node-a", ReservationOptions{});
  EXPECT_EQ(pod.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(pod.status().message(),
            "building Pod gpu-rtx3090-x2-(generated): metadata.ownerReferences[0].uid is required");
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
