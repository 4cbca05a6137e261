#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "lib/kube/config.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::it {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// argv as the char* array execv wants; `storage` keeps the strings alive.
std::vector<char*> Argv(std::vector<std::string>& storage) {
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(pid_t parent, int out_fd, int in_fd, char* const* argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, nullptr);
  if (in_fd >= 0) dup2(in_fd, 0);
  dup2(out_fd, 1);
  dup2(out_fd, 2);
  execv(argv[0], argv);
  _exit(127);
}

absl::StatusOr<std::string> WriteTempFile(std::string_view text, std::string_view suffix) {
  std::string path = absl::StrCat(OutputDir(), "/", UniqueName("tmp"), std::string(suffix));
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return path;
}

}  // namespace

absl::StatusOr<std::string> Kubeconfig() {
  std::string path = Env("LABKUBE_KUBECONFIG");
  if (path.empty()) {
    return absl::FailedPreconditionError(
        "LABKUBE_KUBECONFIG is not set: this test needs the local control plane. Run "
        "`tests/cluster/cluster.sh up` and pass LABKUBE_KUBECONFIG (and KUBECTL) from "
        "`tests/cluster/cluster.sh env` to `bazel test --config=cluster`.");
  }
  return path;
}

absl::StatusOr<std::unique_ptr<kube::RestClient>> ClusterClient() {
  absl::StatusOr<std::string> path = Kubeconfig();
  if (!path.ok()) return path.status();
  absl::StatusOr<kube::ClusterConfig> config = kube::LoadKubeconfig(*path);
  if (!config.ok()) return config.status();
  return kube::RestClient::Create(*config);
}

std::string Runfile(std::string_view path) {
  std::string workspace = Env("TEST_WORKSPACE");
  return absl::StrCat(Env("TEST_SRCDIR"), "/", workspace.empty() ? "labkube" : workspace, "/",
                      std::string(path));
}

std::string OutputDir() {
  for (const char* name : {"TEST_UNDECLARED_OUTPUTS_DIR", "TEST_TMPDIR"}) {
    std::string dir = Env(name);
    if (!dir.empty()) return dir;
  }
  return "/tmp";
}

std::string UniqueName(std::string_view prefix) {
  static absl::BitGen* gen = new absl::BitGen();
  return absl::StrFormat("%s-%08x", std::string(prefix), absl::Uniform<uint32_t>(*gen));
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout, absl::Duration interval) {
  absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(interval);
  }
  return true;
}

// --- Process -----------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::string& name,
                                                        const std::string& binary,
                                                        const std::vector<std::string>& args) {
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(binary, " is not an executable file"));
  }
  std::string log_path = absl::StrCat(OutputDir(), "/", name, ".log");
  int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", log_path, ": ", strerror(errno)));
  std::string header = absl::StrCat("### ", absl::FormatTime(absl::Now()), " $ ", binary, " ",
                                    absl::StrJoin(args, " "), "\n");
  (void)!write(fd, header.data(), header.size());
  std::vector<std::string> storage{binary};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv = Argv(storage);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(parent, fd, -1, argv.data());
  close(fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  return std::unique_ptr<Process>(new Process(name, pid, log_path));
}

Process::~Process() {
  if (Running()) Kill(SIGKILL, absl::Seconds(5));
}

bool Process::Running() {
  if (wait_status_.has_value()) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    wait_status_ = status;
    return false;
  }
  return true;
}

bool Process::Kill(int sig, absl::Duration timeout) {
  if (!Running()) return true;
  kill(pid_, sig);
  if (WaitFor([this] { return !Running(); }, timeout, absl::Milliseconds(20))) return true;
  kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) wait_status_ = status;
  return false;
}

