// labctl ide start|stop|list|describe.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "clients/cli/command_context.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/queue_views.h"
#include "clients/cli/views.h"
#include "lib/status_macros.h"

namespace labkube::cli {
namespace {

gw::WorkspaceKind KindOf(const std::string& name) {
  if (name == "jupyterlab") return gw::WORKSPACE_KIND_JUPYTERLAB;
  if (name == "codeserver") return gw::WORKSPACE_KIND_CODESERVER;
  return gw::WORKSPACE_KIND_UNSPECIFIED;
}

// One progress line for a phase change, e.g. "waiting for rtx3090: 2nd of 3 in line (estimated
// 14:20)", "starting on gpu-1: ...", "running on gpu-1: https://...".
std::string Progress(const gw::Workspace& w) {
  std::string detail = w.message().empty() ? w.reason() : w.message();
  switch (w.phase()) {
    case gw::PHASE_WAITING:
      if (w.queue_position() > 0) return InLineText(w, absl::Now(), absl::LocalTimeZone());
      if (w.reason() == "NoFreeSlot" || w.reason() == "MachinesUnavailable") {
        return absl::StrCat("waiting for a machine (", w.machine_group(), "/", w.machine_type(),
                            "): ", detail);
      }
      return absl::StrCat("waiting (", w.reason(), "): ", detail);
    case gw::PHASE_STARTING:
      return absl::StrCat("starting", w.node().empty() ? "" : absl::StrCat(" on ", w.node()), ": ",
                          detail);
    case gw::PHASE_RUNNING:
      return absl::StrCat("running on ", w.node(), w.url().empty() ? "" : ": ", w.url());
    default:
      return absl::StrCat(PhaseText(w.phase()), ": ", detail);
  }
}

absl::Status PrintWorkspace(CommandContext& ctx, const gw::Workspace& w) {
  absl::StatusOr<Format> format = ctx.OutputFormat();
  if (!format.ok()) return format.status();
  if (*format != Format::kTable) {
    rapidjson::Document doc;
    rapidjson::Value v = WorkspaceView(w, doc.GetAllocator());
    return ctx.PrintObject(v);
  }
  std::ostream& out = ctx.io.out;
  out << "Workspace " << w.name() << " (" << KindText(w.kind()) << ") is " << PhaseText(w.phase());
  if (!w.node().empty()) out << " on " << w.node();
  if (w.gpu_count() > 0) {
    out << " with " << w.gpu_count() << " x " << (w.gpu_model().empty() ? "GPU" : w.gpu_model());
  }
  out << ".\n";
  if (w.phase() != gw::PHASE_RUNNING && !w.message().empty()) {
    out << "Reason: " << w.reason() << ": " << w.message() << "\n";
  }
  if (w.queue_position() > 0) {
    out << "Queue:  " << InLineText(w, absl::Now(), absl::LocalTimeZone())
        << "; `labctl queue --machine-type " << w.machine_group() << "/" << w.machine_type()
        << "` shows the line\n";
  }
  out << "URL:    " << w.url() << "\n";
  if (!w.access_token().empty()) {
    out << (w.kind() == gw::WORKSPACE_KIND_CODESERVER ? "Password: " : "Token:  ")
        << w.access_token() << "\n";
  }
  return absl::OkStatus();
}

// Follows the workspace until it runs (OK), fails, disappears or the timeout passes.
absl::Status WaitRunning(CommandContext& ctx, Session& session, const std::string& name,
                         gw::Workspace* last) {
  LK_ASSIGN_OR_RETURN(std::string auth, session.Authorization());
  auto context = session.client().NewContext(auth, absl::Seconds(ctx.flags.timeout_seconds));
  gw::DescribeWorkspaceRequest req;
  req.set_member(ctx.member);
  req.set_name(name);
  auto stream = session.client().stub().WatchWorkspace(context.get(), req);
  gw::Workspace w;
  while (stream->Read(&w)) {
    ctx.io.err << Progress(w) << "\n";
    *last = w;
    if (w.phase() == gw::PHASE_RUNNING || w.phase() == gw::PHASE_FAILED ||
        w.phase() == gw::PHASE_STOPPED) {
      context->TryCancel();
      break;
    }
  }
  grpc::Status end = stream->Finish();
  if (last->phase() == gw::PHASE_RUNNING) return absl::OkStatus();
  if (last->phase() == gw::PHASE_FAILED) {
    return absl::FailedPreconditionError(
        absl::StrCat("workspace ", name, " failed: ", last->reason(), ": ", last->message(),
                     " (fix it, then `labctl ide stop ", name, "` and start again)"));
  }
  if (last->phase() == gw::PHASE_STOPPED) {
    return absl::AbortedError(absl::StrCat("workspace ", name, " was stopped"));
  }
  if (end.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(absl::StrCat(
        "workspace ", name, " is still ", PhaseText(last->phase()), " after ",
        ctx.flags.timeout_seconds, "s (", last->message(), "); ",
        last->queue_position() > 0 ? "it keeps its place in line (`labctl queue`)"
                                   : "it keeps trying",
        ": see `labctl ide describe ", name, "`"));
  }
  return session.client().Check(end);
}

absl::Status Start(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::StartWorkspaceRequest req;
  req.set_member(ctx.member);
  req.set_name(ctx.flags.name);
  req.set_kind(KindOf(ctx.flags.kind));
  req.set_machine_type(ctx.flags.machine_type);
  req.set_image(ctx.flags.image);
  for (const std::string& s : ctx.flags.pull_secrets) req.add_image_pull_secrets(s);
  gw::Workspace w;
  LK_RETURN_IF_ERROR(session->Call(&Stub::StartWorkspace, req, &w));
  if (w.volumes().empty()) {
    ctx.io.err << "Note: no storage is mounted, so files in " << w.name()
               << " are lost when it stops; `labctl storage create --size 10Gi` first keeps "
                  "them.\n";
  }
  if (!ctx.flags.no_wait && w.phase() != gw::PHASE_RUNNING) {
    ctx.io.err << "Started " << w.name() << "; waiting until it runs (Ctrl-C stops waiting, not "
               << "the workspace)...\n";
    absl::Status s = WaitRunning(ctx, *session, w.name(), &w);
    if (!s.ok()) return s;
  }
  return PrintWorkspace(ctx, w);
}

absl::Status Stop(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::StopWorkspaceRequest req;
  req.set_member(ctx.member);
  req.set_name(ctx.flags.name);
  gw::StopWorkspaceResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::StopWorkspace, req, &resp));
  ctx.io.err << "Stopped " << ctx.flags.name << " (deleted " << absl::StrJoin(resp.deleted(), ", ")
             << "); your volumes are kept.\n";
  return absl::OkStatus();
}

