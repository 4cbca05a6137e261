#include "lib/kube/types.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A Pod as kube-apiserver returns it (trimmed of managedFields).
constexpr char kPod[] = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "web-1", "generateName": "web-", "namespace": "team-a",
    "uid": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
    "resourceVersion": "12345", "generation": 2,
    "creationTimestamp": "2024-05-01T10:00:00Z",
    "deletionTimestamp": "2024-05-01T11:30:15.5+02:00",
    "labels": {"app": "web", "tier": "front"},
    "annotations": {"labkube.io/slot": "a100-0"},
    "finalizers": ["labkube.io/guard"],
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9",
                         "uid": "rs-uid", "controller": true, "blockOwnerDeletion": true}]
  },
  "spec": {
    "nodeName": "gpu-node-3", "schedulerName": "default-scheduler",
    "priorityClassName": "high", "priority": 1000,
    "nodeSelector": {"pool": "a100"},
    "containers": [
      {"name": "main", "image": "registry/web:1.2",
       "env": [{"name": "A", "value": "1"}],
       "resources": {"requests": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1"},
                     "limits": {"memory": "2Gi", "nvidia.com/gpu": 1}}},
      {"name": "sidecar", "image": "registry/proxy:3"}
    ],
    "initContainers": [{"name": "init", "image": "busybox",
                        "resources": {"requests": {"cpu": "1"}}}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
    "tolerations": [
      {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
      {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
       "tolerationSeconds": 300}
    ]
  },
  "status": {
    "phase": "Running", "podIP": "10.0.0.7",
    "conditions": [{"type": "PodScheduled", "status": "True"},
                   {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                    "message": "containers with unready status: [main]"}]
  }
})";

constexpr char kNode[] = R"({
  "apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "gpu-node-3", "labels": {"pool": "a100"}},
  "spec": {"unschedulable": true,
           "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
  "status": {
    "capacity": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8", "pods": "110"},
    "allocatable": {"cpu": "63500m", "memory": "500Gi", "nvidia.com/gpu": "8"},
    "conditions": [{"type": "MemoryPressure", "status": "False"},
                   {"type": "Ready", "status": "True", "reason": "KubeletReady"}]
  }
})";

rapidjson::Document ParseOrDie(std::string_view text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return std::move(*doc);
}

TEST(TypesTest, Pod) {
  rapidjson::Document doc = ParseOrDie(kPod);
  auto pod = Decode<Pod>(doc);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const ObjectMeta& m = pod->metadata;
  EXPECT_EQ(m.name, "web-1");
  EXPECT_EQ(m.generate_name, "web-");
  EXPECT_EQ(m.namespace_, "team-a");
  EXPECT_EQ(m.uid, "0f1e2d3c-aaaa-bbbb-cccc-000000000001");
  EXPECT_EQ(m.resource_version, "12345");
  EXPECT_EQ(m.generation, 2);
  EXPECT_THAT(m.labels, ElementsAre(Pair("app", "web"), Pair("tier", "front")));
  EXPECT_THAT(m.annotations, ElementsAre(Pair("labkube.io/slot", "a100-0")));
  EXPECT_THAT(m.finalizers, ElementsAre("labkube.io/guard"));
  ASSERT_EQ(m.owner_references.size(), 1u);
  EXPECT_EQ(m.owner_references[0].kind, "ReplicaSet");
  EXPECT_TRUE(m.owner_references[0].controller);
  EXPECT_TRUE(m.owner_references[0].block_owner_deletion);
  EXPECT_EQ(m.creation_timestamp, absl::FromUnixSeconds(1714557600));
  ASSERT_TRUE(m.being_deleted());
  EXPECT_EQ(*m.deletion_timestamp,
            absl::FromUnixSeconds(1714557600 - 1785) + absl::Milliseconds(500));  // 09:30:15.5Z

  EXPECT_EQ(pod->node_name, "gpu-node-3");
  EXPECT_EQ(pod->priority_class_name, "high");
  EXPECT_EQ(pod->priority, 1000);
  EXPECT_THAT(pod->node_selector, ElementsAre(Pair("pool", "a100")));
  ASSERT_EQ(pod->containers.size(), 2u);
  EXPECT_EQ(pod->containers[0].image, "registry/web:1.2");
  EXPECT_THAT(pod->containers[0].requests,
              ElementsAre(Pair("cpu", "500m"), Pair("memory", "1Gi"), Pair("nvidia.com/gpu", "1")));
  EXPECT_THAT(pod->containers[0].limits,
              ElementsAre(Pair("memory", "2Gi"), Pair("nvidia.com/gpu", "1")));
  EXPECT_TRUE(pod->containers[1].requests.empty());
  ASSERT_EQ(pod->init_containers.size(), 1u);
  EXPECT_EQ(pod->init_containers[0].requests.at("cpu"), "1");
  EXPECT_TRUE(pod->has_affinity);
  ASSERT_EQ(pod->tolerations.size(), 2u);
  EXPECT_EQ(pod->tolerations[0].operator_, "Exists");
  EXPECT_EQ(pod->tolerations[0].toleration_seconds, std::nullopt);
  EXPECT_EQ(pod->tolerations[1].toleration_seconds, 300);
  EXPECT_EQ(pod->phase, "Running");
  EXPECT_EQ(pod->pod_ip, "10.0.0.7");
  ASSERT_EQ(pod->conditions.size(), 2u);
  EXPECT_EQ(pod->conditions[1].reason, "ContainersNotReady");
}

