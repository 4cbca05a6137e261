// labctl admin member create|delete|passwd|list (admins only; the gateway forwards them to the
// authenticator).
#include "absl/strings/str_cat.h"
#include "clients/cli/command_context.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/views.h"
#include "lib/status_macros.h"

namespace labkube::cli {
namespace {

// The password from stdin, or a generated one that is printed once.
absl::StatusOr<std::string> NewPassword(CommandContext& ctx, bool* generated) {
  *generated = !ctx.flags.password_stdin;
  if (*generated) return GeneratePassword();
  return ctx.ReadPassword(true, "");
}

absl::Status CreateMember(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::CreateMemberRequest req;
  req.set_name(ctx.flags.name);
  req.set_admin(ctx.flags.admin);
  for (const std::string& q : ctx.flags.quota) {
    size_t eq = q.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(absl::StrCat("--quota: \"", q, "\" is not RESOURCE=AMOUNT"));
    }
    (*req.mutable_quota())[q.substr(0, eq)] = q.substr(eq + 1);
  }
  bool generated = false;
  LK_ASSIGN_OR_RETURN(std::string password, NewPassword(ctx, &generated));
  req.set_password(password);
  gw::Member member;
  LK_RETURN_IF_ERROR(session->Call(&Stub::CreateMember, req, &member));
  ctx.io.err << "Created member " << member.name() << " (namespace " << member.namespace_()
             << (member.admin() ? ", admin" : "") << ").\n";
  if (generated)
    ctx.io.out << "Password for " << member.name() << " (shown once): " << password << "\n";
  return absl::OkStatus();
}

absl::Status DeleteMember(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::DeleteMemberRequest req;
  req.set_name(ctx.flags.name);
  req.set_delete_namespace(ctx.flags.delete_namespace);
  gw::DeleteMemberResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::DeleteMember, req, &resp));
  ctx.io.err << "Deleted member " << ctx.flags.name << " (" << resp.revoked_sessions()
             << " sessions revoked" << (ctx.flags.delete_namespace ? ", namespace deleted" : "")
             << ").\n";
  return absl::OkStatus();
}

absl::Status SetMemberPassword(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  bool generated = false;
  LK_ASSIGN_OR_RETURN(std::string password, NewPassword(ctx, &generated));
  gw::SetPasswordRequest req;
  req.set_name(ctx.flags.name);
  req.set_new_password(password);
  gw::SetPasswordResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::SetPassword, req, &resp));
  ctx.io.err << "Password of " << ctx.flags.name << " set; their sessions were signed out.\n";
  if (generated)
    ctx.io.out << "Password for " << ctx.flags.name << " (shown once): " << password << "\n";
  return absl::OkStatus();
}

absl::Status ListMembers(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::ListMembersResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::ListMembers, gw::ListMembersRequest(), &resp));
  rapidjson::Document doc(rapidjson::kArrayType);
  for (const gw::Member& m : resp.members()) {
    doc.PushBack(MemberView(m, doc.GetAllocator()), doc.GetAllocator());
  }
  return ctx.PrintList(doc, MemberColumns(), "No members.");
}

}  // namespace

void AddAdminCommands(CLI::App& app, CommandContext& ctx) {
  Flags& f = ctx.flags;
  CLI::App* admin = app.add_subcommand("admin", "Lab administration (admins only)");
  admin->require_subcommand(1);
  CLI::App* member = admin->add_subcommand("member", "Lab members");
  member->require_subcommand(1);

  CLI::App* create = member->add_subcommand(
      "create", "Create a member (namespace lab-NAME); prints a generated password once");
  create->add_option("name", f.name, "Member name (a DNS label)")->required();
  create->add_flag("--password-stdin", f.password_stdin,
                   "Read the password from stdin instead of generating one");
  create->add_flag("--admin", f.admin, "Make the member an admin");
  create->add_option("--quota", f.quota,
                     "ResourceQuota entry RESOURCE=AMOUNT, e.g. requests.nvidia.com/gpu=2 "
                     "(repeatable)");
  ctx.Leaf(create, [&ctx] { return CreateMember(ctx); });

  CLI::App* del = member->add_subcommand("delete", "Delete a member (their tokens stop working)");
  del->add_option("name", f.name, "Member name")->required();
  del->add_flag("--delete-namespace", f.delete_namespace,
                "Also delete lab-NAME and everything in it");
  ctx.Leaf(del, [&ctx] { return DeleteMember(ctx); });

  CLI::App* passwd =
      member->add_subcommand("passwd", "Set a member's password; prints a generated one once");
  passwd->add_option("name", f.name, "Member name")->required();
  passwd->add_flag("--password-stdin", f.password_stdin, "Read the password from stdin");
  ctx.Leaf(passwd, [&ctx] { return SetMemberPassword(ctx); });

  CLI::App* list = member->add_subcommand("list", "Every member");
  ctx.AddOutput(list);
  ctx.Leaf(list, [&ctx] { return ListMembers(ctx); });
}

}  // namespace labkube::cli
