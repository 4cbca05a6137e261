// SchedulerLabTest: the gtest fixture of the scheduler integration tests. Each test gets
//   - the labkube CRD, namespace labkube-system and PriorityClass applied (k8s/crds, k8s/base),
//   - a clean lab: no Machine, no reservation or guest pod, no labkube marks on any node, no
//     cordoned node, no scheduler Lease (done again at the end, after its schedulers are killed),
//   - a fresh namespace for guest pods (with its default ServiceAccount),
//   - helpers to start schedulers (the real binary, see harness.h), call them over gRPC, create
//     guest pods the way the injector would, and read reservation pods, Machines and Nodes.
// The fixture refuses to run on the shared lab of `./dev.sh up` (the default LABKUBE_STATE) and
// when a scheduler that is not a test's leads on the cluster (e.g. `tools/services.sh up`): run
// these tests against a cluster of their own (`./dev.sh test` does).
// Test-only; one fixture per test, used from the test's main thread (plus the threads a test
// starts for gRPC calls, which only use stubs).
#ifndef LABKUBE_TESTS_INTEGRATION_SCHEDULER_SCHEDULER_LAB_H_
#define LABKUBE_TESTS_INTEGRATION_SCHEDULER_SCHEDULER_LAB_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/kube/rest_client.h"
#include "rapidjson/document.h"
#include "tests/integration/harness.h"

namespace labkube::it {

namespace api = ::labkube::scheduler::v1alpha1;

inline constexpr char kSystemNs[] = "labkube-system";
inline constexpr char kLabMachines[] = "k8s/examples/machine-local-lab.yaml";
inline constexpr absl::Duration kConverge = absl::Seconds(45);

// A reservation or guest pod as the tests see it.
struct PodInfo {
  std::string ns;
  std::string name;
  std::string uid;
  std::string node;  // spec.nodeName ("" until scheduled)
  std::string phase;
  std::string group;
  std::string type;
  bool terminating = false;
};

class SchedulerLabTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts a scheduler (identity "it-<name>-<random>" unless given); owned by the fixture.
  SchedulerProcess* StartScheduler(const std::string& name, SchedulerFlags flags = {});
  std::unique_ptr<api::Scheduler::Stub> Stub(const SchedulerProcess& s);

  // Applies k8s/examples/machine-local-lab.yaml (gpu-machines, cpu-machines).
  void ApplyLabMachines();
  // JSON patch (RFC 6902) of a Machine.
  void PatchMachine(const std::string& name, const std::string& json_patch);

  // Non-terminating reservation pods in labkube-system of `group` (and `type` unless "").
  std::vector<PodInfo> Reservations(const std::string& group, const std::string& type = "");
  // Waits until exactly `n` reservation pods of group/type exist, all Running on a node.
  ::testing::AssertionResult WaitReservations(const std::string& group, const std::string& type,
                                              int n, absl::Duration timeout = kConverge);

  // Machine type usage as the scheduler publishes it.
  absl::StatusOr<api::MachineType> GetType(api::Scheduler::Stub& stub, const std::string& group,
                                           const std::string& type);
  // Waits until GetAvailability shows these reserved/used counts.
  ::testing::AssertionResult WaitUsage(api::Scheduler::Stub& stub, const std::string& group,
                                       const std::string& type, int reserved, int used,
                                       absl::Duration timeout = kConverge);

  // A Claim for a pod of the guest namespace with a fresh admission uid.
  api::ClaimRequest ClaimRequest(const std::string& group, const std::string& type,
                                 const std::string& pod_name);
  grpc::Status Claim(api::Scheduler::Stub& stub, const api::ClaimRequest& request,
                     api::ClaimResponse* response, absl::Duration deadline = absl::Seconds(15));

  // Creates the guest pod the injector would admit for `claim`: requests = limits, required node
  // affinity, tolerations, annotations and labels labkube.io/pod-role=guest + group + type.
  void CreateGuest(const std::string& pod_name, const std::string& group, const std::string& type,
                   const api::ClaimResponse& claim);
  // Waits until the guest pod is Running; returns its node ("" on timeout).
  std::string WaitGuestRunning(const std::string& pod_name, absl::Duration timeout = kConverge);
  void DeleteGuest(const std::string& pod_name);

  rapidjson::Document GetMachine(const std::string& name);
  rapidjson::Document GetNode(const std::string& name);
  // Waits until `pred` holds for the Machine; returns the last object read in *out.
  ::testing::AssertionResult WaitMachine(const std::string& name,
                                         const std::function<bool(const rapidjson::Value&)>& pred,
                                         rapidjson::Document* out = nullptr,
                                         absl::Duration timeout = kConverge);
  // Sets spec.unschedulable of a node (kubectl cordon / uncordon).
  void Cordon(const std::string& node, bool cordoned);

  std::unique_ptr<kube::RestClient> client_;
  std::string guest_ns_;
  std::vector<std::unique_ptr<SchedulerProcess>> schedulers_;

 private:
  bool may_reset_ = false;

  void RefuseForeignLeader();  // and the shared lab
  void EnsureManifests();
  void ResetLab();
  void DeleteMachines();
  void DeleteSlotPods();
  void UnmarkNodes();
  void CreateGuestNamespace();
  void DeleteGuestNamespace(const std::string& ns);
};

// Helpers on Machine/Node objects.
// The entry of status.availableMachines named `type`, or nullptr.
const rapidjson::Value* StatusType(const rapidjson::Value& machine, const std::string& type);
// The entry of status.nodePool named `node`, or nullptr.
const rapidjson::Value* StatusPoolNode(const rapidjson::Value& machine, const std::string& node);
// The status of condition Ready ("" when absent) and its message.
std::string ReadyStatus(const rapidjson::Value& machine, std::string* message = nullptr);
// metadata.labels / annotations of an object, and a node's labkube.io/ taints "key=value:effect".
std::map<std::string, std::string> Labels(const rapidjson::Value& obj);
std::map<std::string, std::string> Annotations(const rapidjson::Value& obj);
std::vector<std::string> LabkubeTaints(const rapidjson::Value& node);

}  // namespace labkube::it

#endif  // LABKUBE_TESTS_INTEGRATION_SCHEDULER_SCHEDULER_LAB_H_
