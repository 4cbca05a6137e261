#include "services/authenticator/authenticator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {

using contract::kKubeconfigLabel;
using names::IsDnsLabel;
using names::MemberNamespace;

namespace {

namespace json = kube::json;

constexpr char kBadCredentials[] = "invalid username or password";

std::string ResultOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return "ok";
    case absl::StatusCode::kUnauthenticated:
      return "failed";
    case absl::StatusCode::kPermissionDenied:
      return "denied";
    case absl::StatusCode::kResourceExhausted:
      return "locked";
    case absl::StatusCode::kInvalidArgument:
      return "invalid";
    default:
      return "error";
  }
}

// One audit line. `member`: whom the action is about; `actor`: who did it.
void Audit(std::string_view action, const absl::Status& status, std::string_view member,
           std::string_view actor, const RequestContext& ctx) {
  LogEvent(status.ok() ? LogLevel::kInfo : LogLevel::kWarn, "audit",
           {{"action", action},
            {"result", ResultOf(status)},
            {"member", member},
            {"actor", actor},
            {"peer", ctx.peer},
            {"reason", status.ok() ? std::string() : std::string(status.message())}});
}

std::string ActorOf(const absl::StatusOr<Caller>& caller) {
  if (!caller.ok()) return "";
  return caller->member.empty() ? caller->username : caller->member;
}

absl::Status Prefixed(std::string_view field, const absl::Status& s) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), ": ", s.message()));
}

}  // namespace

Authenticator::Authenticator(Deps deps, AuthenticatorOptions options)
    : deps_(deps), options_(std::move(options)) {}

std::string Authenticator::Render(const std::string& user, const std::string& ns,
                                  CredentialForm form, const std::string& token) const {
  KubeconfigParams p;
  p.cluster_name = options_.cluster_name;
  p.server = options_.public_server;
  p.ca_pem = options_.public_ca_pem;
  p.user = user;
  p.ns = ns;
  p.form = form;
  p.token = token;
  return RenderKubeconfig(p);
}

absl::Status Authenticator::CheckPassword(const std::string& name, const std::string& password,
                                          const std::string& peer) {
  LK_RETURN_IF_ERROR(deps_.lockout.Check(name, peer));
  absl::StatusOr<std::optional<MemberRecord>> record = deps_.members.Get(name);
  if (!record.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read member records: ", record.status().message()));
  }
  bool ok = false;
  if (record->has_value() && !(*record)->password_hash.empty()) {
    ok = deps_.hasher.Verify(password, (*record)->password_hash);
  } else {
    deps_.hasher.VerifyDummy(password);
  }
  if (!ok) {
    deps_.lockout.RecordFailure(name, peer);
    return absl::UnauthenticatedError(kBadCredentials);
  }
  deps_.lockout.RecordSuccess(name);
  return absl::OkStatus();
}

absl::StatusOr<Credentials> Authenticator::IssueFor(const std::string& name, absl::Duration ttl,
                                                    std::optional<CredentialForm> form,
                                                    const SessionBinding& binding) {
  Credentials c;
  c.member = name;
  c.ns = MemberNamespace(options_.namespace_prefix, name);
  absl::StatusOr<IssuedToken> token = deps_.issuer.Issue(c.ns, name, ttl, binding);
  if (token.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError(
        absl::StrCat("member ", name, " has no ServiceAccount (deleted?); ask an admin"));
  }
  if (!token.ok()) return token.status();
  c.access = *std::move(token);
  if (form.has_value()) c.kubeconfig = Render(name, c.ns, *form, c.access.token);
  return c;
}

absl::StatusOr<Credentials> Authenticator::Login(const RequestContext& ctx,
                                                 const std::string& username,
                                                 const std::string& password, CredentialForm form) {
  absl::StatusOr<Credentials> result = [&]() -> absl::StatusOr<Credentials> {
    LK_RETURN_IF_ERROR(CheckPassword(username, password, ctx.peer));
    // Repairs what an upgrade added (e.g. the gateway's binding); never blocks the login.
    if (absl::Status s = deps_.provisioner.EnsureAccess(username); !s.ok()) {
      LogEvent(LogLevel::kWarn, "login.ensure_access_failed", {{"member", username}, {"error", s}});
    }
    // The session's access tokens are bound to a Secret that logout deletes.
    const std::string ns = MemberNamespace(options_.namespace_prefix, username);
    LK_ASSIGN_OR_RETURN(SessionBinding binding, deps_.issuer.OpenBinding(ns, username));
    absl::StatusOr<Credentials> issued = IssueFor(username, options_.token_ttl, form, binding);
    absl::StatusOr<IssuedSession> session =
        issued.ok() ? deps_.sessions.Create(username, binding) : issued.status();
    if (!session.ok()) {
      deps_.issuer.CloseBinding(ns, binding).IgnoreError();
      return session.status();
    }
    Credentials c = *std::move(issued);
    c.refresh_token = std::move(session->token);
    c.refresh_expiry = session->session.expires;
    if (absl::Status s = deps_.members.RecordLogin(username, deps_.clock.Now()); !s.ok()) {
      LogEvent(LogLevel::kWarn, "login.record_failed", {{"member", username}, {"error", s}});
    }
    return c;
  }();
  Audit("login", result.status(), username, username, ctx);
  return result;
}

