// The gateway's WorkspaceController (run in this process, as the gateway runs it) against the
// local control plane (tests/cluster/cluster.sh: a real kube-apiserver, and
// kube-controller-manager whose garbage collector deletes what a Workspace owns):
//   a Workspace applied with kubectl gets its Deployment, Service, Ingress and Secret, and a
//   status that `kubectl get workspaces` shows; a deleted Service comes back; a half-made
//   workspace (a controller that died after the Deployment) is finished by the next one;
//   deleting the Workspace deletes its objects; a member may write Workspaces in its own
//   namespace only.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "services/gateway/testing/fakes.h"
#include "services/gateway/workspace_controller.h"
#include "services/gateway/workspace_object.h"
#include "services/gateway/workspace_spec.h"
#include "tests/integration/harness.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

const absl::Duration kWait = absl::Seconds(60);

std::string WorkspaceYaml(const std::string& ns, const std::string& name) {
  return absl::StrCat(R"(apiVersion: labkube.io/v1alpha1
kind: Workspace
metadata: {name: )", name, ", namespace: ", ns, R"(}
spec:
  kind: jupyterlab
  machine: {group: lab, type: cpu}
  image: docker.io/library/busybox:1.36
)");
}

class WorkspaceControllerIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(it::ApplyFile(it::Runfile("k8s/crds/workspaces.labkube.io.yaml")).ok());
    ASSERT_TRUE(it::ApplyFile(it::Runfile("k8s/authenticator/member-roles.yaml")).ok());
    ASSERT_TRUE(it::Kubectl({"wait", "--for=condition=Established", "crd/workspaces.labkube.io",
                             "--timeout=30s"})
                    .ok());
  }

  void SetUp() override {
    auto client = it::ClusterClient();
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    member_ = it::UniqueName("it-ws");
    ns_ = "lab-" + member_;
    ASSERT_TRUE(it::Kubectl({"create", "namespace", ns_}).ok());
    availability_.Set({testing::TestType("lab", "cpu", 0, "", 4, 4)});
  }

  void TearDown() override {
    StopController();
    (void)it::Kubectl({"delete", "namespace", ns_, "--wait=false"});
    for (const std::string& other : others_) {
      (void)it::Kubectl({"delete", "namespace", other, "--wait=false"});
    }
  }

  void StartController() {
    WorkspaceControllerOptions o;
    o.retry_after = absl::Milliseconds(200);
    controller_ = std::make_unique<WorkspaceController>(
        *client_, availability_, Clock::Real(), [] { return true; }, WorkspaceOptions(), o);
    controller_->Start();
    ASSERT_TRUE(controller_->WaitForSync(absl::Now() + absl::Seconds(30)));
  }
  void StopController() {
    if (controller_) controller_->Stop();
    controller_.reset();
  }

  std::string Uid(const kube::Resource& r, const std::string& name) {
    absl::StatusOr<rapidjson::Document> o = client_->Get(r, ns_, name);
    return o.ok() ? std::string(json::GetString(*o, {"metadata", "uid"})) : "";
  }

  bool OwnedBy(const kube::Resource& r, const std::string& name, const std::string& owner) {
    absl::StatusOr<rapidjson::Document> o = client_->Get(r, ns_, name);
    if (!o.ok()) return false;
    const rapidjson::Value* refs = json::Find(*o, {"metadata", "ownerReferences"});
    return refs != nullptr && refs->IsArray() && refs->Size() == 1 &&
           json::GetString((*refs)[0], {"uid"}) == owner;
  }

  bool AllFour(const std::string& ws, const std::string& uid) {
    const std::string name = "ws-" + ws;
    return OwnedBy(res::Deployments(), name, uid) && OwnedBy(res::Services(), name, uid) &&
           OwnedBy(res::Ingresses(), name, uid) && OwnedBy(res::Secrets(), name + "-token", uid);
  }

  bool NoneLeft(const std::string& ws) {
    const std::string name = "ws-" + ws;
    for (auto [r, n] : {std::pair{&res::Deployments(), name}, {&res::Services(), name},
                        {&res::Ingresses(), name}, {&res::Secrets(), name + "-token"}}) {
      if (!absl::IsNotFound(client_->Get(*r, ns_, n).status())) return false;
    }
    return true;
  }

  std::unique_ptr<kube::RestClient> client_;
  std::string member_;
  std::string ns_;
  std::vector<std::string> others_;
  testing::FakeAvailability availability_;
  std::unique_ptr<WorkspaceController> controller_;
};

