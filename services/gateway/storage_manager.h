// StorageManager: a member's storage in their namespace:
//   - PVC labkube-cephfs (CephFS, ReadWriteMany): the data volume workspaces mount read-write;
//   - PVC labkube-nfs (NFS, ReadWriteMany): the backup volume, mounted read-only by workspaces;
//   - CronJob labkube-backup: copies the CephFS volume into the NFS volume on a schedule
//     (rsync --delete when the image has rsync, else cp -a), writing LAST_BACKUP there;
//   - ConfigMap labkube-settings: paths, claims and schedule, given to workspaces as env.
// All labelled app.kubernetes.io/managed-by=labkube-gateway, labkube.io/component=storage.
// Create makes what is missing (a retry after a partial failure completes it); Resize only
// grows and checks the StorageClass allows expansion; Delete needs the member's name as
// confirmation and refuses while a workspace uses the volumes (its pod, its Deployment, or a
// Workspace object whose spec mounts them: the controller has not made its Deployment yet).
//
// Ownership: borrows the client. Thread safety: safe from many threads (stateless).
#ifndef LABKUBE_SERVICES_GATEWAY_STORAGE_MANAGER_H_
#define LABKUBE_SERVICES_GATEWAY_STORAGE_MANAGER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "lib/kube/client.h"
#include "services/gateway/access.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

inline constexpr char kCephfsClaim[] = "labkube-cephfs";
inline constexpr char kNfsClaim[] = "labkube-nfs";
inline constexpr char kBackupCronJob[] = "labkube-backup";
inline constexpr char kSettingsConfigMap[] = "labkube-settings";

struct StorageOptions {
  std::string cephfs_storage_class = "cephfs";
  std::string nfs_storage_class = "nfs";
  std::string backup_schedule = "0 3 * * *";
  std::string backup_image = "docker.io/library/busybox:1.36";
  std::string data_mount_path = "/data";
  std::string backup_mount_path = "/backup";
};

// A volume a workspace mounts.
struct Mount {
  std::string claim;
  std::string path;
  bool read_only = false;
};

class StorageManager {
 public:
  StorageManager(kube::Client& client, StorageOptions options);

  // kInvalidArgument for sizes that do not parse; kAlreadyExists when everything exists.
  absl::StatusOr<gw::Storage> Create(const Target& target, std::string_view size,
                                     std::string_view backup_size);
  // kNotFound without storage; kInvalidArgument for a smaller size; kFailedPrecondition when
  // the StorageClass does not allow expansion.
  absl::StatusOr<gw::Storage> Resize(const Target& target, gw::VolumeKind volume,
                                     std::string_view size);
  // Returns "kind/name" of what was deleted. kInvalidArgument without confirmation,
  // kFailedPrecondition while in use, kNotFound when there was nothing.
  absl::StatusOr<std::vector<std::string>> Delete(const Target& target, std::string_view confirm,
                                                  bool keep_backup);
  absl::StatusOr<gw::Storage> Get(const Target& target);
  // The member's volumes that exist, for workspaces to mount.
  absl::StatusOr<std::vector<Mount>> Mounts(const std::string& ns);
  // The settings ConfigMap's name (workspaces use it as optional envFrom).
  static const char* SettingsName() { return kSettingsConfigMap; }

  const StorageOptions& options() const { return options_; }

 private:
  // kFailedPrecondition naming them while pods, workspace Deployments or Workspace objects
  // (spec.volumes) use the volumes.
  absl::Status CheckNotInUse(const std::string& ns);
  absl::Status CheckExpandable(const std::string& storage_class);
  absl::Status ResizeOne(const Target& target, gw::VolumeKind kind, std::string_view size,
                         int64_t bytes, bool apply);

  kube::Client& client_;
  const StorageOptions options_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_STORAGE_MANAGER_H_
