#include "services/authenticator/member_provisioner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/names.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr char kFieldManager[] = "labkube-authenticator";
constexpr char kRbacApiVersion[] = "rbac.authorization.k8s.io/v1";

kube::WriteOptions Writes() {
  kube::WriteOptions o;
  o.field_manager = kFieldManager;
  return o;
}

kube::PatchOptions Patches() {
  kube::PatchOptions o;
  o.field_manager = kFieldManager;
  return o;
}

// Metadata of an object of `member`'s: labelled with the member and as the authenticator's.
kube::ObjectMeta MemberMeta(const std::string& ns, const std::string& name,
                            const std::string& member) {
  kube::ObjectMeta meta;
  meta.name = name;
  meta.namespace_ = ns;
  meta.labels = {{contract::kUserLabel, member},
                 {contract::kManagedByLabel, contract::kManagedByAuthenticator}};
  return meta;
}

// An object that is only its metadata (Namespace, ServiceAccount).
absl::StatusOr<rapidjson::Document> MetaOnly(std::string_view kind, const kube::ObjectMeta& meta) {
  kube::Builder b;
  return b.Finish(b.Manifest("v1", kind, meta, {}));
}

// Create; an existing object is fine.
absl::Status CreateOrKeep(kube::Client& client, const kube::Resource& r, const std::string& ns,
                          const absl::StatusOr<rapidjson::Document>& object) {
  LK_RETURN_IF_ERROR(object.status());
  absl::StatusOr<rapidjson::Document> created = client.Create(r, ns, *object, Writes());
  if (created.ok() || created.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::OkStatus();
  }
  return created.status();
}

absl::Status IgnoreNotFound(absl::Status s) {
  return s.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : s;
}

// A (Cluster)RoleBinding granting the ClusterRole `role` to ServiceAccount `sa_ns`/`sa`.
absl::StatusOr<rapidjson::Document> Binding(std::string_view kind, const kube::ObjectMeta& meta,
                                            const std::string& role, const std::string& sa,
                                            const std::string& sa_ns) {
  kube::Builder b;
  rapidjson::Value role_ref = b.Object({{"apiGroup", b.Str("rbac.authorization.k8s.io")},
                                        {"kind", b.Str("ClusterRole")},
                                        {"name", b.Str(role)}});
  rapidjson::Value subjects = b.Array({b.Object(
      {{"kind", b.Str("ServiceAccount")}, {"name", b.Str(sa)}, {"namespace", b.Str(sa_ns)}})});
  return b.Finish(
      b.Manifest(kRbacApiVersion, kind, meta,
                 {{"roleRef", std::move(role_ref)}, {"subjects", std::move(subjects)}}));
}

absl::Status QuotaError(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  return absl::InvalidArgumentError(absl::StrCat("quota: ", s.message()));
}

}  // namespace

MemberProvisioner::MemberProvisioner(kube::Client& client, ProvisionerOptions options)
    : client_(client), options_(std::move(options)) {}

std::string MemberProvisioner::NamespaceOf(const std::string& name) const {
  return names::MemberNamespace(options_.namespace_prefix, name);
}

std::string MemberProvisioner::ClusterRoleBindingOf(const std::string& name) const {
  return absl::StrCat("labkube-member-", name);
}

absl::Status MemberProvisioner::Provision(const MemberSpec& spec, Progress* progress) {
  Progress local;
  Progress& p = progress != nullptr ? *progress : local;
  LK_RETURN_IF_ERROR(EnsureNamespace(spec.name, p));
  p.namespace_owned = true;
  LK_RETURN_IF_ERROR(EnsureServiceAccount(spec));
  LK_RETURN_IF_ERROR(EnsureBindings(spec.name));
  return EnsureQuota(spec);
}

