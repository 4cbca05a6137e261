#include "services/gateway/workspace_status.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;

rapidjson::Document J(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

const char kDeployment[] = R"({"metadata":{"name":"ws-nb"}})";

PhaseInfo Phase(const std::string& deployment, const std::vector<std::string>& pods,
                const std::vector<std::string>& events = {}) {
  rapidjson::Document d = J(deployment);
  std::vector<rapidjson::Document> p, e;
  for (const std::string& s : pods) p.push_back(J(s));
  for (const std::string& s : events) e.push_back(J(s));
  std::vector<const rapidjson::Value*> pp, ee;
  for (const auto& x : p) pp.push_back(&x);
  for (const auto& x : e) ee.push_back(&x);
  return WorkspacePhase(d, pp, ee);
}

std::string Pod(const std::string& status, const std::string& node = "") {
  return R"({"metadata":{"name":"ws-nb-5f7-abcde","creationTimestamp":"2024-01-01T00:00:00Z"},
             "spec":{"nodeName":")" +
         node + R"("},"status":)" + status + "}";
}

TEST(WorkspaceStatusTest, NoPodYetIsStarting) {
  PhaseInfo p = Phase(kDeployment, {});
  EXPECT_EQ(p.phase, gw::PHASE_STARTING);
  EXPECT_EQ(p.reason, "Creating");
}

TEST(WorkspaceStatusTest, RefusedForLackOfASlotIsWaiting) {
  const std::string event = R"({"type":"Warning","reason":"FailedCreate",
      "involvedObject":{"kind":"ReplicaSet","name":"ws-nb-5f7"},"lastTimestamp":"2024-01-01T00:00:05Z",
      "message":"Error creating: admission webhook \"injector.labkube.io\" denied the request: labkube: no free rtx3090 slot in group lab: maximum 2, used 2."})";
  PhaseInfo p = Phase(kDeployment, {}, {event});
  EXPECT_EQ(p.phase, gw::PHASE_WAITING);
  EXPECT_EQ(p.reason, "NoFreeSlot");
  EXPECT_EQ(p.message.substr(0, 20), "no free rtx3090 slot");
  // Events of another workspace whose name starts the same are ignored.
  const std::string other = R"({"type":"Warning","reason":"FailedCreate",
      "involvedObject":{"name":"ws-nb-2-5f7"},"message":"labkube: unknown machine type"})";
  EXPECT_EQ(Phase(kDeployment, {}, {other}).phase, gw::PHASE_STARTING);
}

TEST(WorkspaceStatusTest, OtherRefusalsFail) {
  const std::string d = R"({"metadata":{"name":"ws-nb"},"status":{"conditions":[
      {"type":"ReplicaFailure","status":"True","reason":"FailedCreate",
       "message":"pods \"ws-nb-x\" is forbidden: exceeded quota: labkube-quota"}]}})";
  PhaseInfo p = Phase(d, {});
  EXPECT_EQ(p.phase, gw::PHASE_FAILED);
  EXPECT_NE(p.message.find("exceeded quota"), std::string::npos);
}

TEST(WorkspaceStatusTest, UnscheduledPodIsWaiting) {
  PhaseInfo p = Phase(kDeployment, {Pod(R"({"phase":"Pending","conditions":[{"type":"PodScheduled",
      "status":"False","reason":"Unschedulable","message":"0/4 nodes are available"}]})")});
  EXPECT_EQ(p.phase, gw::PHASE_WAITING);
  EXPECT_EQ(p.reason, "Unschedulable");
  EXPECT_EQ(p.message, "0/4 nodes are available");
}

TEST(WorkspaceStatusTest, ScheduledNotReadyIsStarting) {
  PhaseInfo p =
      Phase(kDeployment, {Pod(R"({"phase":"Pending","containerStatuses":[{"name":"workspace",
      "state":{"waiting":{"reason":"ContainerCreating"}}}]})",
                              "gpu-1")});
  EXPECT_EQ(p.phase, gw::PHASE_STARTING);
  EXPECT_EQ(p.reason, "ContainerCreating");
  EXPECT_EQ(p.node, "gpu-1");
}

TEST(WorkspaceStatusTest, ReadyIsRunning) {
  PhaseInfo p = Phase(kDeployment, {Pod(R"({"phase":"Running","conditions":[{"type":"Ready",
      "status":"True"}]})",
                                        "gpu-1")});
  EXPECT_EQ(p.phase, gw::PHASE_RUNNING);
  EXPECT_EQ(p.node, "gpu-1");
}

TEST(WorkspaceStatusTest, ImagePullErrorsFailWithTheEventMessage) {
  const std::string event =
      R"({"type":"Warning","reason":"Failed","involvedObject":{"name":"ws-nb-5f7-abcde"},
      "message":"Failed to pull image \"nope:1\": not found"})";
  PhaseInfo p = Phase(kDeployment,
                      {Pod(R"({"phase":"Pending","containerStatuses":[{"name":"workspace",
      "state":{"waiting":{"reason":"ImagePullBackOff"}}}]})",
                           "gpu-1")},
                      {event});
  EXPECT_EQ(p.phase, gw::PHASE_FAILED);
  EXPECT_EQ(p.reason, "ImagePullBackOff");
  EXPECT_EQ(p.message, "Failed to pull image \"nope:1\": not found");
}

TEST(WorkspaceStatusTest, FailedPodAndDeletion) {
  EXPECT_EQ(Phase(kDeployment, {Pod(R"({"phase":"Failed","reason":"Evicted"})", "n")}).reason,
            "Evicted");
  EXPECT_EQ(Phase(R"({"metadata":{"name":"ws-nb","deletionTimestamp":"2024-01-01T00:00:00Z"}})", {})
                .phase,
            gw::PHASE_STOPPING);
  const std::string terminating =
      R"({"metadata":{"name":"ws-nb-1-a","deletionTimestamp":"2024-01-01T00:00:00Z"}})";
  EXPECT_EQ(Phase(kDeployment, {terminating}).reason, "Restarting");
}

}  // namespace
}  // namespace labkube::gateway

namespace labkube::gateway {
namespace {

TEST(WorkspaceStatusQueueTest, AGatedPodWaitsInLine) {
  PhaseInfo p = Phase(kDeployment, {R"({"metadata":{"name":"ws-nb-5f7-abcde",
      "creationTimestamp":"2024-01-01T00:00:00Z",
      "annotations":{"labkube.io/waiting":"lab/rtx3090"}},
      "spec":{"schedulingGates":[{"name":"labkube.io/queue"}]},
      "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False",
      "reason":"SchedulingGated","message":"Scheduling is blocked due to non-empty scheduling gates"}]}})"});
  EXPECT_EQ(p.phase, gw::PHASE_WAITING);
  EXPECT_EQ(p.reason, "InLine");
  EXPECT_EQ(p.message, "waiting in line for a lab/rtx3090 slot");
  EXPECT_EQ(p.queued_pod, "ws-nb-5f7-abcde");
}

TEST(WorkspaceStatusQueueTest, OtherGatesAreNotTheQueue) {
  PhaseInfo p = Phase(kDeployment, {R"({"metadata":{"name":"ws-nb-5f7-abcde"},
      "spec":{"schedulingGates":[{"name":"example.com/other"}]},
      "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False",
      "reason":"SchedulingGated","message":"blocked"}]}})"});
  EXPECT_EQ(p.phase, gw::PHASE_WAITING);
  EXPECT_EQ(p.reason, "SchedulingGated");
  EXPECT_EQ(p.queued_pod, "");
}

}  // namespace
}  // namespace labkube::gateway