TEST_F(WorkspaceControllerIT, KubectlWorkspaceIsMadeHealedAndDeletedWithItsObjects) {
  StartController();
  ASSERT_TRUE(it::ApplyYaml(WorkspaceYaml(ns_, "nb")).ok());
  const std::string uid = Uid(WorkspaceResource(), "nb");
  ASSERT_FALSE(uid.empty());
  ASSERT_TRUE(it::WaitFor([&] { return AllFour("nb", uid); }, kWait));

  // Status, and the printer columns.
  ASSERT_TRUE(it::WaitFor(
      [&] {
        auto ws = client_->Get(WorkspaceResource(), ns_, "nb");
        return ws.ok() && !ReadStatus(*ws).url.empty() && ReadStatus(*ws).observed_generation == 1;
      },
      kWait));
  absl::StatusOr<std::string> table = it::Kubectl({"get", "workspaces", "-n", ns_});
  ASSERT_TRUE(table.ok()) << table.status();
  for (const char* column : {"PHASE", "TYPE", "NODE", "URL"}) {
    EXPECT_TRUE(absl::StrContains(*table, column)) << *table;
  }
  EXPECT_TRUE(absl::StrContains(*table, "cpu")) << *table;
  EXPECT_TRUE(absl::StrContains(*table, absl::StrCat("https://labkube.local/", member_, "/nb/")))
      << *table;

  // A Service deleted by hand comes back (a new object, the Workspace's).
  const std::string service_uid = Uid(res::Services(), "ws-nb");
  ASSERT_TRUE(it::Kubectl({"delete", "service", "ws-nb", "-n", ns_}).ok());
  EXPECT_TRUE(it::WaitFor(
      [&] {
        std::string now = Uid(res::Services(), "ws-nb");
        return !now.empty() && now != service_uid && OwnedBy(res::Services(), "ws-nb", uid);
      },
      kWait));

  // Deleting the Workspace deletes everything it owns (kube-controller-manager's GC).
  ASSERT_TRUE(it::Kubectl({"delete", "workspace", "nb", "-n", ns_}).ok());
  EXPECT_TRUE(it::WaitFor([&] { return NoneLeft("nb"); }, kWait));
}

TEST_F(WorkspaceControllerIT, AHalfMadeWorkspaceIsFinishedOrCleaned) {
  // A controller that died after making the Deployment of "half"...
  ASSERT_TRUE(it::ApplyYaml(WorkspaceYaml(ns_, "half")).ok());
  const std::string uid = Uid(WorkspaceResource(), "half");
  ASSERT_FALSE(uid.empty());
  WorkspaceSpec spec;
  spec.member = member_;
  spec.ns = ns_;
  spec.name = "half";
  spec.group = "lab";
  spec.type = "cpu";
  spec.image = "docker.io/library/busybox:1.36";
  spec.settings_config_map = "labkube-settings";
  Route(WorkspaceOptions(), spec);
  absl::StatusOr<rapidjson::Document> made =
      client_->Create(res::Deployments(), ns_, BuildDeployment(spec, {"half", uid}).value());
  ASSERT_TRUE(made.ok()) << made.status();
  // ...and one that died after making the Deployment and Secret of "gone", whose Workspace
  // was then deleted while no controller ran.
  ASSERT_TRUE(it::ApplyYaml(WorkspaceYaml(ns_, "gone")).ok());
  const std::string gone_uid = Uid(WorkspaceResource(), "gone");
  spec.name = "gone";
  Route(WorkspaceOptions(), spec);
  made = client_->Create(res::Deployments(), ns_, BuildDeployment(spec, {"gone", gone_uid}).value());
  ASSERT_TRUE(made.ok()) << made.status();
  made = client_->Create(res::Secrets(), ns_, BuildSecret(spec, {"gone", gone_uid}, "t").value());
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_TRUE(it::Kubectl({"delete", "workspace", "gone", "-n", ns_}).ok());

  StartController();  // the next leader
  EXPECT_TRUE(it::WaitFor([&] { return AllFour("half", uid); }, kWait));
  EXPECT_TRUE(it::WaitFor([&] { return NoneLeft("gone"); }, kWait));
}

TEST_F(WorkspaceControllerIT, AMemberWritesWorkspacesInItsOwnNamespaceOnly) {
  // The member's ServiceAccount and binding, as the authenticator makes them.
  ASSERT_TRUE(it::Kubectl({"create", "serviceaccount", member_, "-n", ns_}).ok());
  ASSERT_TRUE(it::Kubectl({"create", "rolebinding", "labkube-member", "-n", ns_,
                           "--clusterrole=labkube-member",
                           absl::StrCat("--serviceaccount=", ns_, ":", member_)})
                  .ok());
  const std::string other = "lab-" + it::UniqueName("it-ws-other");
  others_.push_back(other);
  ASSERT_TRUE(it::Kubectl({"create", "namespace", other}).ok());
  const std::string as = absl::StrCat("--as=system:serviceaccount:", ns_, ":", member_);
  // RBAC is evaluated at once; the binding may take a moment to reach the authorizer's cache.
  absl::StatusOr<std::string> own;
  ASSERT_TRUE(it::WaitFor(
      [&] {
        own = it::Kubectl({"auth", "can-i", "create", "workspaces.labkube.io", "-n", ns_, as});
        return own.ok();
      },
      kWait))
      << own.status();
  const std::string path = absl::StrCat(it::OutputDir(), "/", member_, "-ws.yaml");
  for (const std::string& ns : {ns_, other}) {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(WorkspaceYaml(ns, "mine").c_str(), f);
    std::fclose(f);
    absl::StatusOr<std::string> created = it::Kubectl({"create", "-f", path, as});
    if (ns == ns_) {
      EXPECT_TRUE(created.ok()) << created.status();
    } else {
      ASSERT_FALSE(created.ok());
      EXPECT_TRUE(absl::StrContains(created.status().message(), "forbidden")) << created.status();
    }
  }
  EXPECT_TRUE(client_->Get(WorkspaceResource(), ns_, "mine").ok());
  EXPECT_TRUE(absl::IsNotFound(client_->Get(WorkspaceResource(), other, "mine").status()));
  // Nor may a member write the status the controller owns.
  absl::StatusOr<std::string> status = it::Kubectl(
      {"auth", "can-i", "patch", "workspaces.labkube.io", "--subresource=status", "-n", ns_, as});
  EXPECT_FALSE(status.ok()) << *status;
}

}  // namespace
}  // namespace labkube::gateway