absl::Status MemberProvisioner::EnsureNamespace(const std::string& name, Progress& progress) {
  const std::string ns = NamespaceOf(name);
  kube::ObjectMeta meta = MemberMeta("", ns, name);
  meta.labels[contract::kInjectLabel] = contract::kInjectEnabled;
  meta.labels[kPodSecurityLabel] = kDefaultPodSecurity;
  LK_ASSIGN_OR_RETURN(const rapidjson::Document doc, MetaOnly("Namespace", meta));
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(res::Namespaces(), "", doc, Writes());
  if (created.ok()) {
    progress.namespace_created = true;
    return absl::OkStatus();
  }
  if (created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
  LK_ASSIGN_OR_RETURN(rapidjson::Document existing, client_.Get(res::Namespaces(), "", ns));
  if (json::GetString(existing, {"metadata", "labels", contract::kUserLabel}) != name) {
    return absl::FailedPreconditionError(
        absl::StrCat("namespace ", ns, " exists and does not belong to member ", name));
  }
  if (json::Find(existing, {"metadata", "deletionTimestamp"}) != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("namespace ", ns, " is still being deleted; retry in a moment"));
  }
  rapidjson::Document patch(rapidjson::kObjectType);
  json::SetString(patch, {"metadata", "labels", contract::kInjectLabel}, contract::kInjectEnabled);
  json::SetString(patch, {"metadata", "labels", contract::kManagedByLabel},
                  contract::kManagedByAuthenticator);
  // An admin may have chosen "restricted" for this member: only a missing level is set.
  if (json::GetString(existing, {"metadata", "labels", kPodSecurityLabel}).empty()) {
    json::SetString(patch, {"metadata", "labels", kPodSecurityLabel}, kDefaultPodSecurity);
  }
  return client_
      .Patch(res::Namespaces(), "", ns, kube::PatchType::kMergePatch, json::ToString(patch),
             Patches())
      .status();
}

absl::Status MemberProvisioner::EnsureServiceAccount(const MemberSpec& spec) {
  const std::string ns = NamespaceOf(spec.name);
  kube::ObjectMeta meta = MemberMeta(ns, spec.name, spec.name);
  if (spec.admin) meta.labels[contract::kAdminLabel] = "true";
  LK_ASSIGN_OR_RETURN(const rapidjson::Document doc, MetaOnly("ServiceAccount", meta));
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(res::ServiceAccounts(), ns, doc, Writes());
  if (created.ok()) return absl::OkStatus();
  if (created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
  rapidjson::Document patch(rapidjson::kObjectType);
  json::SetValue(patch, {"metadata", "labels"}, *json::Find(doc, {"metadata", "labels"}));
  return client_
      .Patch(res::ServiceAccounts(), ns, spec.name, kube::PatchType::kMergePatch,
             json::ToString(patch), Patches())
      .status();
}

absl::Status MemberProvisioner::EnsureBindings(const std::string& name) {
  const std::string ns = NamespaceOf(name);
  LK_RETURN_IF_ERROR(CreateOrKeep(client_, res::RoleBindings(), ns,
                                  Binding("RoleBinding", MemberMeta(ns, kMemberRoleBinding, name),
                                          options_.member_role, name, ns)));
  if (!options_.gateway_role.empty()) {
    // Labelled as the member's, so listings and cleanup find it.
    LK_RETURN_IF_ERROR(CreateOrKeep(
        client_, res::RoleBindings(), ns,
        Binding("RoleBinding", MemberMeta(ns, kGatewayRoleBinding, name), options_.gateway_role,
                options_.gateway_service_account, options_.gateway_namespace)));
  }
  kube::ObjectMeta viewer = MemberMeta("", ClusterRoleBindingOf(name), name);
  OwnByClusterRole(viewer, options_.machine_viewer_role);
  return CreateOrKeep(
      client_, res::ClusterRoleBindings(), "",
      Binding("ClusterRoleBinding", viewer, options_.machine_viewer_role, name, ns));
}

// A member's ClusterRoleBinding belongs to the ClusterRole it grants (installed with labkube):
// when labkube is uninstalled, the garbage collector removes the binding with the role, while
// the member's namespace and volumes stay. Without read access to the role (or a uid): no owner.
void MemberProvisioner::OwnByClusterRole(kube::ObjectMeta& binding, const std::string& role) {
  absl::StatusOr<rapidjson::Document> owner = client_.Get(res::ClusterRoles(), "", role);
  if (!owner.ok()) return;
  const std::string_view uid = json::GetString(*owner, {"metadata", "uid"});
  if (uid.empty()) return;
  kube::OwnerReference ref;
  ref.api_version = kRbacApiVersion;
  ref.kind = "ClusterRole";
  ref.name = role;
  ref.uid = std::string(uid);
  binding.owner_references.push_back(std::move(ref));
}

absl::Status MemberProvisioner::EnsureQuota(const MemberSpec& spec) {
  if (spec.quota.empty()) return absl::OkStatus();
  const std::string ns = NamespaceOf(spec.name);
  kube::Builder b;
  LK_ASSIGN_OR_RETURN(
      const rapidjson::Document doc,
      b.Finish(b.Manifest("v1", "ResourceQuota", MemberMeta(ns, kQuotaName, spec.name),
                          {{"spec", b.Object({{"hard", b.Map(spec.quota)}})}})));
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(res::ResourceQuotas(), ns, doc, Writes());
  if (created.ok()) return absl::OkStatus();
  if (created.status().code() != absl::StatusCode::kAlreadyExists) {
    return QuotaError(created.status());
  }
  kube::Builder p;
  LK_ASSIGN_OR_RETURN(const rapidjson::Document patch,
                      p.Finish(p.Array({p.Object({{"op", p.Str("replace")},
                                                  {"path", p.Str("/spec/hard")},
                                                  {"value", p.Map(spec.quota)}})})));
  return QuotaError(client_
                        .Patch(res::ResourceQuotas(), ns, kQuotaName, kube::PatchType::kJsonPatch,
                               json::ToString(patch), Patches())
                        .status());
}

absl::Status MemberProvisioner::Deprovision(const std::string& name, bool delete_namespace) {
  const std::string ns = NamespaceOf(name);
  // The ServiceAccount first: every token issued for it stops working now.
  LK_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(res::ServiceAccounts(), ns, name)));
  LK_RETURN_IF_ERROR(
      IgnoreNotFound(client_.Delete(res::ClusterRoleBindings(), "", ClusterRoleBindingOf(name))));
  LK_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(res::RoleBindings(), ns, kMemberRoleBinding)));
  LK_RETURN_IF_ERROR(IgnoreNotFound(client_.Delete(res::RoleBindings(), ns, kGatewayRoleBinding)));
  if (!delete_namespace) return absl::OkStatus();
  absl::StatusOr<rapidjson::Document> existing = client_.Get(res::Namespaces(), "", ns);
  if (existing.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!existing.ok()) return existing.status();
  if (json::GetString(*existing, {"metadata", "labels", contract::kUserLabel}) != name ||
      json::GetString(*existing, {"metadata", "labels", contract::kManagedByLabel}) !=
          contract::kManagedByAuthenticator) {
    return absl::FailedPreconditionError(absl::StrCat(
        "namespace ", ns, " is not managed by labkube for member ", name, "; left in place"));
  }
  kube::DeleteOptions o;
  o.propagation_policy = "Background";
  o.precondition_uid = std::string(json::GetString(*existing, {"metadata", "uid"}));
  return IgnoreNotFound(client_.Delete(res::Namespaces(), "", ns, o));
}

