// Harness for integration tests that run real labkube binaries against the local control plane
// (tests/cluster/cluster.sh): the cluster's client (LABKUBE_KUBECONFIG), runfiles and output
// paths, child processes whose logs survive the test (TEST_UNDECLARED_OUTPUTS_DIR), free ports,
// polling, kubectl/JSON apply helpers, and a launcher for the scheduler binary.
//
//   auto client = it::ClusterClient();                 // RestClient for LABKUBE_KUBECONFIG
//   it::SchedulerFlags flags;
//   flags.identity = it::UniqueName("it-a");
//   auto sched = it::StartScheduler(flags);
//   ASSERT_TRUE(sched.ok()) << sched.status();        // waited for /readyz 200
//   it::WaitFor([&] { return ...; }, absl::Seconds(30));
//   (*sched)->process().Kill(SIGKILL);
//
// Ownership: a Process owns its child; its destructor kills (SIGKILL) and reaps it. Children also
// get SIGKILL when the thread that started them exits (PR_SET_PDEATHSIG), so start processes from
// the test's main thread. Thread safety: free functions are safe from any thread; a Process or
// SchedulerProcess is used by one thread at a time. Test-only.
#ifndef LABKUBE_TESTS_INTEGRATION_HARNESS_H_
#define LABKUBE_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/kube/rest_client.h"
#include "rapidjson/document.h"

namespace labkube::it {

// --- Environment -------------------------------------------------------------------------------

// $LABKUBE_KUBECONFIG; kFailedPrecondition (with how to start a cluster) when unset.
absl::StatusOr<std::string> Kubeconfig();
// A RestClient for the cluster of Kubeconfig().
absl::StatusOr<std::unique_ptr<kube::RestClient>> ClusterClient();
// $TEST_SRCDIR/$TEST_WORKSPACE/<path> (a `data` dependency), e.g.
// "k8s/crds/machines.labkube.io.yaml".
std::string Runfile(std::string_view path);
// Where logs go: $TEST_UNDECLARED_OUTPUTS_DIR (kept by Bazel), else $TEST_TMPDIR, else /tmp.
std::string OutputDir();
// "<prefix>-<8 random hex digits>": names that cannot collide between runs.
std::string UniqueName(std::string_view prefix);
// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, then close).
int FreePort();
// Polls `pred` every `interval` until it returns true (true) or `timeout` passes (false).
bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout,
             absl::Duration interval = absl::Milliseconds(100));

// --- Processes ---------------------------------------------------------------------------------

class Process {
 public:
  // Starts `binary` with `args`; stdout and stderr are appended to OutputDir()/<name>.log.
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::string& name,
                                                        const std::string& binary,
                                                        const std::vector<std::string>& args);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  // False once the child has exited (it is reaped then).
  bool Running();
  // The raw wait status once exited.
  std::optional<int> wait_status() const { return wait_status_; }
  // Sends `sig` and waits up to `timeout` for the child to exit; then SIGKILLs it. True when it
  // exited within `timeout`.
  bool Kill(int sig, absl::Duration timeout = absl::Seconds(10));
  // The log so far.
  std::string Log() const;
  // The last `lines` lines of the log (for failure messages).
  std::string LogTail(int lines = 30) const;

 private:
  Process(std::string name, pid_t pid, std::string log_path)
      : name_(std::move(name)), pid_(pid), log_path_(std::move(log_path)) {}

  std::string name_;
  pid_t pid_;
  std::string log_path_;
  std::optional<int> wait_status_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or the timeout
  std::string output;  // stdout and stderr interleaved
};
// Runs argv[0] (a path) with stdin from /dev/null and waits at most `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout = absl::Seconds(60));

// --- Applying objects --------------------------------------------------------------------------

// $KUBECTL, else <dir of the kubeconfig>/bin/kubectl (cluster.sh links it there).
std::string KubectlPath();
// kubectl --kubeconfig=<Kubeconfig()> args...; its output, or an error carrying it.
absl::StatusOr<std::string> Kubectl(const std::vector<std::string>& args);
// kubectl apply / delete --ignore-not-found of a YAML (or JSON) text or file.
absl::Status ApplyYaml(std::string_view yaml);
absl::Status DeleteYaml(std::string_view yaml);
absl::Status ApplyFile(const std::string& path);
// Server-side apply of one object given as JSON text (field manager "labkube-it", forced).
absl::StatusOr<rapidjson::Document> ApplyJson(kube::Client& client, const kube::Resource& resource,
                                              std::string_view ns, std::string_view json);
// Deletes an object; NotFound counts as done. `grace_seconds` < 0: the default grace period.
absl::Status DeleteObject(kube::Client& client, const kube::Resource& resource, std::string_view ns,
                          std::string_view name, int64_t grace_seconds = -1);

// --- Guards and shared setup -------------------------------------------------------------------

// The identity of a scheduler that leads on this cluster and is not one of the tests' (identity
// "it-..."), when its Lease was renewed within `fresh`; "" when there is none.
std::string ForeignSchedulerLeader(kube::Client& client, absl::Duration fresh = absl::Seconds(30));
// Applies labkube's namespace, PriorityClass, Machine CRD and guest-integrity policy (runfiles of
// //k8s:base, //k8s:crds and //k8s:policy) and waits until the CRD is Established.
absl::Status ApplyBaseAndCrd();

// --- HTTP --------------------------------------------------------------------------------------

// The status code of a plain-HTTP GET of http://127.0.0.1:<port><path>; 0 when it cannot connect.
int HttpGetStatus(int port, const std::string& path);

// --- The scheduler binary ----------------------------------------------------------------------

struct SchedulerFlags {
  std::string identity;  // required: unique per replica (leader election)
  int claim_ttl_seconds = 10;  // the scheduler's default
  bool leader_elect = true;
  enum class Wait { kReady, kHealthy, kNone } wait = Wait::kReady;
  absl::Duration wait_timeout = absl::Seconds(30);
  std::vector<std::string> extra_args;
  std::string binary;  // "" = $LABKUBE_SCHEDULER_BIN, else the runfile services/scheduler/scheduler
};

// A scheduler process serving plaintext gRPC and HTTP on 127.0.0.1 (free ports), talking to the
// cluster with the admin kubeconfig.
class SchedulerProcess {
 public:
  SchedulerProcess(std::unique_ptr<Process> process, std::string identity, int grpc_port,
                   int http_port)
      : process_(std::move(process)),
        identity_(std::move(identity)),
        grpc_port_(grpc_port),
        http_port_(http_port) {}

  Process& process() { return *process_; }
  const std::string& identity() const { return identity_; }
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  std::string grpc_target() const;  // "127.0.0.1:<grpc_port>"
  bool Ready() const { return HttpGetStatus(http_port_, "/readyz") == 200; }
  bool Healthy() const { return HttpGetStatus(http_port_, "/healthz") == 200; }

 private:
  std::unique_ptr<Process> process_;
  std::string identity_;
  int grpc_port_;
  int http_port_;
};

// Starts the scheduler and waits as `flags.wait` says; on failure the error carries its log tail.
absl::StatusOr<std::unique_ptr<SchedulerProcess>> StartScheduler(const SchedulerFlags& flags);

}  // namespace labkube::it

#endif  // LABKUBE_TESTS_INTEGRATION_HARNESS_H_
