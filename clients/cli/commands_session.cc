// labctl login, logout, whoami, passwd, kubeconfig, credential.
#include "absl/strings/str_cat.h"
#include "clients/cli/command_context.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/kubeconfig_merge.h"
#include "clients/cli/views.h"
#include "lib/kube/json.h"
#include "lib/status_macros.h"

namespace labkube::cli {
namespace {

namespace json = kube::json;

// Refresh the access token when it has less than this left (kubectl caches ExecCredentials
// until expirationTimestamp).
constexpr absl::Duration kCredentialMargin = absl::Minutes(5);

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return t.seconds() == 0 ? absl::InfinitePast() : absl::FromUnixSeconds(t.seconds());
}

absl::Status Login(CommandContext& ctx) {
  const Flags& flags = ctx.flags;
  LK_ASSIGN_OR_RETURN(ConfigStore store, ctx.Store());
  absl::StatusOr<Config> saved = store.LoadConfig();
  Config config = saved.ok() ? *saved : Config();
  const Endpoint endpoint = ResolveEndpoint(ctx.endpoint, config);
  const std::string username = !flags.username.empty() ? flags.username : config.member;
  if (username.empty()) return UsageError("--username is required");
  LK_ASSIGN_OR_RETURN(auto client, GatewayClient::Connect(endpoint));
  LK_ASSIGN_OR_RETURN(
      std::string password,
      ctx.ReadPassword(flags.password_stdin, absl::StrCat("Password for ", username, ": ")));
  gw::LoginRequest req;
  req.set_username(username);
  req.set_password(password);
  req.set_form(gw::KUBECONFIG_FORM_EXEC);
  gw::LoginResponse resp;
  LK_RETURN_IF_ERROR(client->Check(
      client->stub().Login(client->NewContext("", absl::Seconds(30)).get(), req, &resp)));
  config = Config{endpoint.server, endpoint.ca_file, endpoint.plaintext, resp.member(),
                  resp.namespace_()};
  LK_RETURN_IF_ERROR(store.SaveConfig(config));
  Credentials creds{resp.member(), resp.access_token(), FromProto(resp.access_token_expiry()),
                    resp.refresh_token(), FromProto(resp.refresh_token_expiry())};
  LK_RETURN_IF_ERROR(store.SaveCredentials(creds));
  ctx.io.err << "Logged in to " << endpoint.server << " as " << resp.member() << " (namespace "
             << resp.namespace_() << ")";
  if (creds.refresh_expiry != absl::InfinitePast()) {
    ctx.io.err << "; the session lasts until " << Rfc3339(creds.refresh_expiry);
  }
  ctx.io.err << ".\n";
  return absl::OkStatus();
}

absl::Status Logout(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(ConfigStore store, ctx.Store());
  absl::StatusOr<Credentials> creds = store.LoadCredentials();
  if (creds.ok() && !creds->refresh_token.empty()) {
    absl::StatusOr<Config> config = store.LoadConfig();
    auto client =
        GatewayClient::Connect(ResolveEndpoint(ctx.endpoint, config.ok() ? *config : Config()));
    if (client.ok()) {
      gw::LogoutRequest req;
      req.set_refresh_token(creds->refresh_token);
      gw::LogoutResponse resp;
      absl::Status s = (*client)->Check(
          (*client)->stub().Logout((*client)->NewContext("", absl::Seconds(10)).get(), req, &resp));
      if (!s.ok()) ctx.io.err << "labctl: could not revoke the session (" << s.message() << ")\n";
    }
  }
  LK_RETURN_IF_ERROR(store.DeleteCredentials());
  ctx.io.err << "Logged out.\n";
  return absl::OkStatus();
}

absl::Status WhoAmI(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::WhoAmIResponse who;
  LK_RETURN_IF_ERROR(session->Call(&Stub::WhoAmI, gw::WhoAmIRequest(), &who));
  rapidjson::Document doc(rapidjson::kObjectType);
  json::SetString(doc, {"member"}, who.member());
  json::SetString(doc, {"namespace"}, who.namespace_());
  json::SetBool(doc, {"admin"}, who.admin());
  json::SetString(doc, {"username"}, who.username());
  json::SetString(doc, {"server"}, session->client().endpoint().server);
  json::SetString(doc, {"token_expires"}, Rfc3339(session->credentials().access_expiry));
  json::SetString(doc, {"session_expires"}, Rfc3339(session->credentials().refresh_expiry));
  return ctx.PrintObject(doc);
}

absl::Status Passwd(CommandContext& ctx, bool from_stdin) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  LK_ASSIGN_OR_RETURN(std::string old_password, ctx.ReadPassword(from_stdin, "Current password: "));
  LK_ASSIGN_OR_RETURN(std::string new_password, ctx.ReadPassword(from_stdin, "New password: "));
  gw::SetPasswordRequest req;
  req.set_old_password(old_password);
  req.set_new_password(new_password);
  gw::SetPasswordResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::SetPassword, req, &resp));
  ctx.io.err << "Password changed; other sessions were signed out.\n";
  return absl::OkStatus();
}

