#include "services/gateway/storage_manager.h"

#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/quantity.h"
#include "lib/kube/resource.h"
#include "lib/status_macros.h"
#include "services/gateway/names.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

const kube::Resource& StorageClasses() {
  static const kube::Resource* r =
      new kube::Resource{"storage.k8s.io", "v1", "storageclasses", "StorageClass", false};
  return *r;
}

// The labels of everything the storage is made of, plus `extra`.
kube::StringMap StorageLabels(const Target& t, kube::StringMap extra = {}) {
  extra[contract::kManagedByLabel] = contract::kManagedByGateway;
  extra[contract::kComponentLabel] = "storage";
  extra[contract::kUserLabel] = t.member;
  return extra;
}

kube::ObjectMeta StorageMeta(const Target& t, std::string name, kube::StringMap labels) {
  kube::ObjectMeta meta;
  meta.name = std::move(name);
  meta.namespace_ = t.ns;
  meta.labels = std::move(labels);
  return meta;
}

absl::StatusOr<rapidjson::Document> ClaimObject(const Target& t, const char* name, const char* kind,
                                                const std::string& cls, std::string_view size) {
  kube::Builder b;
  rapidjson::Value spec =
      b.Object({{"accessModes", b.Array({b.Str("ReadWriteMany")})},
                {"storageClassName", b.Str(cls)},
                {"resources", b.Object({{"requests", b.Object({{"storage", b.Str(size)}})}})}});
  return b.Finish(
      b.Manifest("v1", "PersistentVolumeClaim",
                 StorageMeta(t, name, StorageLabels(t, {{contract::kVolumeLabel, kind}})),
                 {{"spec", std::move(spec)}}));
}

// Copies the data volume into the backup volume; rsync mirrors, cp -a only adds and updates.
constexpr char kBackupScript[] =
    "set -eu; mkdir -p /backup/data; "
    "if command -v rsync >/dev/null 2>&1; then rsync -a --delete /data/ /backup/data/; "
    "else cp -a /data/. /backup/data/; fi; "
    "date -u +%Y-%m-%dT%H:%M:%SZ > /backup/LAST_BACKUP";

rapidjson::Value ClaimVolume(kube::Builder& b, const char* name, const char* claim,
                             bool read_only) {
  rapidjson::Value source = b.Object({{"claimName", b.Str(claim)}});
  if (read_only) b.Add(source, "readOnly", b.Bool(true));
  return b.Object({{"name", b.Str(name)}, {"persistentVolumeClaim", std::move(source)}});
}

rapidjson::Value BackupPod(kube::Builder& b, const StorageOptions& o) {
  rapidjson::Value container = b.Object(
      {{"name", b.Str("backup")},
       {"image", b.Str(o.backup_image)},
       {"command", b.Array({b.Str("/bin/sh"), b.Str("-c"), b.Str(kBackupScript)})},
       {"resources", b.Object({{"requests", b.Map({{"cpu", "100m"}, {"memory", "128Mi"}})},
                               {"limits", b.Map({{"memory", "512Mi"}})}})},
       {"volumeMounts",
        b.Array({b.Object({{"name", b.Str("data")},
                           {"mountPath", b.Str("/data")},
                           {"readOnly", b.Bool(true)}}),
                 b.Object({{"name", b.Str("backup")}, {"mountPath", b.Str("/backup")}})})}});
  return b.Object({{"restartPolicy", b.Str("OnFailure")},
                   {"automountServiceAccountToken", b.Bool(false)},
                   {"containers", b.Array({std::move(container)})},
                   {"volumes", b.Array({ClaimVolume(b, "data", kCephfsClaim, true),
                                        ClaimVolume(b, "backup", kNfsClaim, false)})}});
}

absl::StatusOr<rapidjson::Document> CronJobObject(const Target& t, const StorageOptions& o) {
  const kube::StringMap labels = StorageLabels(t, {{contract::kStorageRoleLabel, "backup"}});
  kube::Builder b;
  rapidjson::Value job =
      b.Object({{"backoffLimit", b.Int(2)},
                {"ttlSecondsAfterFinished", b.Int(86400)},
                {"template", b.Object({{"metadata", b.Object({{"labels", b.Map(labels)}})},
                                       {"spec", BackupPod(b, o)}})}});
  rapidjson::Value spec =
      b.Object({{"schedule", b.Str(o.backup_schedule)},
                {"concurrencyPolicy", b.Str("Forbid")},
                {"startingDeadlineSeconds", b.Int(3600)},
                {"successfulJobsHistoryLimit", b.Int(1)},
                {"failedJobsHistoryLimit", b.Int(3)},
                {"jobTemplate", b.Object({{"metadata", b.Object({{"labels", b.Map(labels)}})},
                                          {"spec", std::move(job)}})}});
  return b.Finish(b.Manifest("batch/v1", "CronJob", StorageMeta(t, kBackupCronJob, labels),
                             {{"spec", std::move(spec)}}));
}

