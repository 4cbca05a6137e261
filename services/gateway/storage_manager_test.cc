#include "services/gateway/storage_manager.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "services/gateway/workspace_object.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

const kube::Resource kStorageClasses{"storage.k8s.io", "v1", "storageclasses", "StorageClass",
                                     false};

class StorageManagerTest : public ::testing::Test {
 protected:
  void AddStorageClass(const std::string& name, bool expandable) {
    rapidjson::Document sc = json::NewObject("storage.k8s.io/v1", "StorageClass", "", name);
    json::SetBool(sc, {"allowVolumeExpansion"}, expandable);
    ASSERT_TRUE(kube_.Create(kStorageClasses, "", sc).ok());
  }
  std::string Size(const char* claim) {
    auto pvc = kube_.Get(res::PersistentVolumeClaims(), "lab-alice", claim);
    return pvc.ok()
               ? std::string(json::GetString(*pvc, {"spec", "resources", "requests", "storage"}))
               : "";
  }
  void AddPod(const std::string& name, const std::string& workspace, const char* claim) {
    rapidjson::Document pod = json::NewObject("v1", "Pod", "lab-alice", name);
    if (!workspace.empty())
      json::SetString(pod, {"metadata", "labels", "labkube.io/workspace"}, workspace);
    auto spec = json::Parse(
        std::string(R"({"volumes":[{"name":"v","persistentVolumeClaim":{"claimName":")") + claim +
        "\"}}]}");
    json::SetValue(pod, {"spec"}, *spec);
    ASSERT_TRUE(kube_.Create(res::Pods(), "lab-alice", pod).ok());
  }

  kube::testing::FakeClient kube_;
  StorageOptions options_;
  StorageManager storage_{kube_, options_};
  const Target alice_{"alice", "lab-alice"};
};

TEST_F(StorageManagerTest, CreateMakesVolumesBackupAndSettings) {
  absl::StatusOr<gw::Storage> s = storage_.Create(alice_, "10Gi", "");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->volumes_size(), 2);
  EXPECT_EQ(s->volumes(0).kind(), gw::VOLUME_KIND_CEPHFS);
  EXPECT_EQ(s->volumes(0).storage_class(), "cephfs");
  EXPECT_EQ(s->volumes(0).size(), "10Gi");
  EXPECT_EQ(s->volumes(0).phase(), "Pending");
  EXPECT_EQ(s->volumes(0).mount_path(), "/data");
  EXPECT_EQ(s->volumes(1).storage_class(), "nfs");
  EXPECT_EQ(s->backup().schedule(), "0 3 * * *");
  EXPECT_FALSE(s->backup().has_last_success());
  EXPECT_EQ(s->settings_config_map(), "labkube-settings");

  auto cron = kube_.Get(res::CronJobs(), "lab-alice", "labkube-backup");
  ASSERT_TRUE(cron.ok());
  const rapidjson::Value* pod =
      json::Find(*cron, {"spec", "jobTemplate", "spec", "template", "spec"});
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(json::GetString((*pod)["containers"][0], {"image"}), "docker.io/library/busybox:1.36");
  EXPECT_EQ(json::GetString((*pod)["volumes"][0], {"persistentVolumeClaim", "claimName"}),
            "labkube-cephfs");
  EXPECT_TRUE(json::GetBool((*pod)["volumes"][0], {"persistentVolumeClaim", "readOnly"}));
  EXPECT_EQ(json::GetString((*pod)["volumes"][1], {"persistentVolumeClaim", "claimName"}),
            "labkube-nfs");
  auto pvc = kube_.Get(res::PersistentVolumeClaims(), "lab-alice", "labkube-cephfs");
  EXPECT_EQ(json::GetString(*pvc, {"metadata", "labels", "app.kubernetes.io/managed-by"}),
            "labkube-gateway");
  EXPECT_STREQ((*pvc)["spec"]["accessModes"][0].GetString(), "ReadWriteMany");
}