absl::Status Kubeconfig(CommandContext& ctx, bool merge, bool token_form) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  LK_ASSIGN_OR_RETURN(
      gw::RefreshResponse resp,
      session->Refresh(true, token_form ? gw::KUBECONFIG_FORM_TOKEN : gw::KUBECONFIG_FORM_EXEC));
  if (resp.kubeconfig().empty()) return absl::InternalError("the gateway sent no kubeconfig");
  std::string kubeconfig = resp.kubeconfig();
  if (auto dir = ctx.io.getenv("LABCTL_CONFIG_DIR"); dir.has_value() && !dir->empty()) {
    LK_ASSIGN_OR_RETURN(kubeconfig, SetExecEnv(kubeconfig, "LABCTL_CONFIG_DIR", *dir));
  }
  if (!merge) {
    ctx.io.out << kubeconfig;
    return absl::OkStatus();
  }
  const std::string path = DefaultKubeconfigPath(ctx.io.getenv);
  absl::StatusOr<std::string> existing = ReadWholeFile(path);
  if (!existing.ok() && !absl::IsNotFound(existing.status())) return existing.status();
  absl::StatusOr<std::string> merged =
      MergeKubeconfig(existing.ok() ? *existing : "", kubeconfig);
  if (!merged.ok()) return LocalError(absl::StrCat(path, ": ", merged.status().message()));
  LK_RETURN_IF_ERROR(WriteFileAtomically(path, *merged, 0600));
  ctx.io.err << "Merged the labkube context into " << path << " and made it current.\n";
  return absl::OkStatus();
}

absl::Status Credential(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  const absl::Time expiry = session->credentials().access_expiry;
  if (expiry == absl::InfinitePast() || expiry - kCredentialMargin < absl::Now()) {
    LK_RETURN_IF_ERROR(session->Refresh(false, gw::KUBECONFIG_FORM_EXEC).status());
  }
  rapidjson::Document doc(rapidjson::kObjectType);
  json::SetString(doc, {"apiVersion"}, "client.authentication.k8s.io/v1");
  json::SetString(doc, {"kind"}, "ExecCredential");
  json::SetString(doc, {"status", "token"}, session->credentials().access_token);
  if (session->credentials().access_expiry != absl::InfinitePast()) {
    json::SetString(doc, {"status", "expirationTimestamp"},
                    Rfc3339(session->credentials().access_expiry));
  }
  ctx.io.out << json::ToString(doc) << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddSessionCommands(CLI::App& app, CommandContext& ctx) {
  Flags& f = ctx.flags;
  CLI::App* login = app.add_subcommand("login", "Log in to the gateway and save the session");
  login->add_option("--username", f.username, "Member name (default: the last one)");
  login->add_flag("--password-stdin", f.password_stdin,
                  "Read the password from the first line of stdin");
  login->footer(
      "Example: echo \"$PW\" | labctl login --server gw.lab:443 --ca-file ca.crt "
      "--username alice --password-stdin");
  ctx.Leaf(login, [&ctx] { return Login(ctx); });

  CLI::App* logout = app.add_subcommand("logout", "Revoke the session and forget the tokens");
  ctx.Leaf(logout, [&ctx] { return Logout(ctx); });

  CLI::App* whoami = app.add_subcommand("whoami", "Show who is logged in");
  ctx.AddOutput(whoami);
  ctx.Leaf(whoami, [&ctx] { return WhoAmI(ctx); });

  CLI::App* passwd = app.add_subcommand("passwd", "Change your password");
  passwd->add_flag("--password-stdin", f.password_stdin,
                   "Read the current then the new password from two lines of stdin");
  ctx.Leaf(passwd, [&ctx] { return Passwd(ctx, ctx.flags.password_stdin); });

  CLI::App* kubeconfig = app.add_subcommand(
      "kubeconfig", "Print a kubeconfig for kubectl (it refreshes tokens through labctl)");
  kubeconfig->add_flag("--merge", f.merge, "Merge into ~/.kube/config ($KUBECONFIG) instead");
  kubeconfig->add_flag("--token", f.token_form,
                       "Embed the current access token instead of the `labctl credential` plugin");
  ctx.Leaf(kubeconfig, [&ctx] { return Kubeconfig(ctx, ctx.flags.merge, ctx.flags.token_form); });

  CLI::App* credential = app.add_subcommand(
      "credential", "kubectl exec credential plugin: print an ExecCredential with a fresh token");
  ctx.Leaf(credential, [&ctx] { return Credential(ctx); });
}

}  // namespace labkube::cli
