#include "services/authenticator/member_provisioner.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/status_macros.h"
#include "services/authenticator/names.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr char kFieldManager[] = "labkube-authenticator";

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

void SetOwnerLabels(rapidjson::Document& doc, const std::string& member) {
  json::SetString(doc, {"metadata", "labels", kUserLabel}, member);
  json::SetString(doc, {"metadata", "labels", kManagedByLabel}, kManagedBy);
}

// Create; an existing object is fine.
absl::Status CreateOrKeep(kube::Client& client, const kube::Resource& r, const std::string& ns,
                          const rapidjson::Document& object) {
  absl::StatusOr<rapidjson::Document> created = client.Create(r, ns, object, Writes());
  if (created.ok() || created.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::OkStatus();
  }
  return created.status();
}

absl::Status IgnoreNotFound(absl::Status s) {
  return s.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : s;
}

rapidjson::Value Subjects(const std::string& ns, const std::string& name, json::Allocator& a) {
  rapidjson::Value subject(rapidjson::kObjectType);
  subject.AddMember("kind", "ServiceAccount", a);
  subject.AddMember("name", json::String(name, a), a);
  subject.AddMember("namespace", json::String(ns, a), a);
  rapidjson::Value list(rapidjson::kArrayType);
  list.PushBack(subject, a);
  return list;
}

rapidjson::Document Binding(std::string_view kind, const std::string& ns,
                            const std::string& binding, const std::string& role,
                            const std::string& member, const std::string& member_ns) {
  rapidjson::Document doc = json::NewObject("rbac.authorization.k8s.io/v1", kind, ns, binding);
  SetOwnerLabels(doc, member);
  json::SetString(doc, {"roleRef", "apiGroup"}, "rbac.authorization.k8s.io");
  json::SetString(doc, {"roleRef", "kind"}, "ClusterRole");
  json::SetString(doc, {"roleRef", "name"}, role);
  json::Set(doc, "subjects", Subjects(member_ns, member, doc.GetAllocator()), doc.GetAllocator());
  return doc;
}

rapidjson::Value HardMap(const std::map<std::string, std::string>& quota, json::Allocator& a) {
  rapidjson::Value hard(rapidjson::kObjectType);
  for (const auto& [k, v] : quota) hard.AddMember(json::String(k, a), json::String(v, a), a);
  return hard;
}

absl::Status QuotaError(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  return absl::InvalidArgumentError(absl::StrCat("quota: ", s.message()));
}

}  // namespace

MemberProvisioner::MemberProvisioner(kube::Client& client, ProvisionerOptions options)
    : client_(client), options_(std::move(options)) {}

std::string MemberProvisioner::NamespaceOf(const std::string& name) const {
  return MemberNamespace(options_.namespace_prefix, name);
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
  rapidjson::Document doc = json::NewObject("v1", "Namespace", "", ns);
  SetOwnerLabels(doc, name);
  json::SetString(doc, {"metadata", "labels", kInjectLabel}, "enabled");
  json::SetString(doc, {"metadata", "labels", kPodSecurityLabel}, kDefaultPodSecurity);
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(res::Namespaces(), "", doc, Writes());
  if (created.ok()) {
    progress.namespace_created = true;
    return absl::OkStatus();
  }
  if (created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
  LK_ASSIGN_OR_RETURN(rapidjson::Document existing, client_.Get(res::Namespaces(), "", ns));
  if (json::GetString(existing, {"metadata", "labels", kUserLabel}) != name) {
    return absl::FailedPreconditionError(
        absl::StrCat("namespace ", ns, " exists and does not belong to member ", name));
  }
  if (json::Find(existing, {"metadata", "deletionTimestamp"}) != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("namespace ", ns, " is still being deleted; retry in a moment"));
  }
  rapidjson::Document patch(rapidjson::kObjectType);
  json::SetString(patch, {"metadata", "labels", kInjectLabel}, "enabled");
  json::SetString(patch, {"metadata", "labels", kManagedByLabel}, kManagedBy);
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
  rapidjson::Document doc = json::NewObject("v1", "ServiceAccount", ns, spec.name);
  SetOwnerLabels(doc, spec.name);
  if (spec.admin) json::SetString(doc, {"metadata", "labels", kAdminLabel}, "true");
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
  LK_RETURN_IF_ERROR(
      CreateOrKeep(client_, res::RoleBindings(), ns,
                   Binding("RoleBinding", ns, kMemberRoleBinding, options_.member_role, name, ns)));
  if (!options_.gateway_role.empty()) {
    rapidjson::Document gateway =
        Binding("RoleBinding", ns, kGatewayRoleBinding, options_.gateway_role,
                options_.gateway_service_account, options_.gateway_namespace);
    SetOwnerLabels(gateway, name);  // the member's, so listings and cleanup find it
    LK_RETURN_IF_ERROR(CreateOrKeep(client_, res::RoleBindings(), ns, gateway));
  }
  rapidjson::Document viewer = Binding("ClusterRoleBinding", "", ClusterRoleBindingOf(name),
                                       options_.machine_viewer_role, name, ns);
  OwnByClusterRole(viewer, options_.machine_viewer_role);
  return CreateOrKeep(client_, res::ClusterRoleBindings(), "", viewer);
}

