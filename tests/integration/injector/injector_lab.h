// InjectorLabTest: the fixture of the injector integration tests: the real kube-apiserver calling
// the real injector binary (//services/injector:injector) over HTTPS, which claims slots from the
// real scheduler binary over plaintext loopback gRPC; kube-scheduler places the pods and kwok
// runs them. Each test gets (on top of WebhookLabTest, webhook_lab.h)
//   - a scheduler (StartScheduler from the harness, identity "it-inj-<random>"),
//   - the injector on 127.0.0.1:<free port> with the test's serving certificate, ready,
//   - namespace ns_ labelled labkube.io/inject-resource=enabled,
//   - Machine group_ (a name unique to the run) over the GPU nodes of tests/cluster/nodes.yaml
//     with the machine types of k8s/examples/machine-local-lab.yaml (kType: 2 slots of one
//     RTX 3090), its reservation pods Running and the scheduler showing them as reserved,
//   - the webhook registered for the injector and answering.
// TearDown deletes the webhook, the namespaces, then the Machine (with a scheduler running:
// the one of the test, or a new one on the same ports if the test killed it) and waits until the
// scheduler has cleaned up (Machine gone, its reservation pods gone, nodes without labkube
// taints/labels); what it did not clean up in time fails the test and is removed by force.
// Finally the processes are stopped (their log tails printed when the test failed) and the
// scheduler Lease deleted.
//
// SetUp refuses clusters with a Machine that is not one of these tests' (the group spans the GPU
// nodes) and a scheduler that is not ours leading (Lease labkube-system/labkube-scheduler).
// Test-only; one fixture per test, used from the test's main thread.
#ifndef LABKUBE_TESTS_INTEGRATION_INJECTOR_INJECTOR_LAB_H_
#define LABKUBE_TESTS_INTEGRATION_INJECTOR_INJECTOR_LAB_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "tests/integration/harness.h"
#include "tests/integration/injector/webhook_lab.h"

namespace labkube::it {

namespace api = ::labkube::scheduler::v1alpha1;

inline constexpr char kSystemNs[] = "labkube-system";
inline constexpr char kType[] = "rtx3090-x1";  // 2 slots: 1 GPU, 4 cpu, 16Gi
inline constexpr int kTypeSlots = 2;
// The webhook's timeoutSeconds (k8s/injector/webhook.yaml).
inline constexpr absl::Duration kWebhookTimeout = absl::Seconds(10);

struct Usage {
  int reserved = -1;
  int used = -1;
  bool operator==(const Usage&) const = default;
};

// The local control plane's CA (tests/cluster/cluster.sh: $LABKUBE_STATE/pki/ca.crt), which signed
// the client certificate the API server presents to webhooks.
std::string ClusterCa();

class InjectorLabTest : public WebhookLabTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // GetAvailability of `type` in group_.
  absl::StatusOr<api::MachineType> Availability(const std::string& type = kType);
  absl::StatusOr<Usage> GetUsage(const std::string& type = kType);
  ::testing::AssertionResult WaitUsage(Usage want, const std::string& type = kType,
                                       absl::Duration timeout = kConverge);
  // Checks that the usage stays `want` for `period` (polling).
  ::testing::AssertionResult StaysUsage(Usage want, absl::Duration period,
                                        const std::string& type = kType);

  // Names and UIDs ("name/uid") of group_'s non-terminating reservation pods, sorted.
  std::vector<std::string> ReservationPods();

  // Waits until pod ns/name is Running on a node; returns the pod (null on timeout, failing).
  rapidjson::Document WaitRunning(const std::string& ns, const std::string& name,
                                  absl::Duration timeout = kConverge);

  // The injector's GET <path> over HTTPS with the test CA: status and body (0 when unreachable).
  std::pair<int, std::string> InjectorGet(const std::string& path);

  // SIGKILLs the scheduler; RestartScheduler starts one again on the same ports (so the injector
  // finds it where it was), deleting the dead leader's Lease first.
  void KillScheduler();
  void RestartScheduler();

  std::string group_;
  std::string ns_;
  std::unique_ptr<SchedulerProcess> scheduler_;
  std::unique_ptr<Process> injector_;
  int injector_port_ = 0;

 private:
  void RefuseForeignState();
  void MakeSchedulerAccount();
  void EnsureManifests();
  void StartInjector();
  void ApplyMachine();
  void CleanUpMachine();
  void ForceCleanUp();
  bool NodesClean(std::string* why);
  void StopProcesses();

  std::string identity_;
  std::string scheduler_kubeconfig_;  // a labkube-system ServiceAccount's (MakeSchedulerAccount)
  int scheduler_grpc_port_ = 0;
  int scheduler_http_port_ = 0;
  std::unique_ptr<api::Scheduler::Stub> stub_;
};

}  // namespace labkube::it

#endif  // LABKUBE_TESTS_INTEGRATION_INJECTOR_INJECTOR_LAB_H_