absl::StatusOr<Credentials> Authenticator::Refresh(const RequestContext& ctx,
                                                   const std::string& refresh_token,
                                                   std::optional<CredentialForm> kubeconfig_form) {
  std::string member;
  absl::StatusOr<Credentials> result = [&]() -> absl::StatusOr<Credentials> {
    LK_ASSIGN_OR_RETURN(Session session, deps_.sessions.Lookup(refresh_token));
    member = session.member;
    // Never past the session's end, but never under the API's minimum either.
    absl::Duration ttl = std::min(options_.token_ttl, session.expires - deps_.clock.Now());
    LK_ASSIGN_OR_RETURN(Credentials c, IssueFor(member, ttl, kubeconfig_form, session.binding));
    c.refresh_expiry = session.expires;
    return c;
  }();
  Audit("refresh", result.status(), member, member, ctx);
  return result;
}

absl::Status Authenticator::Logout(const RequestContext& ctx, const std::string& refresh_token) {
  absl::StatusOr<Session> session = deps_.sessions.Lookup(refresh_token);
  std::string member = session.ok() ? session->member : "";
  absl::Status s = deps_.sessions.Revoke(refresh_token);
  // Ends the session's access tokens too (the API server refuses tokens bound to it).
  if (s.ok() && session.ok()) s = CloseBindings(member, {*session});
  Audit("logout", s, member, member, ctx);
  return s;
}

absl::Status Authenticator::CloseBindings(const std::string& member,
                                          const std::vector<Session>& sessions) {
  const std::string ns = MemberNamespace(options_.namespace_prefix, member);
  absl::Status first;
  for (const Session& s : sessions) first.Update(deps_.issuer.CloseBinding(ns, s.binding));
  return first;
}

void Authenticator::RollBack(const std::string& name, const MemberProvisioner::Progress& progress) {
  // Never touch a namespace that is not this member's; delete it only if this attempt made it.
  if (progress.namespace_owned) {
    absl::Status s = deps_.provisioner.Deprovision(name, progress.namespace_created);
    if (!s.ok()) LogEvent(LogLevel::kWarn, "create_member.rollback_failed", {{"error", s}});
  }
  deps_.members.Delete(name).status().IgnoreError();  // a later attempt starts clean
}

absl::StatusOr<MemberInfo> Authenticator::CreateMember(const RequestContext& ctx,
                                                       const MemberSpec& spec,
                                                       const std::string& password) {
  absl::StatusOr<Caller> caller = deps_.identity.RequireAdmin(ctx.authorization);
  absl::StatusOr<MemberInfo> result = [&]() -> absl::StatusOr<MemberInfo> {
    if (!caller.ok()) return caller.status();
    if (!IsDnsLabel(spec.name)) return absl::InvalidArgumentError("name: not a DNS label");
    if (!IsDnsLabel(MemberNamespace(options_.namespace_prefix, spec.name))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "name: too long for a namespace with the prefix \"", options_.namespace_prefix,
          "\" (at most ", 63 - options_.namespace_prefix.size(), " characters)"));
    }
    MemberRecord record{"", deps_.clock.Now(), std::nullopt};
    if (!password.empty()) {
      absl::StatusOr<std::string> hash = deps_.hasher.Hash(password);
      if (!hash.ok()) return Prefixed("password", hash.status());
      record.password_hash = *std::move(hash);
    }
    LK_RETURN_IF_ERROR(deps_.members.Create(spec.name, record));
    MemberProvisioner::Progress progress;
    if (absl::Status s = deps_.provisioner.Provision(spec, &progress); !s.ok()) {
      RollBack(spec.name, progress);
      return s;
    }
    return MemberInfo{spec.name,
                      deps_.provisioner.NamespaceOf(spec.name),
                      spec.admin,
                      !password.empty(),
                      record.created,
                      std::nullopt,
                      0,
                      spec.quota};
  }();
  Audit("create_member", result.status(), spec.name, ActorOf(caller), ctx);
  return result;
}

absl::StatusOr<int> Authenticator::DeleteMember(const RequestContext& ctx, const std::string& name,
                                                bool delete_namespace) {
  absl::StatusOr<Caller> caller = deps_.identity.RequireAdmin(ctx.authorization);
  absl::StatusOr<int> result = [&]() -> absl::StatusOr<int> {
    if (!caller.ok()) return caller.status();
    if (caller->member == name) {
      return absl::FailedPreconditionError("admins cannot delete themselves");
    }
    LK_ASSIGN_OR_RETURN(std::optional<MemberRecord> record, deps_.members.Get(name, true));
    if (!record.has_value()) return absl::NotFoundError(absl::StrCat("no member ", name));
    // The ServiceAccount goes first: every token it had stops working at once.
    LK_RETURN_IF_ERROR(deps_.provisioner.Deprovision(name, delete_namespace));
    LK_ASSIGN_OR_RETURN(std::vector<Session> sessions, deps_.sessions.RevokeMember(name));
    int revoked = static_cast<int>(sessions.size());
    LK_RETURN_IF_ERROR(deps_.members.Delete(name).status());
    return revoked;
  }();
  Audit("delete_member", result.status(), name, ActorOf(caller), ctx);
  return result;
}