absl::StatusOr<rapidjson::Document> SettingsObject(const Target& t, const StorageOptions& o) {
  kube::Builder b;
  rapidjson::Value data = b.Map({{"LABKUBE_MEMBER", t.member},
                                 {"LABKUBE_DATA_DIR", o.data_mount_path},
                                 {"LABKUBE_BACKUP_DIR", o.backup_mount_path},
                                 {"LABKUBE_BACKUP_SCHEDULE", o.backup_schedule},
                                 {"LABKUBE_DATA_CLAIM", kCephfsClaim},
                                 {"LABKUBE_BACKUP_CLAIM", kNfsClaim}});
  return b.Finish(b.Manifest("v1", "ConfigMap",
                             StorageMeta(t, kSettingsConfigMap, StorageLabels(t)),
                             {{"data", std::move(data)}}));
}

const char* ClaimOf(gw::VolumeKind kind) {
  return kind == gw::VOLUME_KIND_NFS ? kNfsClaim : kCephfsClaim;
}
const char* KindName(gw::VolumeKind kind) { return kind == gw::VOLUME_KIND_NFS ? "nfs" : "cephfs"; }

bool ConditionTrue(const rapidjson::Value& pvc, std::string_view type) {
  const rapidjson::Value* conditions = json::Find(pvc, {"status", "conditions"});
  if (conditions == nullptr || !conditions->IsArray()) return false;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    if (json::GetString(c, {"type"}) == type && json::GetString(c, {"status"}) == "True") {
      return true;
    }
  }
  return false;
}

void VolumeFromClaim(const rapidjson::Value& pvc, gw::VolumeKind kind, const std::string& path,
                     gw::Volume* out) {
  out->set_kind(kind);
  out->set_claim(std::string(json::GetString(pvc, {"metadata", "name"})));
  out->set_storage_class(std::string(json::GetString(pvc, {"spec", "storageClassName"})));
  out->set_size(std::string(json::GetString(pvc, {"spec", "resources", "requests", "storage"})));
  out->set_capacity(std::string(json::GetString(pvc, {"status", "capacity", "storage"})));
  out->set_phase(std::string(json::GetString(pvc, {"status", "phase"})));
  if (out->phase().empty()) out->set_phase("Pending");
  bool growing = false;
  if (!out->capacity().empty()) {
    auto want = kube::ParseQuantity(out->size());
    auto have = kube::ParseQuantity(out->capacity());
    growing = want.ok() && have.ok() && *want > *have;
  }
  out->set_resizing(growing || ConditionTrue(pvc, "Resizing") ||
                    ConditionTrue(pvc, "FileSystemResizePending"));
  out->set_mount_path(path);
}

// Sets the timestamp `field` of `message` from `text` only when it parses (unset otherwise).
template <typename Msg>
void SetTime(std::string_view text, Msg* message, google::protobuf::Timestamp* (Msg::*field)()) {
  if (std::optional<absl::Time> t = ParseTime(text)) {
    (message->*field)()->set_seconds(absl::ToUnixSeconds(*t));
  }
}

// Creates `object` unless it exists; returns whether it existed.
absl::StatusOr<bool> Ensure(kube::Client& client, const kube::Resource& resource,
                            const std::string& ns, const std::string& name,
                            absl::StatusOr<rapidjson::Document> object) {
  absl::StatusOr<rapidjson::Document> existing = client.Get(resource, ns, name);
  if (existing.ok()) return true;
  if (!absl::IsNotFound(existing.status())) {
    return KubeError(existing.status(), absl::StrCat("read ", resource.kind, " ", name), ns);
  }
  LK_RETURN_IF_ERROR(object.status());
  absl::StatusOr<rapidjson::Document> created = client.Create(resource, ns, *object);
  if (created.ok() || absl::IsAlreadyExists(created.status())) return false;
  return KubeError(created.status(), absl::StrCat("create ", resource.kind, " ", name), ns);
}

}  // namespace

StorageManager::StorageManager(kube::Client& client, StorageOptions options)
    : client_(client), options_(std::move(options)) {}

