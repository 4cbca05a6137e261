#include "tests/e2e/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace labkube::e2e {
namespace {

// An unlinked temporary file: nothing to clean up, whatever happens to the test.
int TempFile() {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(dir != nullptr ? dir : "/tmp", "/e2e-cmd-XXXXXX");
  int fd = mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd >= 0) unlink(tmpl.c_str());
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[8192];
  lseek(fd, 0, SEEK_SET);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

// The child's environment: ours with `extra` replacing or adding entries.
std::vector<std::string> ChildEnv(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (extra.count(key) == 0) env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : extra) env.push_back(absl::StrCat(k, "=", v));
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Waits for `pid` until `deadline`; kills it after. Returns the wait status, or -1 on timeout.
int WaitUntil(pid_t pid, absl::Time deadline, bool* timed_out) {
  int status = 0;
  for (absl::Duration pause = absl::Milliseconds(2);; pause = std::min(pause * 2, absl::Milliseconds(50))) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(pause);
  }
  *timed_out = true;
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

std::string CommandResult::Describe() const {
  return absl::StrCat(absl::StrJoin(argv, " "), " -> ",
                      timed_out ? "timed out" : absl::StrCat("exit ", exit_code),
                      "\n--- stdout:\n", out, "\n--- stderr:\n", err);
}

absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                  const CommandOptions& options) {
  int in = TempFile(), out = TempFile(), err = TempFile();
  auto close_all = [&] {
    for (int fd : {in, out, err}) {
      if (fd >= 0) close(fd);
    }
  };
  if (in < 0 || out < 0 || err < 0) {
    close_all();
    return absl::InternalError("cannot create temporary files");
  }
  if (write(in, options.stdin_text.data(), options.stdin_text.size()) !=
      static_cast<ssize_t>(options.stdin_text.size())) {
    close_all();
    return absl::InternalError("cannot write the command's stdin");
  }
  lseek(in, 0, SEEK_SET);
  std::vector<std::string> args = argv, env = ChildEnv(options.env);
  std::vector<char*> arg_ptrs = Pointers(args), env_ptrs = Pointers(env);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execve(arg_ptrs[0], arg_ptrs.data(), env_ptrs.data());
    _exit(127);
  }
  if (pid < 0) {
    close_all();
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  CommandResult r;
  r.argv = argv;
  int status = WaitUntil(pid, absl::Now() + options.timeout, &r.timed_out);
  if (!r.timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  close_all();
  if (r.exit_code == 127 && r.out.empty() && r.err.empty()) {
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0]));
  }
  return r;
}

}  // namespace labkube::e2e
