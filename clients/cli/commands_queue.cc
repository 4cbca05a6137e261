// labctl queue [--machine-type TYPE]: my pods waiting in line, or the whole line of one type.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cli/command_context.h"
#include "clients/cli/queue_views.h"
#include "lib/status_macros.h"

namespace labkube::cli {
namespace {

absl::StatusOr<gw::Queue> GetLine(Session& session, const std::string& type) {
  gw::GetQueueRequest req;
  req.set_machine_type(type);
  gw::Queue q;
  LK_RETURN_IF_ERROR(session.Call(&Stub::GetQueue, req, &q));
  return q;
}

// The whole line of one type, then (tables only) what its estimates assume.
absl::Status OneType(CommandContext& ctx, Session& session) {
  LK_ASSIGN_OR_RETURN(gw::Queue q, GetLine(session, ctx.flags.machine_type));
  rapidjson::Document doc(rapidjson::kArrayType);
  for (const gw::QueueEntry& e : q.entries()) {
    doc.PushBack(QueueEntryView(q, e, doc.GetAllocator()), doc.GetAllocator());
  }
  LK_RETURN_IF_ERROR(ctx.PrintList(
      doc, QueueColumns(absl::Now(), absl::LocalTimeZone()),
      absl::StrCat("Nobody waits for ", q.group(), "/", q.machine_type(),
                   ": a free slot is taken at once (`labctl machines` shows FREE/TOTAL).")));
  LK_ASSIGN_OR_RETURN(Format format, ctx.OutputFormat());
  if (format == Format::kTable && q.entries_size() > 0 && !q.estimate_note().empty()) {
    ctx.io.err << "Note: " << q.estimate_note() << ".\n";
  }
  return absl::OkStatus();
}

// My entries in the line of every type someone waits for.
absl::Status Mine(CommandContext& ctx, Session& session) {
  gw::ListMachineTypesResponse types;
  LK_RETURN_IF_ERROR(session.Call(&Stub::ListMachineTypes, gw::ListMachineTypesRequest(), &types));
  rapidjson::Document doc(rapidjson::kArrayType);
  for (const gw::MachineType& t : types.machine_types()) {
    if (t.waiting() <= 0) continue;
    LK_ASSIGN_OR_RETURN(gw::Queue q, GetLine(session, absl::StrCat(t.group(), "/", t.name())));
    for (const gw::QueueEntry& e : q.entries()) {
      if (e.mine()) doc.PushBack(QueueEntryView(q, e, doc.GetAllocator()), doc.GetAllocator());
    }
  }
  return ctx.PrintList(doc, MyQueueColumns(absl::Now(), absl::LocalTimeZone()),
                       "Nothing of yours waits in line (`labctl queue --machine-type TYPE` shows "
                       "the line of a type).");
}

absl::Status Queue(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  return ctx.flags.machine_type.empty() ? Mine(ctx, *session) : OneType(ctx, *session);
}

}  // namespace

void AddQueueCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* queue = app.add_subcommand(
      "queue",
      "Your pods and workspaces waiting in line for a machine, with place and estimated start");
  queue->add_option("--machine-type", ctx.flags.machine_type,
                    "Show the whole line of TYPE or GROUP/TYPE instead (members' names, "
                    "your own pods)");
  ctx.AddOutput(queue);
  ctx.Leaf(queue, [&ctx] { return Queue(ctx); });
}

}  // namespace labkube::cli
