#include "clients/cli/commands.h"

#include <openssl/rand.h>

#include <exception>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/command_context.h"
#include "clients/cli/exit_codes.h"

namespace labkube::cli {
namespace {

constexpr char kDescription[] =
    "labctl: the lab's GPU machines, storage and JupyterLab / code-server workspaces, through "
    "the labkube gateway.";

constexpr char kFooter[] =
    "\nStart with `labctl login --server HOST:PORT --username NAME`, then `labctl machines`.\n"
    "Config: $LABCTL_CONFIG_DIR (default ~/.config/labkube). Exit codes: 0 ok, 1 local "
    "failure, 2 usage error or refused request, 3 not logged in / not allowed, 4 server error.";

void AddCompletion(CLI::App& app, CommandContext& ctx) {
  CLI::App* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->footer("Load it with: source <(labctl completion bash)");
  completion->add_option("shell", ctx.flags.shell, "Shell (bash)")
      ->required()
      ->check(CLI::IsMember({"bash"}));
  ctx.Leaf(completion, [&app, &ctx] {
    ctx.io.out << BashCompletion(app);
    return absl::OkStatus();
  });
}

// The leaf that was parsed (the deepest parsed command with an action).
const Action* ChosenAction(const CommandContext& ctx) {
  for (const auto& [leaf, action] : ctx.leaves) {
    if (leaf->parsed()) return &action;
  }
  return nullptr;
}

int Run(const std::vector<std::string>& args, Io& io) {
  CommandContext ctx(io);
  CLI::App app(kDescription, "labctl");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--server", ctx.endpoint.server, "Gateway address HOST:PORT (default: saved)");
  app.add_option("--ca-file", ctx.endpoint.ca_file, "CA certificate to trust for the gateway");
  app.add_flag("--insecure-plaintext", ctx.endpoint.plaintext,
               "No TLS (loopback development gateways only)")
      ->group("");
  AddSessionCommands(app, ctx);
  AddResourceCommands(app, ctx);
  AddWorkspaceCommands(app, ctx);
  AddQueueCommands(app, ctx);
  AddAdminCommands(app, ctx);
  AddCompletion(app, ctx);

  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Success& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (args.size() > 1 && !args[1].empty() && args[1][0] != '-' &&
        app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == args[1]; })
            .empty()) {
      message = absl::StrCat("unknown command \"", args[1], "\"");
    }
    io.err << "labctl: " << message << "\nRun `labctl --help` (or `labctl COMMAND --help`).\n";
    return kExitUsage;
  }
  const Action* action = ChosenAction(ctx);
  if (action == nullptr) {
    io.out << app.help();
    return kExitUsage;
  }
  absl::Status status = (*action)();
  if (!status.ok()) io.err << "labctl: " << status.message() << "\n";
  return ExitCodeFor(status);
}

}  // namespace

int RunLabctl(const std::vector<std::string>& args, Io& io) {
  try {
    return Run(args, io);
  } catch (const std::exception& e) {
    io.err << "labctl: unexpected error: " << e.what() << "\n";
    return kExitLocal;
  }
}

void CommandContext::AddOutput(CLI::App* app) {
  app->add_option("-o,--output", output, "Output format: table, json or yaml")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml"}));
}

void CommandContext::AddMember(CLI::App* app) {
  app->add_option("--member", member, "Act for this member (admins only)");
}

absl::StatusOr<ConfigStore> CommandContext::Store() const {
  absl::StatusOr<std::string> dir = ConfigStore::DefaultDir(io.getenv);
  if (!dir.ok()) return dir.status();
  return ConfigStore(*dir);
}

absl::StatusOr<std::unique_ptr<Session>> CommandContext::OpenSession() const {
  absl::StatusOr<ConfigStore> store = Store();
  if (!store.ok()) return store.status();
  auto session = std::make_unique<Session>(std::move(*store), io, endpoint);
  if (absl::Status s = session->Open(); !s.ok()) return s;
  return session;
}

absl::Status CommandContext::PrintList(const rapidjson::Value& items,
                                       const std::vector<Column>& columns,
                                       std::string_view empty) const {
  absl::StatusOr<Format> format = OutputFormat();
  if (!format.ok()) return format.status();
  io.out << RenderList(items, columns, *format, empty);
  return absl::OkStatus();
}

absl::Status CommandContext::PrintObject(const rapidjson::Value& object) const {
  absl::StatusOr<Format> format = OutputFormat();
  if (!format.ok()) return format.status();
  io.out << RenderObject(object, *format);
  return absl::OkStatus();
}

absl::StatusOr<std::string> CommandContext::ReadPassword(bool from_stdin,
                                                         const std::string& prompt) const {
  std::string password;
  if (from_stdin) {
    std::getline(io.in, password);
    while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) {
      password.pop_back();
    }
  } else if (io.read_secret) {
    absl::StatusOr<std::string> typed = io.read_secret(prompt);
    if (!typed.ok()) return typed.status();
    password = *typed;
  } else {
    return UsageError("no terminal to ask for the password: pass it with --password-stdin");
  }
  if (password.empty()) return UsageError("the password is empty");
  return password;
}

std::string GeneratePassword() {
  unsigned char bytes[18];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)),
                            &out);
  return out;
}

}  // namespace labkube::cli