absl::StatusOr<gw::Storage> StorageManager::Create(const Target& t, std::string_view size,
                                                   std::string_view backup_size) {
  LK_RETURN_IF_ERROR(ParseSize("size", size).status());
  if (backup_size.empty()) backup_size = size;
  LK_RETURN_IF_ERROR(ParseSize("backup_size", backup_size).status());
  int existing = 0;
  LK_ASSIGN_OR_RETURN(bool had, Ensure(client_, res::PersistentVolumeClaims(), t.ns, kCephfsClaim,
                                       ClaimObject(t, kCephfsClaim, "cephfs",
                                                   options_.cephfs_storage_class, size)));
  existing += had;
  LK_ASSIGN_OR_RETURN(
      had, Ensure(client_, res::PersistentVolumeClaims(), t.ns, kNfsClaim,
                  ClaimObject(t, kNfsClaim, "nfs", options_.nfs_storage_class, backup_size)));
  existing += had;
  LK_ASSIGN_OR_RETURN(had, Ensure(client_, res::ConfigMaps(), t.ns, kSettingsConfigMap,
                                  SettingsObject(t, options_)));
  existing += had;
  LK_ASSIGN_OR_RETURN(
      had, Ensure(client_, res::CronJobs(), t.ns, kBackupCronJob, CronJobObject(t, options_)));
  existing += had;
  if (existing == 4) {
    return absl::AlreadyExistsError(absl::StrCat(
        "storage of member ", t.member,
        " already exists (see `labctl storage list`; grow it with `labctl storage resize`)"));
  }
  return Get(t);
}

absl::StatusOr<gw::Storage> StorageManager::Resize(const Target& t, gw::VolumeKind volume,
                                                   std::string_view size) {
  LK_ASSIGN_OR_RETURN(int64_t bytes, ParseSize("size", size));
  std::vector<gw::VolumeKind> kinds = {volume};
  if (volume == gw::VOLUME_KIND_UNSPECIFIED) {
    kinds = {gw::VOLUME_KIND_CEPHFS, gw::VOLUME_KIND_NFS};
  } else if (volume != gw::VOLUME_KIND_CEPHFS && volume != gw::VOLUME_KIND_NFS) {
    return absl::InvalidArgumentError("volume: must be cephfs, nfs or unset (both)");
  }
  // Check every volume first, so that "both" changes both or neither.
  for (gw::VolumeKind kind : kinds) LK_RETURN_IF_ERROR(ResizeOne(t, kind, size, bytes, false));
  for (gw::VolumeKind kind : kinds) LK_RETURN_IF_ERROR(ResizeOne(t, kind, size, bytes, true));
  return Get(t);
}

absl::Status StorageManager::ResizeOne(const Target& t, gw::VolumeKind kind, std::string_view size,
                                       int64_t bytes, bool apply) {
  const char* claim = ClaimOf(kind);
  absl::StatusOr<rapidjson::Document> pvc = client_.Get(res::PersistentVolumeClaims(), t.ns, claim);
  if (absl::IsNotFound(pvc.status())) {
    return absl::NotFoundError(absl::StrCat("member ", t.member, " has no ", KindName(kind),
                                            " volume; create it with `labctl storage create`"));
  }
  if (!pvc.ok()) return KubeError(pvc.status(), absl::StrCat("read PVC ", claim), t.ns);
  std::string_view current = json::GetString(*pvc, {"spec", "resources", "requests", "storage"});
  absl::StatusOr<int64_t> current_bytes = kube::ParseQuantity(current);
  if (current_bytes.ok() && bytes < *current_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("size: ", ToAbsl(size), " is smaller than the ",
                                                   KindName(kind), " volume's current ",
                                                   ToAbsl(current), "; volumes can only grow"));
  }
  if (current_bytes.ok() && bytes == *current_bytes) return absl::OkStatus();
  if (!apply)
    return CheckExpandable(std::string(json::GetString(*pvc, {"spec", "storageClassName"})));
  rapidjson::Document patch(rapidjson::kObjectType);
  json::SetString(patch, {"spec", "resources", "requests", "storage"}, size);
  absl::StatusOr<rapidjson::Document> patched =
      client_.Patch(res::PersistentVolumeClaims(), t.ns, claim, kube::PatchType::kMergePatch,
                    json::ToString(patch));
  if (absl::IsPermissionDenied(patched.status()) || absl::IsInvalidArgument(patched.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", KindName(kind), " volume cannot be resized: ", patched.status().message()));
  }
  return KubeError(patched.status(), absl::StrCat("resize PVC ", claim), t.ns);
}