absl::Status MemberProvisioner::SetAdmin(const std::string& name, bool admin) {
  rapidjson::Document patch(rapidjson::kObjectType);
  json::SetPath(patch, {"metadata", "labels", contract::kAdminLabel},
                admin ? json::String("true", patch.GetAllocator()) : rapidjson::Value(),
                patch.GetAllocator());  // null removes the label (merge patch)
  return client_
      .Patch(res::ServiceAccounts(), NamespaceOf(name), name, kube::PatchType::kMergePatch,
             json::ToString(patch), Patches())
      .status();
}

absl::StatusOr<std::map<std::string, MemberObjects>> MemberProvisioner::ListObjects() {
  std::map<std::string, MemberObjects> out;
  kube::ListOptions by_user;
  by_user.label_selector = contract::kUserLabel;
  LK_ASSIGN_OR_RETURN(kube::ObjectList sas, client_.List(res::ServiceAccounts(), "", by_user));
  for (const rapidjson::Value& sa : sas.items().GetArray()) {
    std::string member(json::GetString(sa, {"metadata", "labels", contract::kUserLabel}));
    if (json::GetString(sa, {"metadata", "name"}) != member ||
        json::GetString(sa, {"metadata", "namespace"}) != NamespaceOf(member)) {
      continue;
    }
    out[member].admin =
        json::GetString(sa, {"metadata", "labels", contract::kAdminLabel}) == "true";
  }
  kube::ListOptions managed;
  managed.label_selector =
      absl::StrCat(contract::kManagedByLabel, "=", contract::kManagedByAuthenticator);
  LK_ASSIGN_OR_RETURN(kube::ObjectList quotas, client_.List(res::ResourceQuotas(), "", managed));
  for (const rapidjson::Value& q : quotas.items().GetArray()) {
    std::string member(json::GetString(q, {"metadata", "labels", contract::kUserLabel}));
    if (json::GetString(q, {"metadata", "name"}) != kQuotaName ||
        json::GetString(q, {"metadata", "namespace"}) != NamespaceOf(member)) {
      continue;
    }
    const rapidjson::Value* hard = json::Find(q, {"spec", "hard"});
    if (hard == nullptr || !hard->IsObject()) continue;
    for (auto it = hard->MemberBegin(); it != hard->MemberEnd(); ++it) {
      if (it->value.IsString()) {
        out[member].quota[std::string(json::View(it->name))] = std::string(json::View(it->value));
      }
    }
  }
  return out;
}

}  // namespace labkube::authenticator