TEST_F(StorageManagerTest, CreateTwiceIsAlreadyExistsButCompletesPartialStorage) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "20Gi").ok());
  EXPECT_EQ(Size("labkube-nfs"), "20Gi");
  EXPECT_EQ(storage_.Create(alice_, "10Gi", "").status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(kube_.Delete(res::CronJobs(), "lab-alice", "labkube-backup").ok());
  EXPECT_TRUE(storage_.Create(alice_, "10Gi", "").ok());
  EXPECT_TRUE(kube_.Get(res::CronJobs(), "lab-alice", "labkube-backup").ok());
}

TEST_F(StorageManagerTest, BadSizesNameTheField) {
  absl::StatusOr<gw::Storage> s = storage_.Create(alice_, "lots", "");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().substr(0, 5), "size:");
  s = storage_.Create(alice_, "1Gi", "x");
  EXPECT_EQ(s.status().message().substr(0, 12), "backup_size:");
  EXPECT_FALSE(kube_.Get(res::PersistentVolumeClaims(), "lab-alice", "labkube-cephfs").ok());
}

TEST_F(StorageManagerTest, ResizeGrowsOnlyAndChecksTheStorageClass) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "").ok());
  absl::StatusOr<gw::Storage> r = storage_.Resize(alice_, gw::VOLUME_KIND_CEPHFS, "20Gi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("StorageClass cephfs does not exist"), std::string::npos);
  AddStorageClass("cephfs", false);
  r = storage_.Resize(alice_, gw::VOLUME_KIND_CEPHFS, "20Gi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("does not allow volume expansion"), std::string::npos);
  ASSERT_TRUE(kube_.Delete(kStorageClasses, "", "cephfs").ok());
  AddStorageClass("cephfs", true);
  r = storage_.Resize(alice_, gw::VOLUME_KIND_CEPHFS, "20Gi");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Size("labkube-cephfs"), "20Gi");
  EXPECT_EQ(Size("labkube-nfs"), "10Gi");
  r = storage_.Resize(alice_, gw::VOLUME_KIND_CEPHFS, "5Gi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("volumes can only grow"), std::string::npos);
  // Both: the NFS class does not allow expansion, so neither changes.
  AddStorageClass("nfs", false);
  r = storage_.Resize(alice_, gw::VOLUME_KIND_UNSPECIFIED, "30Gi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Size("labkube-cephfs"), "20Gi");
}

TEST_F(StorageManagerTest, ResizeWithoutStorageIsNotFound) {
  absl::StatusOr<gw::Storage> r = storage_.Resize(alice_, gw::VOLUME_KIND_NFS, "1Gi");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("labctl storage create"), std::string::npos);
}

TEST_F(StorageManagerTest, DeleteNeedsConfirmationAndNoWorkspace) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "").ok());
  auto d = storage_.Delete(alice_, "", false);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message().substr(0, 8), "confirm:");
  AddPod("ws-nb-abc-12345", "nb", "labkube-cephfs");
  d = storage_.Delete(alice_, "alice", false);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("workspace nb"), std::string::npos);
  ASSERT_TRUE(kube_.Delete(res::Pods(), "lab-alice", "ws-nb-abc-12345").ok());
  d = storage_.Delete(alice_, "alice", true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->size(), 3u);
  EXPECT_TRUE(kube_.Get(res::PersistentVolumeClaims(), "lab-alice", "labkube-nfs").ok());
  EXPECT_FALSE(kube_.Get(res::PersistentVolumeClaims(), "lab-alice", "labkube-cephfs").ok());
  d = storage_.Delete(alice_, "alice", false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, std::vector<std::string>{"PersistentVolumeClaim/labkube-nfs"});
  EXPECT_EQ(storage_.Delete(alice_, "alice", false).status().code(), absl::StatusCode::kNotFound);
}