absl::Status StorageManager::CheckExpandable(const std::string& storage_class) {
  if (storage_class.empty()) {
    return absl::FailedPreconditionError(
        "the volume has no StorageClass, so it cannot be expanded; ask an admin");
  }
  absl::StatusOr<rapidjson::Document> sc = client_.Get(StorageClasses(), "", storage_class);
  if (absl::IsNotFound(sc.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "StorageClass ", storage_class, " does not exist, so the volume cannot be expanded"));
  }
  if (!sc.ok()) return KubeError(sc.status(), "read StorageClass " + storage_class, "");
  if (!json::GetBool(*sc, {"allowVolumeExpansion"})) {
    return absl::FailedPreconditionError(absl::StrCat(
        "StorageClass ", storage_class,
        " does not allow volume expansion (allowVolumeExpansion is not true); ask an admin"));
  }
  return absl::OkStatus();
}

namespace {

// Adds "workspace NAME" to `users` for each Workspace object in `ns` whose spec mounts one of the
// claims. They count from the moment they exist: the controller makes their Deployment and pod
// later, and a delete in between would leave them mounting nothing. Valid or not, labelled or
// not (kubectl-applied ones too).
absl::Status AddWorkspaceObjectUsers(kube::Client& client, const std::string& ns,
                                     std::set<std::string>& users) {
  absl::StatusOr<kube::ObjectList> list = client.List(res::Workspaces(), ns, {});
  if (!list.ok()) return KubeError(list.status(), "list workspaces", ns);
  for (const rapidjson::Value& ws : list->items().GetArray()) {
    const rapidjson::Value* volumes = json::Find(ws, {"spec", "volumes"});
    if (volumes == nullptr || !volumes->IsArray()) continue;
    for (const rapidjson::Value& v : volumes->GetArray()) {
      std::string_view claim = json::GetString(v, {"claimName"});
      if (claim != kCephfsClaim && claim != kNfsClaim) continue;
      users.insert(
          absl::StrCat("workspace ", ToAbsl(json::GetString(ws, {"metadata", "name"}))));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status StorageManager::CheckNotInUse(const std::string& ns) {
  std::set<std::string> users;
  absl::StatusOr<kube::ObjectList> pods = client_.List(res::Pods(), ns, {});
  if (!pods.ok()) return KubeError(pods.status(), "list pods", ns);
  for (const rapidjson::Value& pod : pods->items().GetArray()) {
    if (json::GetString(pod, {"metadata", "labels", contract::kStorageRoleLabel}) == "backup")
      continue;
    std::string_view phase = json::GetString(pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") continue;
    const rapidjson::Value* volumes = json::Find(pod, {"spec", "volumes"});
    if (volumes == nullptr || !volumes->IsArray()) continue;
    for (const rapidjson::Value& v : volumes->GetArray()) {
      std::string_view claim = json::GetString(v, {"persistentVolumeClaim", "claimName"});
      if (claim != kCephfsClaim && claim != kNfsClaim) continue;
      std::string_view ws = json::GetString(pod, {"metadata", "labels", contract::kWorkspaceLabel});
      users.insert(ws.empty()
                       ? absl::StrCat("pod ", ToAbsl(json::GetString(pod, {"metadata", "name"})))
                       : absl::StrCat("workspace ", ToAbsl(ws)));
    }
  }
  kube::ListOptions workspaces;
  workspaces.label_selector = Selector({{contract::kManagedByLabel, contract::kManagedByGateway},
                                        {contract::kComponentLabel, "workspace"}});
  absl::StatusOr<kube::ObjectList> deployments = client_.List(res::Deployments(), ns, workspaces);
  if (!deployments.ok()) return KubeError(deployments.status(), "list deployments", ns);
  for (const rapidjson::Value& d : deployments->items().GetArray()) {
    users.insert(absl::StrCat(
        "workspace ",
        ToAbsl(json::GetString(d, {"metadata", "labels", contract::kWorkspaceLabel}))));
  }
  LK_RETURN_IF_ERROR(AddWorkspaceObjectUsers(client_, ns, users));
  if (users.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("the storage is in use by ",
                                                    absl::StrJoin(users, ", "),
                                                    ": stop them first (`labctl ide stop NAME`)"));
}

absl::StatusOr<std::vector<std::string>> StorageManager::Delete(const Target& t,
                                                                std::string_view confirm,
                                                                bool keep_backup) {
  if (confirm != t.member) {
    return absl::InvalidArgumentError(absl::StrCat("confirm: must be the member's name (\"",
                                                   t.member,
                                                   "\") to delete the storage and all data on it"));
  }
  LK_RETURN_IF_ERROR(CheckNotInUse(t.ns));
  struct Item {
    const kube::Resource* resource;
    const char* name;
  };
  std::vector<Item> items = {{&res::CronJobs(), kBackupCronJob},
                             {&res::ConfigMaps(), kSettingsConfigMap},
                             {&res::PersistentVolumeClaims(), kCephfsClaim}};
  if (!keep_backup) items.push_back({&res::PersistentVolumeClaims(), kNfsClaim});
  std::vector<std::string> deleted;
  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  for (const Item& item : items) {
    absl::Status s = client_.Delete(*item.resource, t.ns, item.name, background);
    if (absl::IsNotFound(s)) continue;
    if (!s.ok())
      return KubeError(s, absl::StrCat("delete ", item.resource->kind, " ", item.name), t.ns);
    deleted.push_back(absl::StrCat(item.resource->kind, "/", item.name));
  }
  if (deleted.empty()) {
    return absl::NotFoundError(absl::StrCat("member ", t.member, " has no storage"));
  }
  return deleted;
}

absl::StatusOr<gw::Storage> StorageManager::Get(const Target& t) {
  gw::Storage out;
  out.set_member(t.member);
  out.set_namespace_(t.ns);
  for (gw::VolumeKind kind : {gw::VOLUME_KIND_CEPHFS, gw::VOLUME_KIND_NFS}) {
    absl::StatusOr<rapidjson::Document> pvc =
        client_.Get(res::PersistentVolumeClaims(), t.ns, ClaimOf(kind));
    if (absl::IsNotFound(pvc.status())) continue;
    if (!pvc.ok()) return KubeError(pvc.status(), "read the storage", t.ns);
    VolumeFromClaim(
        *pvc, kind,
        kind == gw::VOLUME_KIND_NFS ? options_.backup_mount_path : options_.data_mount_path,
        out.add_volumes());
  }
  absl::StatusOr<rapidjson::Document> cron = client_.Get(res::CronJobs(), t.ns, kBackupCronJob);
  if (cron.ok()) {
    gw::Backup* b = out.mutable_backup();
    b->set_cronjob(kBackupCronJob);
    b->set_schedule(std::string(json::GetString(*cron, {"spec", "schedule"})));
    SetTime(json::GetString(*cron, {"status", "lastSuccessfulTime"}), b,
            &gw::Backup::mutable_last_success);
    SetTime(json::GetString(*cron, {"status", "lastScheduleTime"}), b,
            &gw::Backup::mutable_last_schedule);
    const rapidjson::Value* active = json::Find(*cron, {"status", "active"});
    b->set_active(active != nullptr && active->IsArray() && !active->Empty());
  } else if (!absl::IsNotFound(cron.status())) {
    return KubeError(cron.status(), "read the backup CronJob", t.ns);
  }
  absl::StatusOr<rapidjson::Document> cm = client_.Get(res::ConfigMaps(), t.ns, kSettingsConfigMap);
  if (cm.ok()) out.set_settings_config_map(kSettingsConfigMap);
  return out;
}

// Both claims are read concurrently (this is on the path of every workspace start); get only,
// so the gateway needs no list permission.
absl::StatusOr<std::vector<Mount>> StorageManager::Mounts(const std::string& ns) {
  auto read = [&](gw::VolumeKind kind) {
    return std::async(std::launch::async, [this, &ns, kind] {
      return client_.Get(res::PersistentVolumeClaims(), ns, ClaimOf(kind)).status();
    });
  };
  std::future<absl::Status> cephfs_read = read(gw::VOLUME_KIND_CEPHFS);
  std::future<absl::Status> nfs_read = read(gw::VOLUME_KIND_NFS);
  const absl::Status found[] = {cephfs_read.get(), nfs_read.get()};
  std::vector<Mount> mounts;
  for (gw::VolumeKind kind : {gw::VOLUME_KIND_CEPHFS, gw::VOLUME_KIND_NFS}) {
    const absl::Status& pvc = found[kind == gw::VOLUME_KIND_NFS ? 1 : 0];
    if (absl::IsNotFound(pvc)) continue;
    if (!pvc.ok()) return KubeError(pvc, "read the storage", ns);
    const bool nfs = kind == gw::VOLUME_KIND_NFS;
    mounts.push_back(
        Mount{ClaimOf(kind), nfs ? options_.backup_mount_path : options_.data_mount_path, nfs});
  }
  return mounts;
}

}  // namespace labkube::gateway