std::string Process::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Process::LogTail(int lines) const {
  std::vector<std::string> all = absl::StrSplit(Log(), '\n');
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + from, all.end(), "\n");
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& command,
                                         absl::Duration timeout) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<std::string> storage = command;
  std::vector<char*> argv = Argv(storage);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(parent, pipefd[1], devnull, argv.data());
  close(pipefd[1]);
  close(devnull);
  if (pid < 0) {
    close(pipefd[0]);
    return absl::InternalError("fork failed");
  }
  CommandResult result;
  absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  bool timed_out = false;
  for (;;) {
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{pipefd[0], POLLIN, 0};
    if (wait_ms <= 0 || poll(&p, 1, wait_ms) == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = read(pipefd[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, n);
  }
  close(pipefd[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = !timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// --- Guards and shared setup -------------------------------------------------------------------

std::string ForeignSchedulerLeader(kube::Client& client, absl::Duration fresh) {
  auto lease = client.Get(kube::resources::Leases(), "labkube-system", "labkube-scheduler");
  if (!lease.ok()) return "";
  std::string holder(kube::json::GetString(*lease, {"spec", "holderIdentity"}));
  std::string renew_time(kube::json::GetString(*lease, {"spec", "renewTime"}));
  absl::Time renewed;
  std::string err;
  if (holder.empty() || absl::StartsWith(holder, "it-") ||
      !absl::ParseTime(absl::RFC3339_full, renew_time, &renewed, &err)) {
    return "";
  }
  return absl::Now() - renewed < fresh ? holder : "";
}

absl::Status ApplyBaseAndCrd() {
  auto applied = Kubectl({"apply", "-f", Runfile("k8s/base/namespace.yaml"), "-f",
                          Runfile("k8s/base/priorityclass.yaml"), "-f",
                          Runfile("k8s/crds/machines.labkube.io.yaml"), "-f",
                          Runfile("k8s/policy/guest-integrity.yaml"), "-f",
                          Runfile("k8s/policy/member-network.yaml")});
  if (!applied.ok()) return applied.status();
  return Kubectl({"wait", "--for=condition=Established", "crd/machines.labkube.io",
                  "--timeout=30s"})
      .status();
}

// --- Applying objects --------------------------------------------------------------------------

std::string KubectlPath() {
  std::string kubectl = Env("KUBECTL");
  if (!kubectl.empty()) return kubectl;
  absl::StatusOr<std::string> kubeconfig = Kubeconfig();
  return kubeconfig.ok() ? absl::StrCat(Dirname(*kubeconfig), "/bin/kubectl") : "kubectl";
}

absl::StatusOr<std::string> Kubectl(const std::vector<std::string>& args) {
  absl::StatusOr<std::string> kubeconfig = Kubeconfig();
  if (!kubeconfig.ok()) return kubeconfig.status();
  std::vector<std::string> argv{KubectlPath(), absl::StrCat("--kubeconfig=", *kubeconfig)};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> r = RunCommand(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("kubectl ", absl::StrJoin(args, " "), " exited ",
                                            r->exit_code, ": ", r->output));
  }
  return r->output;
}

absl::Status ApplyFile(const std::string& path) { return Kubectl({"apply", "-f", path}).status(); }

absl::Status ApplyYaml(std::string_view yaml) {
  absl::StatusOr<std::string> path = WriteTempFile(yaml, ".yaml");
  if (!path.ok()) return path.status();
  return ApplyFile(*path);
}

absl::Status DeleteYaml(std::string_view yaml) {
  absl::StatusOr<std::string> path = WriteTempFile(yaml, ".yaml");
  if (!path.ok()) return path.status();
  return Kubectl({"delete", "--ignore-not-found", "--wait=false", "-f", *path}).status();
}

absl::StatusOr<rapidjson::Document> ApplyJson(kube::Client& client, const kube::Resource& resource,
                                              std::string_view ns, std::string_view json) {
  absl::StatusOr<rapidjson::Document> doc = kube::json::Parse(json);
  if (!doc.ok()) return doc.status();
  std::string name(kube::json::GetString(*doc, {"metadata", "name"}));
  kube::PatchOptions options;
  options.field_manager = "labkube-it";
  options.force = true;
  return client.Patch(resource, ns, name, kube::PatchType::kApply, json, options);
}

absl::Status DeleteObject(kube::Client& client, const kube::Resource& resource, std::string_view ns,
                          std::string_view name, int64_t grace_seconds) {
  kube::DeleteOptions options;
  if (grace_seconds >= 0) options.grace_period_seconds = grace_seconds;
  absl::Status s = client.Delete(resource, ns, name, options);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

// --- HTTP and the scheduler --------------------------------------------------------------------

int HttpGetStatus(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(2, 0);
  httplib::Result r = client.Get(path);
  return r ? r->status : 0;
}

std::string SchedulerProcess::grpc_target() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

absl::StatusOr<std::unique_ptr<SchedulerProcess>> StartScheduler(const SchedulerFlags& flags) {
  if (flags.identity.empty())
    return absl::InvalidArgumentError("StartScheduler: identity is required");
  absl::StatusOr<std::string> kubeconfig = Kubeconfig();
  if (!kubeconfig.ok()) return kubeconfig.status();
  std::string binary = flags.binary;
  if (binary.empty()) binary = Env("LABKUBE_SCHEDULER_BIN");
  if (binary.empty()) binary = Runfile("services/scheduler/scheduler");
  int grpc_port = FreePort(), http_port = FreePort();
  std::vector<std::string> args{
      absl::StrCat("--kubeconfig=", *kubeconfig),
      absl::StrCat("--grpc_address=127.0.0.1:", grpc_port),
      "--http_address=127.0.0.1",
      absl::StrCat("--http_port=", http_port),
      "--plaintext",
      absl::StrCat("--identity=", flags.identity),
      absl::StrCat("--leader_elect=", flags.leader_elect ? "true" : "false"),
      absl::StrCat("--claim_ttl_seconds=", flags.claim_ttl_seconds),
  };
  args.insert(args.end(), flags.extra_args.begin(), flags.extra_args.end());
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start(absl::StrCat("scheduler-", flags.identity), binary, args);
  if (!process.ok()) return process.status();
  auto s =
      std::make_unique<SchedulerProcess>(std::move(*process), flags.identity, grpc_port, http_port);
  if (flags.wait == SchedulerFlags::Wait::kNone) return s;
  bool want_ready = flags.wait == SchedulerFlags::Wait::kReady;
  bool up =
      WaitFor([&] { return !s->process().Running() || (want_ready ? s->Ready() : s->Healthy()); },
              flags.wait_timeout);
  if (!up || !s->process().Running()) {
    return absl::DeadlineExceededError(
        absl::StrCat("scheduler ", flags.identity, up ? " exited" : " did not become ",
                     up ? "" : (want_ready ? "ready" : "healthy"), " (log ",
                     s->process().log_path(), "):\n", s->process().LogTail()));
  }
  return s;
}

}  // namespace labkube::it