// Between StartWorkspace (the Workspace object) and the controller's Deployment, the Workspace
// itself holds the storage.
TEST_F(StorageManagerTest, DeleteIsRefusedWhileAWorkspaceObjectMountsTheStorage) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "").ok());
  absl::StatusOr<std::vector<Mount>> mounts = storage_.Mounts("lab-alice");
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  WorkspaceRequest request;
  request.kind = gw::WORKSPACE_KIND_JUPYTERLAB;
  request.type = "rtx3090";
  request.volumes = *mounts;
  absl::StatusOr<rapidjson::Document> ws = BuildWorkspace("lab-alice", "nb", "alice", request);
  ASSERT_TRUE(ws.ok()) << ws.status();
  ASSERT_TRUE(kube_.Create(res::Workspaces(), "lab-alice", *ws).ok());
  WorkspaceRequest bare = request;  // one that mounts nothing does not count
  bare.volumes.clear();
  absl::StatusOr<rapidjson::Document> other = BuildWorkspace("lab-alice", "bare", "alice", bare);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(kube_.Create(res::Workspaces(), "lab-alice", *other).ok());

  auto d = storage_.Delete(alice_, "alice", false);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("in use by workspace nb:"), std::string::npos)
      << d.status();
  EXPECT_TRUE(kube_.Get(res::PersistentVolumeClaims(), "lab-alice", "labkube-cephfs").ok());

  ASSERT_TRUE(kube_.Delete(res::Workspaces(), "lab-alice", "nb").ok());
  d = storage_.Delete(alice_, "alice", false);
  EXPECT_TRUE(d.ok()) << d.status();
}

TEST(WorkspaceResourceTest, IsTheOneStorageManagerLists) {
  const kube::Resource& a = WorkspaceResource();
  const kube::Resource& b = res::Workspaces();
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.plural, b.plural);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.namespaced, b.namespaced);
}

TEST_F(StorageManagerTest, ClaimsAndSettingsCarryTheirFields) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "20Gi").ok());
  auto nfs = kube_.Get(res::PersistentVolumeClaims(), "lab-alice", "labkube-nfs");
  ASSERT_TRUE(nfs.ok());
  EXPECT_EQ(json::GetString(*nfs, {"kind"}), "PersistentVolumeClaim");
  EXPECT_EQ(json::GetString(*nfs, {"spec", "storageClassName"}), "nfs");
  EXPECT_EQ(json::GetString(*nfs, {"spec", "resources", "requests", "storage"}), "20Gi");
  EXPECT_EQ(json::GetString(*nfs, {"metadata", "labels", "labkube.io/volume"}), "nfs");
  EXPECT_EQ(json::GetString(*nfs, {"metadata", "labels", "labkube.io/component"}), "storage");
  EXPECT_EQ(json::GetString(*nfs, {"metadata", "labels", "labkube.io/user"}), "alice");
  auto cm = kube_.Get(res::ConfigMaps(), "lab-alice", "labkube-settings");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(json::GetString(*cm, {"data", "LABKUBE_MEMBER"}), "alice");
  EXPECT_EQ(json::GetString(*cm, {"data", "LABKUBE_DATA_DIR"}), "/data");
  EXPECT_EQ(json::GetString(*cm, {"data", "LABKUBE_BACKUP_CLAIM"}), "labkube-nfs");
  EXPECT_EQ(json::GetString(*cm, {"data", "LABKUBE_BACKUP_SCHEDULE"}), "0 3 * * *");
  auto cron = kube_.Get(res::CronJobs(), "lab-alice", "labkube-backup");
  ASSERT_TRUE(cron.ok());
  EXPECT_EQ(json::GetString(*cron, {"spec", "concurrencyPolicy"}), "Forbid");
  EXPECT_EQ(json::GetString(*cron, {"metadata", "labels", "labkube.io/role"}), "backup");
  EXPECT_EQ(json::GetString(*cron, {"spec", "jobTemplate", "spec", "template", "metadata", "labels",
                                    "labkube.io/role"}),
            "backup");
  const rapidjson::Value* c =
      json::Find(*cron, {"spec", "jobTemplate", "spec", "template", "spec", "containers"});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)[0]["command"].Size(), 3u);
  EXPECT_NE(json::View((*c)[0]["command"][2]).find("rsync -a --delete"), std::string::npos);
}

