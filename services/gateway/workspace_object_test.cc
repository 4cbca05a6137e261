#include "services/gateway/workspace_object.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;

WorkspaceRequest Request() {
  WorkspaceRequest r;
  r.kind = gw::WORKSPACE_KIND_CODESERVER;
  r.group = "lab";
  r.type = "rtx3090";
  r.image = "docker.io/me/ide:1";
  r.image_pull_secrets = {"regcred"};
  r.volumes = {{"labkube-nfs", "/backup", true}, {"labkube-cephfs", "/data", false}};
  return r;
}

TEST(WorkspaceObjectTest, BuildAndParseAgree) {
  rapidjson::Document o = BuildWorkspace("lab-alice", "nb", "alice", Request()).value();
  EXPECT_EQ(json::GetString(o, {"apiVersion"}), "labkube.io/v1alpha1");
  EXPECT_EQ(json::GetString(o, {"kind"}), "Workspace");
  EXPECT_EQ(json::GetString(o, {"metadata", "labels", "labkube.io/user"}), "alice");
  EXPECT_EQ(json::GetString(o, {"spec", "kind"}), "codeserver");
  absl::StatusOr<WorkspaceRequest> back = ParseWorkspaceSpec(o);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, gw::WORKSPACE_KIND_CODESERVER);
  EXPECT_EQ(back->group, "lab");
  EXPECT_EQ(back->type, "rtx3090");
  EXPECT_EQ(back->image, "docker.io/me/ide:1");
  EXPECT_EQ(back->image_pull_secrets, std::vector<std::string>{"regcred"});
  ASSERT_EQ(back->volumes.size(), 2u);
  EXPECT_EQ(back->volumes[0].claim, "labkube-nfs");
  EXPECT_TRUE(back->volumes[0].read_only);
  EXPECT_EQ(back->volumes[1].path, "/data");
}

TEST(WorkspaceObjectTest, BadSpecsNameTheField) {
  auto expect = [](const std::string& spec, const std::string& prefix) {
    auto o = json::Parse(R"({"metadata":{"name":"nb"},"spec":)" + spec + "}");
    ASSERT_TRUE(o.ok());
    absl::StatusOr<WorkspaceRequest> r = ParseWorkspaceSpec(*o);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    EXPECT_EQ(std::string(r.status().message()).substr(0, prefix.size()), prefix) << r.status();
  };
  expect(R"({"kind":"vim","machine":{"type":"cpu"}})", "spec.kind:");
  expect(R"({"kind":"jupyterlab","machine":{}})", "spec.machine.type is required");
  expect(R"({"kind":"jupyterlab","machine":{"type":"cpu","group":"Lab!"}})", "spec.machine.group:");
  expect(R"({"kind":"jupyterlab","machine":{"type":"cpu"},"image":"a b"})", "spec.image:");
  expect(R"({"kind":"jupyterlab","machine":{"type":"cpu"},"imagePullSecrets":[{"name":"A_B"}]})",
         "spec.imagePullSecrets[0].name:");
  expect(R"({"kind":"jupyterlab","machine":{"type":"cpu"},"volumes":[{"claimName":"c",
      "mountPath":"data"}]})",
         "spec.volumes[0].mountPath:");
  expect(R"({"kind":"jupyterlab","machine":{"type":"cpu"},"volumes":[{"claimName":"c",
      "mountPath":"/a/../etc"}]})",
         "spec.volumes[0].mountPath:");
}

TEST(WorkspaceObjectTest, StatusRoundTripsThroughItsPatch) {
  WorkspaceStatus s;
  s.observed_generation = 3;
  s.phase = gw::PHASE_RUNNING;
  s.node = "gpu-1";
  s.machine_group = "lab";
  s.gpu_model = "A100";
  s.gpu_count = 2;
  s.url = "https://x/alice/nb/";
  s.conditions = {{"Ready", "True", "Running", "", "2024-05-01T03:00:00Z"}};
  auto patch = json::Parse(StatusPatch(s).value());
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(ReadStatus(*patch), s);
  EXPECT_EQ(json::GetString(*patch, {"status", "phase"}), "Running");
}

TEST(WorkspaceObjectTest, ViewWithoutStatusIsPendingAndDeletingIsStopping) {
  rapidjson::Document o = BuildWorkspace("lab-alice", "nb", "alice", Request()).value();
  json::SetString(o, {"metadata", "creationTimestamp"}, "2024-05-01T03:00:00Z");
  absl::Time now = absl::FromUnixSeconds(1714532400 + 90);
  gw::Workspace w = WorkspaceView(o, "alice", now);
  EXPECT_EQ(w.phase(), gw::PHASE_STARTING);
  EXPECT_EQ(w.reason(), "Pending");
  EXPECT_EQ(w.machine_group(), "lab");
  EXPECT_EQ(w.age_seconds(), 90);
  ASSERT_EQ(w.volumes_size(), 2);
  json::SetString(o, {"metadata", "deletionTimestamp"}, "2024-05-01T03:01:00Z");
  EXPECT_EQ(WorkspaceView(o, "alice", now).phase(), gw::PHASE_STOPPING);
  for (gw::Phase p : {gw::PHASE_WAITING, gw::PHASE_STARTING, gw::PHASE_RUNNING, gw::PHASE_FAILED,
                      gw::PHASE_STOPPING}) {
    EXPECT_EQ(PhaseFromName(PhaseName(p)), p);
  }
}

}  // namespace
}  // namespace labkube::gateway