// A member's ClusterRoleBinding belongs to the ClusterRole it grants (installed with labkube):
// when labkube is uninstalled, the garbage collector removes the binding with the role, while
// the member's namespace and volumes stay. Without read access to the role: no owner.
void MemberProvisioner::OwnByClusterRole(rapidjson::Document& binding, const std::string& role) {
  absl::StatusOr<rapidjson::Document> owner = client_.Get(res::ClusterRoles(), "", role);
  if (!owner.ok()) return;
  rapidjson::Value ref(rapidjson::kObjectType);
  json::Allocator& a = binding.GetAllocator();
  ref.AddMember("apiVersion", "rbac.authorization.k8s.io/v1", a);
  ref.AddMember("kind", "ClusterRole", a);
  ref.AddMember("name", json::String(role, a), a);
  ref.AddMember("uid", json::String(json::GetString(*owner, {"metadata", "uid"}), a), a);
  rapidjson::Value refs(rapidjson::kArrayType);
  refs.PushBack(ref, a);
  json::SetPath(binding, {"metadata", "ownerReferences"}, std::move(refs), a);
}

absl::Status MemberProvisioner::EnsureQuota(const MemberSpec& spec) {
  if (spec.quota.empty()) return absl::OkStatus();
  const std::string ns = NamespaceOf(spec.name);
  rapidjson::Document doc = json::NewObject("v1", "ResourceQuota", ns, kQuotaName);
  SetOwnerLabels(doc, spec.name);
  json::SetPath(doc, {"spec", "hard"}, HardMap(spec.quota, doc.GetAllocator()), doc.GetAllocator());
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(res::ResourceQuotas(), ns, doc, Writes());
  if (created.ok()) return absl::OkStatus();
  if (created.status().code() != absl::StatusCode::kAlreadyExists) {
    return QuotaError(created.status());
  }
  rapidjson::Document patch(rapidjson::kArrayType);
  rapidjson::Value op(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  op.AddMember("op", "replace", a);
  op.AddMember("path", "/spec/hard", a);
  op.AddMember("value", HardMap(spec.quota, a), a);
  patch.PushBack(op, a);
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
  if (json::GetString(*existing, {"metadata", "labels", kUserLabel}) != name ||
      json::GetString(*existing, {"metadata", "labels", kManagedByLabel}) != kManagedBy) {
    return absl::FailedPreconditionError(absl::StrCat(
        "namespace ", ns, " is not managed by labkube for member ", name, "; left in place"));
  }
  kube::DeleteOptions o;
  o.propagation_policy = "Background";
  o.precondition_uid = std::string(json::GetString(*existing, {"metadata", "uid"}));
  return IgnoreNotFound(client_.Delete(res::Namespaces(), "", ns, o));
}

absl::Status MemberProvisioner::SetAdmin(const std::string& name, bool admin) {
  std::string patch = absl::StrCat(R"({"metadata":{"labels":{")", kAdminLabel, R"(":)",
                                   admin ? R"("true")" : "null", "}}}");
  return client_
      .Patch(res::ServiceAccounts(), NamespaceOf(name), name, kube::PatchType::kMergePatch, patch,
             Patches())
      .status();
}

absl::StatusOr<std::map<std::string, MemberObjects>> MemberProvisioner::ListObjects() {
  std::map<std::string, MemberObjects> out;
  kube::ListOptions by_user;
  by_user.label_selector = kUserLabel;
  LK_ASSIGN_OR_RETURN(kube::ObjectList sas, client_.List(res::ServiceAccounts(), "", by_user));
  for (const rapidjson::Value& sa : sas.items().GetArray()) {
    std::string member(json::GetString(sa, {"metadata", "labels", kUserLabel}));
    if (json::GetString(sa, {"metadata", "name"}) != member ||
        json::GetString(sa, {"metadata", "namespace"}) != NamespaceOf(member)) {
      continue;
    }
    out[member].admin = json::GetString(sa, {"metadata", "labels", kAdminLabel}) == "true";
  }
  kube::ListOptions managed;
  managed.label_selector = absl::StrCat(kManagedByLabel, "=", kManagedBy);
  LK_ASSIGN_OR_RETURN(kube::ObjectList quotas, client_.List(res::ResourceQuotas(), "", managed));
  for (const rapidjson::Value& q : quotas.items().GetArray()) {
    std::string member(json::GetString(q, {"metadata", "labels", kUserLabel}));
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