// Options and member names are values: quotes, backslashes and `"}` stay inside their strings.
TEST_F(StorageManagerTest, HostileValuesAreEscapedNotSpliced) {
  const std::string evil = R"(x"},"kind":"Pod","spec":{"hostPID":true},"z":"\\)";
  StorageOptions o;
  o.cephfs_storage_class = evil;
  o.backup_schedule = evil;
  o.backup_image = evil;
  o.data_mount_path = evil;
  StorageManager storage(kube_, o);
  const Target t{evil, "lab-evil"};
  ASSERT_TRUE(storage.Create(t, "1Gi", "").ok());
  auto pvc = kube_.Get(res::PersistentVolumeClaims(), "lab-evil", "labkube-cephfs");
  ASSERT_TRUE(pvc.ok());
  EXPECT_EQ(json::GetString(*pvc, {"kind"}), "PersistentVolumeClaim");
  EXPECT_EQ(json::GetString(*pvc, {"spec", "storageClassName"}), evil);
  EXPECT_EQ(json::GetString(*pvc, {"metadata", "labels", "labkube.io/user"}), evil);
  EXPECT_EQ((*pvc)["metadata"]["labels"].MemberCount(), 4u);
  EXPECT_EQ(json::Find(*pvc, {"spec", "hostPID"}), nullptr);
  auto cron = kube_.Get(res::CronJobs(), "lab-evil", "labkube-backup");
  ASSERT_TRUE(cron.ok());
  EXPECT_EQ(json::GetString(*cron, {"kind"}), "CronJob");
  EXPECT_EQ(json::GetString(*cron, {"spec", "schedule"}), evil);
  EXPECT_EQ(
      json::GetString((*cron)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0],
                      {"image"}),
      evil);
  auto cm = kube_.Get(res::ConfigMaps(), "lab-evil", "labkube-settings");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(json::GetString(*cm, {"data", "LABKUBE_MEMBER"}), evil);
  EXPECT_EQ(json::GetString(*cm, {"data", "LABKUBE_DATA_DIR"}), evil);
  EXPECT_EQ((*cm)["data"].MemberCount(), 6u);
  // The text written reads back to the same document.
  auto back = json::Parse(json::ToString(*cm));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(json::GetString(*back, {"data", "LABKUBE_MEMBER"}), evil);
}

TEST_F(StorageManagerTest, GetShowsPhaseCapacityAndLastBackup) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "").ok());
  kube::PatchOptions status;
  status.subresource = "status";
  ASSERT_TRUE(kube_
                  .Patch(res::PersistentVolumeClaims(), "lab-alice", "labkube-cephfs",
                         kube::PatchType::kMergePatch,
                         R"({"status":{"phase":"Bound","capacity":{"storage":"10Gi"}}})", status)
                  .ok());
  ASSERT_TRUE(kube_
                  .Patch(res::CronJobs(), "lab-alice", "labkube-backup",
                         kube::PatchType::kMergePatch,
                         R"({"status":{"lastSuccessfulTime":"2024-05-01T03:00:00Z"}})", status)
                  .ok());
  absl::StatusOr<gw::Storage> s = storage_.Get(alice_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->volumes(0).phase(), "Bound");
  EXPECT_EQ(s->volumes(0).capacity(), "10Gi");
  EXPECT_FALSE(s->volumes(0).resizing());
  EXPECT_EQ(s->backup().last_success().seconds(), 1714532400);
  EXPECT_EQ(storage_.Mounts("lab-alice")->size(), 2u);
  EXPECT_TRUE(storage_.Mounts("lab-alice")->at(1).read_only);
  EXPECT_TRUE(storage_.Mounts("lab-bob")->empty());
}

}  // namespace
}  // namespace labkube::gateway