absl::Status List(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::ListWorkspacesRequest req;
  req.set_member(ctx.member);
  gw::ListWorkspacesResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::ListWorkspaces, req, &resp));
  rapidjson::Document doc(rapidjson::kArrayType);
  for (const gw::Workspace& w : resp.workspaces()) {
    doc.PushBack(WorkspaceView(w, doc.GetAllocator()), doc.GetAllocator());
  }
  return ctx.PrintList(doc, WorkspaceColumns(),
                       "No workspaces: start one with `labctl ide start NAME --kind jupyterlab "
                       "--machine-type TYPE`.");
}

absl::Status Describe(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::DescribeWorkspaceRequest req;
  req.set_member(ctx.member);
  req.set_name(ctx.flags.name);
  gw::Workspace w;
  LK_RETURN_IF_ERROR(session->Call(&Stub::DescribeWorkspace, req, &w));
  rapidjson::Document doc;
  rapidjson::Value v = WorkspaceView(w, doc.GetAllocator());
  return ctx.PrintObject(v);
}

}  // namespace

void AddWorkspaceCommands(CLI::App& app, CommandContext& ctx) {
  Flags& f = ctx.flags;
  CLI::App* ide = app.add_subcommand("ide", "JupyterLab / code-server workspaces");
  ide->require_subcommand(1);

  CLI::App* start =
      ide->add_subcommand("start", "Start a workspace on a machine type and wait until it runs");
  start->add_option("name", f.name, "Workspace name (a DNS label)")->required();
  start->add_option("--kind", f.kind, "jupyterlab or codeserver")
      ->required()
      ->check(CLI::IsMember({"jupyterlab", "codeserver"}));
  start->add_option("--machine-type", f.machine_type, "TYPE or GROUP/TYPE (see labctl machines)")
      ->required();
  start->add_option("--image", f.image, "Container image (default: the lab's image for --kind)");
  start->add_option("--image-pull-secret", f.pull_secrets,
                    "Secret in your namespace for pulling --image (repeatable)");
  start->add_flag("--no-wait", f.no_wait, "Return at once instead of waiting until it runs");
  start->add_option("--timeout", f.timeout_seconds, "Seconds to wait (default 900)");
  ctx.AddMember(start);
  ctx.AddOutput(start);
  ctx.Leaf(start, [&ctx] { return Start(ctx); });

  CLI::App* stop = ide->add_subcommand("stop", "Stop a workspace and remove what it created");
  stop->add_option("name", f.name, "Workspace name")->required();
  ctx.AddMember(stop);
  ctx.Leaf(stop, [&ctx] { return Stop(ctx); });

  CLI::App* list = ide->add_subcommand("list", "Your workspaces");
  ctx.AddMember(list);
  ctx.AddOutput(list);
  ctx.Leaf(list, [&ctx] { return List(ctx); });

  CLI::App* describe = ide->add_subcommand(
      "describe", "Phase (and why), node, GPU, URL, token and age of a workspace");
  describe->add_option("name", f.name, "Workspace name")->required();
  ctx.AddMember(describe);
  ctx.AddOutput(describe);
  ctx.Leaf(describe, [&ctx] { return Describe(ctx); });
}

}  // namespace labkube::cli
