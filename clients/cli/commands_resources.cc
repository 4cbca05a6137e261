// labctl machines, labctl storage create|resize|delete|list.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/command_context.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/views.h"
#include "lib/status_macros.h"

namespace labkube::cli {
namespace {

absl::Status PrintMachines(CommandContext& ctx, const gw::ListMachineTypesResponse& resp) {
  rapidjson::Document doc(rapidjson::kArrayType);
  for (const gw::MachineType& m : resp.machine_types()) {
    doc.PushBack(MachineView(m, doc.GetAllocator()), doc.GetAllocator());
  }
  return ctx.PrintList(doc, MachineColumns(), "No machine types are defined.");
}

absl::Status Machines(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::ListMachineTypesRequest req;
  req.set_group(ctx.flags.group);
  if (!ctx.flags.watch) {
    gw::ListMachineTypesResponse resp;
    LK_RETURN_IF_ERROR(session->Call(&Stub::ListMachineTypes, req, &resp));
    return PrintMachines(ctx, resp);
  }
  LK_ASSIGN_OR_RETURN(std::string auth, session->Authorization());
  auto context = session->client().NewContext(auth, absl::Hours(24));
  auto stream = session->client().stub().WatchMachineTypes(context.get(), req);
  gw::ListMachineTypesResponse update;
  for (bool first = true; stream->Read(&update); first = false) {
    if (!first) ctx.io.out << "\n";
    ctx.io.out << "# " << Rfc3339(absl::Now()) << "\n";
    LK_RETURN_IF_ERROR(PrintMachines(ctx, update));
    ctx.io.out.flush();
  }
  return session->client().Check(stream->Finish());
}

absl::Status PrintStorage(CommandContext& ctx, const gw::Storage& storage) {
  rapidjson::Document doc(rapidjson::kArrayType);
  for (rapidjson::Value& v : VolumeViews(storage, doc.GetAllocator())) {
    doc.PushBack(v, doc.GetAllocator());
  }
  return ctx.PrintList(doc, VolumeColumns(),
                       "No storage yet: create it with `labctl storage create --size 10Gi`.");
}

gw::VolumeKind VolumeOf(const std::string& name) {
  if (name == "cephfs") return gw::VOLUME_KIND_CEPHFS;
  if (name == "nfs") return gw::VOLUME_KIND_NFS;
  return gw::VOLUME_KIND_UNSPECIFIED;
}

absl::Status CreateStorage(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::CreateStorageRequest req;
  req.set_member(ctx.member);
  req.set_size(ctx.flags.size);
  req.set_backup_size(ctx.flags.backup_size);
  gw::Storage storage;
  LK_RETURN_IF_ERROR(session->Call(&Stub::CreateStorage, req, &storage));
  ctx.io.err << "Created the storage of " << storage.member()
             << " (backups: " << storage.backup().schedule() << ").\n";
  return PrintStorage(ctx, storage);
}

absl::Status ResizeStorage(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::ResizeStorageRequest req;
  req.set_member(ctx.member);
  req.set_volume(VolumeOf(ctx.flags.volume));
  req.set_size(ctx.flags.size);
  gw::Storage storage;
  LK_RETURN_IF_ERROR(session->Call(&Stub::ResizeStorage, req, &storage));
  ctx.io.err << "Resize requested; the capacity follows once the volume has grown.\n";
  return PrintStorage(ctx, storage);
}

absl::Status DeleteStorage(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  const std::string member = !ctx.member.empty() ? ctx.member : session->config().member;
  std::string confirm = ctx.flags.yes ? member : "";
  if (!ctx.flags.yes) {
    ctx.io.err << "This deletes the storage of " << member
               << (ctx.flags.keep_backup ? " (keeping the NFS backup volume)" : " and its backup")
               << " with all data on it. Type the member name to confirm: ";
    std::getline(ctx.io.in, confirm);
    if (confirm != member) return UsageError("not confirmed (or pass --yes); nothing was deleted");
  }
  gw::DeleteStorageRequest req;
  req.set_member(ctx.member);
  req.set_confirm(confirm);
  req.set_keep_backup(ctx.flags.keep_backup);
  gw::DeleteStorageResponse resp;
  LK_RETURN_IF_ERROR(session->Call(&Stub::DeleteStorage, req, &resp));
  ctx.io.err << "Deleted " << absl::StrJoin(resp.deleted(), ", ") << ".\n";
  return absl::OkStatus();
}

absl::Status ListStorage(CommandContext& ctx) {
  LK_ASSIGN_OR_RETURN(auto session, ctx.OpenSession());
  gw::ListStorageRequest req;
  req.set_member(ctx.member);
  gw::Storage storage;
  LK_RETURN_IF_ERROR(session->Call(&Stub::ListStorage, req, &storage));
  return PrintStorage(ctx, storage);
}

}  // namespace

void AddResourceCommands(CLI::App& app, CommandContext& ctx) {
  Flags& f = ctx.flags;
  CLI::App* machines = app.add_subcommand(
      "machines", "Machine types: GPU model x count, CPU, memory, free/total, waiting");
  machines->add_option("--group", f.group, "Only this machine group");
  machines->add_flag("-w,--watch", f.watch, "Keep printing the list whenever it changes");
  ctx.AddOutput(machines);
  ctx.Leaf(machines, [&ctx] { return Machines(ctx); });

  CLI::App* storage = app.add_subcommand("storage", "Your volumes (CephFS data, NFS backup)");
  storage->require_subcommand(1);
  CLI::App* create = storage->add_subcommand(
      "create", "Create the CephFS data volume, the NFS backup volume and the nightly backup");
  create->add_option("--size", f.size, "Size of the volumes, e.g. 10Gi")->required();
  create->add_option("--backup-size", f.backup_size, "Size of the NFS volume (default: --size)");
  ctx.AddMember(create);
  ctx.AddOutput(create);
  ctx.Leaf(create, [&ctx] { return CreateStorage(ctx); });

  CLI::App* resize = storage->add_subcommand("resize", "Grow a volume (never shrinks)");
  resize->add_option("--size", f.size, "New size, e.g. 20Gi")->required();
  resize->add_option("--volume", f.volume, "cephfs or nfs (default: both)")
      ->check(CLI::IsMember({"cephfs", "nfs"}));
  ctx.AddMember(resize);
  ctx.AddOutput(resize);
  ctx.Leaf(resize, [&ctx] { return ResizeStorage(ctx); });

  CLI::App* del = storage->add_subcommand(
      "delete", "Delete the volumes and the backup job (refused while a workspace uses them)");
  del->add_flag("-y,--yes", f.yes, "Do not ask for confirmation");
  del->add_flag("--keep-backup", f.keep_backup, "Keep the NFS backup volume");
  ctx.AddMember(del);
  ctx.Leaf(del, [&ctx] { return DeleteStorage(ctx); });

  CLI::App* list = storage->add_subcommand("list", "Volumes with size, phase and last backup");
  ctx.AddMember(list);
  ctx.AddOutput(list);
  ctx.Leaf(list, [&ctx] { return ListStorage(ctx); });
}

}  // namespace labkube::cli