TEST(TypesTest, Node) {
  rapidjson::Document doc = ParseOrDie(kNode);
  auto node = Decode<Node>(doc);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->metadata.name, "gpu-node-3");
  EXPECT_EQ(node->metadata.labels.at("pool"), "a100");
  EXPECT_TRUE(node->unschedulable);
  ASSERT_EQ(node->taints.size(), 1u);
  EXPECT_EQ(node->taints[0].effect, "NoSchedule");
  EXPECT_EQ(node->capacity.at("pods"), "110");
  EXPECT_EQ(node->allocatable.at("cpu"), "63500m");
  EXPECT_TRUE(node->ready);
  EXPECT_EQ(node->conditions.size(), 2u);
}

TEST(TypesTest, MissingFieldsAreEmpty) {
  rapidjson::Document doc = ParseOrDie(R"({"metadata":{"name":"p","labels":null},"spec":{}})");
  auto pod = Decode<Pod>(doc);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(pod->metadata.name, "p");
  EXPECT_TRUE(pod->metadata.labels.empty());
  EXPECT_EQ(pod->metadata.creation_timestamp, absl::InfinitePast());
  EXPECT_FALSE(pod->metadata.being_deleted());
  EXPECT_FALSE(pod->has_affinity);
  EXPECT_EQ(pod->priority, std::nullopt);
  EXPECT_TRUE(Decode<Node>(ParseOrDie("{}")).ok());
  EXPECT_FALSE(Decode<Node>(ParseOrDie("[]")).ok());
}

TEST(TypesTest, ObjectMetaAlone) {
  rapidjson::Document doc = ParseOrDie(kPod);
  EXPECT_EQ(Decode<ObjectMeta>(doc)->name, "web-1");
  EXPECT_EQ(Decode<ObjectMeta>(doc["metadata"])->uid, "0f1e2d3c-aaaa-bbbb-cccc-000000000001");
}

std::string DecodeError(std::string_view text) {
  auto pod = Decode<Pod>(ParseOrDie(text));
  EXPECT_FALSE(pod.ok());
  EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(pod.status().message());
}

TEST(TypesTest, WrongTypesNameTheField) {
  EXPECT_EQ(DecodeError(R"({"metadata":{"name":"p","namespace":"n","labels":{"a":1}}})"),
            "Pod n/p: metadata.labels.a: must be a string");
  EXPECT_EQ(DecodeError(R"({"metadata":{"name":"p"},"spec":{"containers":[{},
              {"resources":{"requests":{"cpu":true}}}]}})"),
            "Pod p: spec.containers[1].resources.requests.cpu: must be a quantity");
  EXPECT_EQ(DecodeError(R"({"spec":{"tolerations":[{"tolerationSeconds":"x"}]}})"),
            "Pod: spec.tolerations[0].tolerationSeconds: must be an integer");
  EXPECT_EQ(DecodeError(R"({"spec":{"containers":{}}})"), "Pod: spec.containers: must be a list");
  EXPECT_EQ(DecodeError(R"({"spec":[]})"), "Pod: spec: must be an object");
  EXPECT_EQ(DecodeError(R"({"metadata":{"creationTimestamp":"yesterday"}})"),
            "Pod: metadata.creationTimestamp: must be an RFC 3339 time");
  EXPECT_EQ(DecodeError(R"({"status":{"conditions":[1]}})"),
            "Pod: status.conditions[0]: must be an object");
}

TEST(TypesTest, DecodeList) {
  ObjectList list;
  list.doc =
      ParseOrDie(std::string(R"({"items":[)") + kPod + "," + R"({"metadata":{"name":"x"}}]})");
  auto pods = DecodeList<Pod>(list);
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[1].metadata.name, "x");
  list.doc = ParseOrDie(R"({"items":[{}, {"metadata":{"name":"bad","generation":"1"}}]})");
  EXPECT_EQ(DecodeList<Pod>(list).status().message(),
            "items[1]: Pod bad: metadata.generation: must be an integer");
  list.doc = ParseOrDie("{}");
  EXPECT_TRUE(DecodeList<Node>(list)->empty());
}

}  // namespace
}  // namespace labkube::kube