absl::Status Authenticator::SetPassword(const RequestContext& ctx, const std::string& name,
                                        const std::string& new_password,
                                        const std::string& old_password) {
  std::string actor;
  absl::Status result = [&]() -> absl::Status {
    bool admin = false;
    if (!ctx.authorization.empty()) {
      LK_ASSIGN_OR_RETURN(Caller caller, deps_.identity.Identify(ctx.authorization));
      actor = caller.member.empty() ? caller.username : caller.member;
      admin = caller.admin;
      if (!admin && caller.member != name) {
        return absl::PermissionDeniedError("only admins may set other members' passwords");
      }
    }
    if (!admin) {
      if (old_password.empty()) {
        return absl::InvalidArgumentError("old_password: required unless the caller is an admin");
      }
      LK_RETURN_IF_ERROR(CheckPassword(name, old_password, ctx.peer));
      actor = name;
    }
    LK_ASSIGN_OR_RETURN(std::optional<MemberRecord> record, deps_.members.Get(name, true));
    if (!record.has_value()) return absl::NotFoundError(absl::StrCat("no member ", name));
    absl::StatusOr<std::string> hash = deps_.hasher.Hash(new_password);
    if (!hash.ok()) return Prefixed("new_password", hash.status());
    LK_RETURN_IF_ERROR(deps_.members.SetPasswordHash(name, *hash));
    // A new password ends every session that the old one opened, and their access tokens.
    LK_ASSIGN_OR_RETURN(std::vector<Session> sessions, deps_.sessions.RevokeMember(name));
    return CloseBindings(name, sessions);
  }();
  Audit("set_password", result, name, actor, ctx);
  return result;
}

absl::StatusOr<std::vector<MemberInfo>> Authenticator::ListMembers(const RequestContext& ctx) {
  absl::StatusOr<Caller> caller = deps_.identity.RequireAdmin(ctx.authorization);
  absl::StatusOr<std::vector<MemberInfo>> result =
      [&]() -> absl::StatusOr<std::vector<MemberInfo>> {
    if (!caller.ok()) return caller.status();
    LK_ASSIGN_OR_RETURN(auto records, deps_.members.List());
    LK_ASSIGN_OR_RETURN(auto objects, deps_.provisioner.ListObjects());
    std::map<std::string, int> sessions = deps_.sessions.ActiveCounts();
    std::vector<MemberInfo> out;
    for (const auto& [name, record] : records) {
      MemberInfo m{name,
                   deps_.provisioner.NamespaceOf(name),
                   false,
                   !record.password_hash.empty(),
                   record.created,
                   record.last_login,
                   0,
                   {}};
      if (auto it = objects.find(name); it != objects.end()) {
        m.admin = it->second.admin;
        m.quota = it->second.quota;
      }
      if (auto it = sessions.find(name); it != sessions.end()) m.active_sessions = it->second;
      out.push_back(std::move(m));
    }
    return out;
  }();
  Audit("list_members", result.status(), "", ActorOf(caller), ctx);
  return result;
}

absl::StatusOr<IssuedKubeconfig> Authenticator::IssueKubeconfig(const RequestContext& ctx,
                                                                const std::string& ns,
                                                                const std::string& service_account,
                                                                absl::Duration ttl) {
  absl::StatusOr<Caller> caller = deps_.identity.RequireAdmin(ctx.authorization);
  absl::StatusOr<IssuedKubeconfig> result = [&]() -> absl::StatusOr<IssuedKubeconfig> {
    if (!caller.ok()) return caller.status();
    LK_ASSIGN_OR_RETURN(rapidjson::Document sa,
                        deps_.client.Get(kube::resources::ServiceAccounts(), ns, service_account));
    if (json::GetString(sa, {"metadata", "labels", kKubeconfigLabel}) != "enabled") {
      return absl::FailedPreconditionError(absl::StrCat("ServiceAccount ", ns, "/", service_account,
                                                        " is not labelled ", kKubeconfigLabel,
                                                        "=enabled"));
    }
    if (ttl <= absl::ZeroDuration()) ttl = options_.token_ttl;
    ttl = std::min(ttl, options_.max_issued_ttl);
    LK_ASSIGN_OR_RETURN(IssuedToken token, deps_.issuer.Issue(ns, service_account, ttl));
    return IssuedKubeconfig{Render(service_account, ns, CredentialForm::kToken, token.token),
                            token.expiry};
  }();
  Audit("issue_kubeconfig", result.status(), absl::StrCat(ns, "/", service_account),
        ActorOf(caller), ctx);
  return result;
}

}  // namespace labkube::authenticator
