// Runs a command line the way a user's shell would for the end-to-end tests: given stdin text,
// extra environment variables, separate stdout and stderr, and a timeout after which the child
// is killed. Test-only.
//
//   auto r = e2e::Run({labctl, "machines", "-o", "json"}, {.env = {{"LABCTL_CONFIG_DIR", dir}}});
//   ASSERT_TRUE(r.ok()) << r.status();   // could not start it at all
//   EXPECT_EQ(r->exit_code, 0) << r->Describe();
//
// Thread safety: Run may be called from several threads; each call owns its child.
#ifndef LABKUBE_TESTS_E2E_COMMAND_H_
#define LABKUBE_TESTS_E2E_COMMAND_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::e2e {

struct CommandOptions {
  std::string stdin_text;                  // fed on stdin (empty: stdin is /dev/null)
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  absl::Duration timeout = absl::Seconds(60);
};

struct CommandResult {
  std::vector<std::string> argv;
  int exit_code = -1;  // -1: killed by a signal or by the timeout
  bool timed_out = false;
  std::string out;
  std::string err;
  // "argv... -> exit N\nstdout:...\nstderr:..." for failure messages.
  std::string Describe() const;
};

// argv[0] is a path. Errors only when the command cannot be started.
absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                  const CommandOptions& options = {});

}  // namespace labkube::e2e

#endif  // LABKUBE_TESTS_E2E_COMMAND_H_
