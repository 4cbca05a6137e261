// What every labctl command shares: the Io, the global flags (--server, --ca-file,
// --insecure-plaintext, -o, --member) and the list of leaf commands with their actions, plus
// small helpers (open a session, print a listing, read a password). Internal to clients/cli.
//
// Not thread-safe; one per RunLabctl call.
#ifndef LABKUBE_CLIENTS_CLI_COMMAND_CONTEXT_H_
#define LABKUBE_CLIENTS_CLI_COMMAND_CONTEXT_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "clients/cli/config_store.h"
#include "clients/cli/output.h"
#include "clients/cli/session.h"
#include "rapidjson/document.h"

namespace labkube::cli {

using Action = std::function<absl::Status()>;

// Every command's flags and arguments (one parse per CommandContext, so nothing leaks
// between runs).
struct Flags {
  std::string username;
  bool password_stdin = false;
  bool merge = false;
  bool token_form = false;
  std::string group;
  bool watch = false;
  std::string size;
  std::string backup_size;
  std::string volume;
  bool yes = false;
  bool keep_backup = false;
  std::string name;
  std::string kind;
  std::string machine_type;
  std::string image;
  std::vector<std::string> pull_secrets;
  bool no_wait = false;
  int timeout_seconds = 900;
  bool admin = false;
  std::vector<std::string> quota;
  bool delete_namespace = false;
  std::string shell;
};

struct CommandContext {
  explicit CommandContext(Io& io) : io(io) {}

  Io& io;
  Endpoint endpoint;  // --server, --ca-file, --insecure-plaintext
  std::string output = "table";
  std::string member;  // --member (admins: act for another member)
  Flags flags;
  std::vector<std::pair<CLI::App*, Action>> leaves;

  // Registers a leaf command and its action.
  void Leaf(CLI::App* app, Action action) { leaves.emplace_back(app, std::move(action)); }
  // Adds -o/--output to a listing command.
  void AddOutput(CLI::App* app);
  // Adds --member to a command acting in a member's namespace.
  void AddMember(CLI::App* app);

  absl::StatusOr<ConfigStore> Store() const;
  // A logged-in session (kUnauthenticated "not logged in ..." otherwise).
  absl::StatusOr<std::unique_ptr<Session>> OpenSession() const;
  absl::StatusOr<Format> OutputFormat() const { return ParseFormat(output); }

  // Prints a list / an object in the -o format.
  absl::Status PrintList(const rapidjson::Value& items, const std::vector<Column>& columns,
                         std::string_view empty) const;
  absl::Status PrintObject(const rapidjson::Value& object) const;

  // One line from stdin (--password-stdin), else a no-echo prompt on a terminal, else a usage
  // error saying to use --password-stdin. Refuses empty passwords.
  absl::StatusOr<std::string> ReadPassword(bool from_stdin, const std::string& prompt) const;
};

// A random password (24 URL-safe characters).
std::string GeneratePassword();

void AddSessionCommands(CLI::App& app, CommandContext& ctx);
void AddResourceCommands(CLI::App& app, CommandContext& ctx);
void AddWorkspaceCommands(CLI::App& app, CommandContext& ctx);
void AddQueueCommands(CLI::App& app, CommandContext& ctx);
void AddAdminCommands(CLI::App& app, CommandContext& ctx);

// The bash completion script for `app` (see completion.cc).
std::string BashCompletion(const CLI::App& app);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_COMMAND_CONTEXT_H_
