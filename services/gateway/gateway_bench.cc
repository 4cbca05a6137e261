// Gateway benchmark against a running lab (e.g. `./dev.sh up`'s); prints figures, not a test.
//  1. RPC latency: --clients (100) threads, each with a TLS channel of its own, call
//     ListMachineTypes, then DescribeWorkspace (of bench-ws, started by the bench), for
//     --seconds (10) each, with a --deadline_ms deadline and `authorization: Bearer <token>`
//     (Login as --username/--password_file or --credentials' member): calls, calls/s,
//     p50/p90/p99/max of every call (failed ones too), errors. Two runs per RPC:
//       open   each client calls --rate_per_client times a second (10: a member's labctl polls
//              once a second; 100 of them at 10/s is ten times that), latency counted from the
//              planned send time so a slow answer also delays the next one's clock;
//              target: p99 <= 10 ms;
//       closed each client calls back-to-back: the saturation throughput (its latency is
//              clients / throughput by Little's law, so it is printed, not judged).
//  2. Start-up, --rounds (3) of each side, alternating: StartWorkspace (jupyterlab,
//     --machine_type) until its pod is Ready in a pod list polled every 50 ms (then
//     DescribeWorkspace must say PHASE_RUNNING; not timed), vs. a
//     Deployment bench-plain of the same pod (containers, volumes, the resources the injector
//     gave it; no labkube.io labels, so the injector leaves it alone; a token Secret of its own)
//     until its pod is Ready (= PHASE_RUNNING), polled every 50 ms. Each start is undone and its
//     pod waited for until gone. Target: median ratio <= 1.2x. Makes 1Gi of storage if there is
//     none; removes what it made at the end, also after a failure. Exit 1 when anything failed.
//
//   set -a; eval "$(tests/cluster/cluster.sh env)"; eval "$(tools/services.sh env)"; set +a
//   bazel run -c opt //services/gateway:gateway_bench -- --seconds=10 --rounds=3 --clients=100
// --gateway, --ca, --credentials, --kubeconfig default to $LABKUBE_GATEWAY, $LABKUBE_CA,
// $LABKUBE_CREDENTIALS, $LABKUBE_KUBECONFIG; --username=U --password_file=F: log in as U.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/contract.h"
#include "lib/grpc_status.h"
#include "lib/kube/config.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "lib/status_macros.h"
#include "lib/tls.h"
#include "services/gateway/workspace_status.h"

static std::string EnvOr(const char* name) { return std::getenv(name) ? std::getenv(name) : ""; }

ABSL_FLAG(std::string, gateway, EnvOr("LABKUBE_GATEWAY"), "gateway host:port");
ABSL_FLAG(std::string, ca, EnvOr("LABKUBE_CA"), "CA file of the gateway's certificate");
ABSL_FLAG(std::string, credentials, EnvOr("LABKUBE_CREDENTIALS"),
          "YAML with `member: {username: U, password: P}` (used without --username)");
ABSL_FLAG(std::string, username, "", "member to log in as (with --password_file)");
ABSL_FLAG(std::string, password_file, "", "file holding the member's password");
ABSL_FLAG(std::string, kubeconfig, EnvOr("LABKUBE_KUBECONFIG"), "admin kubeconfig");
ABSL_FLAG(int, clients, 100, "concurrent clients (one channel each)");
ABSL_FLAG(int, seconds, 10, "duration of each RPC's load");
ABSL_FLAG(int, deadline_ms, 5000, "deadline of each measured call");
ABSL_FLAG(double, rate_per_client, 10, "calls per second of each client in the open-loop run");
ABSL_FLAG(int, rounds, 3, "start-up rounds of each side");
ABSL_FLAG(std::string, machine_type, "cpu-small", "machine type of the workspace");

namespace labkube::gateway_bench {
namespace {

namespace gw = ::labkube::gateway::v1alpha1;
namespace json = kube::json;
namespace res = kube::resources;
using Stub = gw::Gateway::Stub;
using gateway::PodReady;  // Ready condition True: what the gateway calls running

constexpr char kWorkspace[] = "bench-ws";
constexpr char kPlain[] = "bench-plain";
constexpr char kPlainSecret[] = "bench-plain-token";
constexpr char kPlainJson[] = R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"$0","labels":{"app":"$0"}},
    "spec":{"replicas":1,"strategy":{"type":"Recreate"},"selector":{"matchLabels":{"app":"$0"}},
            "template":{"metadata":{"labels":{"app":"$0"}}}}})";
constexpr double kTargetP99Ms = 10;
constexpr double kTargetRatio = 1.2;
constexpr absl::Duration kPoll = absl::Milliseconds(50);
constexpr absl::Duration kPodTimeout = absl::Minutes(3);
constexpr absl::Duration kControlDeadline = absl::Seconds(30);

// The bench's connection to the lab. The token is a secret: never printed.
struct Lab {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  std::unique_ptr<Stub> stub;  // for the unmeasured control calls
  std::string token, member, ns;
  std::unique_ptr<kube::RestClient> kube;
};

void Prepare(grpc::ClientContext& ctx, const std::string& token, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!token.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

template <typename Req, typename Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// One unmeasured call with the lab's token (none before Login).
template <typename Req, typename Resp>
absl::StatusOr<Resp> Call(const Lab& lab, Rpc<Req, Resp> rpc, const Req& req) {
  grpc::ClientContext ctx;
  Prepare(ctx, lab.token, kControlDeadline);
  Resp resp;
  grpc::Status s = ((*lab.stub).*rpc)(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp;
}

// Value of `key` in a flow mapping line such as ` {username: U, password: P}`.
std::string YamlField(absl::string_view line, absl::string_view key) {
  size_t at = line.find(absl::StrCat(key, ":"));
  if (at == absl::string_view::npos) return "";
  absl::string_view value = line.substr(at + key.size() + 1);
  value = absl::StripAsciiWhitespace(value.substr(0, value.find_first_of(",}")));
  return std::string(absl::StripSuffix(absl::StripPrefix(value, "\""), "\""));
}

absl::StatusOr<gw::LoginRequest> ReadLogin() {
  gw::LoginRequest login;
  if (!absl::GetFlag(FLAGS_username).empty()) {
    login.set_username(absl::GetFlag(FLAGS_username));
    LK_ASSIGN_OR_RETURN(*login.mutable_password(), ReadFile(absl::GetFlag(FLAGS_password_file)));
    absl::StripTrailingAsciiWhitespace(login.mutable_password());
    return login;
  }
  const std::string path = absl::GetFlag(FLAGS_credentials);
  LK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, "member:")) continue;
    login.set_username(YamlField(line, "username"));
    login.set_password(YamlField(line, "password"));
    if (!login.username().empty() && !login.password().empty()) return login;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--credentials=", path, ": no line `member: {username: U, password: P}`"));
}

absl::StatusOr<std::unique_ptr<Lab>> Connect() {
  auto lab = std::make_unique<Lab>();
  grpc::SslCredentialsOptions tls;
  LK_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadFile(absl::GetFlag(FLAGS_ca)));
  lab->creds = grpc::SslCredentials(tls);
  lab->stub = gw::Gateway::NewStub(grpc::CreateChannel(absl::GetFlag(FLAGS_gateway), lab->creds));
  LK_ASSIGN_OR_RETURN(gw::LoginRequest login, ReadLogin());
  LK_ASSIGN_OR_RETURN(gw::LoginResponse session, Call(*lab, &Stub::Login, login));
  lab->token = session.access_token();
  lab->member = session.member();
  lab->ns = session.namespace_();
  LK_ASSIGN_OR_RETURN(kube::ClusterConfig config,
                      kube::LoadKubeconfig(absl::GetFlag(FLAGS_kubeconfig)));
  LK_ASSIGN_OR_RETURN(lab->kube, kube::RestClient::Create(config));
  std::printf("gateway=%s member=%s namespace=%s\n", absl::GetFlag(FLAGS_gateway).c_str(),
              lab->member.c_str(), lab->ns.c_str());
  return lab;
}

struct Stats {
  std::vector<double> ms;
  int errors = 0;
  std::string first_error;
};

using Probe = std::function<grpc::Status(Stub&, grpc::ClientContext&)>;

template <typename Req, typename Resp>
Probe MakeProbe(Rpc<Req, Resp> rpc, const Req& req) {
  return [rpc, req](Stub& stub, grpc::ClientContext& ctx) {
    Resp resp;
    return (stub.*rpc)(&ctx, req, &resp);
  };
}

// `period` zero: back-to-back (closed loop); else one call per period from a random phase,
// timed from when it was due (open loop, no coordinated omission).
void ClientLoop(Stub& stub, const Probe& probe, const std::string& token, absl::Time end,
                absl::Duration period, Stats& out) {
  const absl::Duration deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
  absl::BitGen gen;
  absl::Time due = absl::Now() + period * absl::Uniform(gen, 0.0, 1.0);
  while (due < end) {
    if (period > absl::ZeroDuration()) absl::SleepFor(due - absl::Now());
    grpc::ClientContext ctx;
    Prepare(ctx, token, deadline);
    const absl::Time start = period > absl::ZeroDuration() ? due : absl::Now();
    const grpc::Status s = probe(stub, ctx);
    const absl::Time done = absl::Now();
    out.ms.push_back(absl::ToDoubleMilliseconds(done - start));
    if (!s.ok() && out.errors++ == 0) out.first_error = FromGrpcStatus(s).ToString();
    due = period > absl::ZeroDuration() ? due + period : done;
  }
}

// One connected channel (so one TCP connection: no shared subchannel pool) per client.
absl::StatusOr<std::vector<std::unique_ptr<Stub>>> ClientStubs(const Lab& lab) {
  std::vector<std::unique_ptr<Stub>> stubs;
  for (int i = 0; i < absl::GetFlag(FLAGS_clients); ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_gateway), lab.creds, args);
    if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
      return absl::UnavailableError(absl::StrCat("client ", i, ": cannot connect"));
    }
    stubs.push_back(gw::Gateway::NewStub(channel));
  }
  return stubs;
}

Stats RunLoad(const Lab& lab, const std::vector<std::unique_ptr<Stub>>& stubs, const Probe& probe,
              absl::Duration period, double* seconds) {
  std::vector<Stats> per_client(stubs.size());
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  for (size_t i = 0; i < stubs.size(); ++i) {
    threads.emplace_back(
        [&, i] { ClientLoop(*stubs[i], probe, lab.token, end, period, per_client[i]); });
  }
  for (std::thread& t : threads) t.join();
  *seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Stats all;
  for (Stats& s : per_client) {
    all.ms.insert(all.ms.end(), s.ms.begin(), s.ms.end());
    if (all.errors == 0) all.first_error = s.first_error;
    all.errors += s.errors;
  }
  std::sort(all.ms.begin(), all.ms.end());
  return all;
}

// Nearest-rank `p` of sorted `v`; 0 when empty.
double Percentile(const std::vector<double>& v, double p) {
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// One `prefix.key=value` line per figure, at most 3 decimals.
void PrintFigures(const char* prefix, std::initializer_list<std::pair<const char*, double>> list) {
  for (const auto& [key, value] : list) {
    std::printf("%s.%s=%.10g\n", prefix, key, std::round(value * 1000) / 1000);
  }
}

// Returns false when a call failed. `judged`: print the PASS/MISS verdict line.
bool PrintLatency(const std::string& run, const Stats& s, double seconds, bool judged) {
  const char* rpc = run.c_str();
  const double n = s.ms.size();
  const double p99 = Percentile(s.ms, 0.99);
  const int clients = absl::GetFlag(FLAGS_clients);
  PrintFigures(rpc, {{"clients", clients}, {"calls", n}, {"calls_per_s", std::round(n / seconds)}});
  PrintFigures(rpc, {{"p50_ms", Percentile(s.ms, 0.5)}, {"p90_ms", Percentile(s.ms, 0.9)}});
  PrintFigures(rpc, {{"p99_ms", p99}, {"max_ms", Percentile(s.ms, 1)}, {"errors", s.errors}});
  if (s.errors > 0) std::printf("%s.first_error=\"%s\"\n", rpc, s.first_error.c_str());
  const bool pass = n > 0 && s.errors == 0 && p99 <= kTargetP99Ms;
  if (judged) {
    std::printf(
        "%s: p99 %.1f ms, %d clients at %.0f calls/s, %d errors (target: p99 <= %.0f ms, "
        "no errors): %s\n",
        rpc, p99, clients, n / seconds, s.errors, kTargetP99Ms, pass ? "PASS" : "MISS");
  }
  return s.errors == 0;
}

// The open-loop run (judged) then the closed-loop one (saturation) of one RPC.
bool MeasureRpc(const Lab& lab, const std::vector<std::unique_ptr<Stub>>& stubs, const char* rpc,
                const Probe& probe) {
  double seconds = 0;
  bool ok = true;
  const double rate = absl::GetFlag(FLAGS_rate_per_client);
  if (rate > 0) {
    Stats open = RunLoad(lab, stubs, probe, absl::Seconds(1 / rate), &seconds);
    ok = PrintLatency(absl::StrCat(rpc, ".open"), open, seconds, true);
  }
  Stats closed = RunLoad(lab, stubs, probe, absl::ZeroDuration(), &seconds);
  return PrintLatency(absl::StrCat(rpc, ".closed"), closed, seconds, rate <= 0) && ok;
}

absl::Status MeasureLatency(const Lab& lab) {
  LK_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Stub>> stubs, ClientStubs(lab));
  gw::DescribeWorkspaceRequest describe;
  describe.set_name(kWorkspace);
  bool ok = MeasureRpc(lab, stubs, "ListMachineTypes", MakeProbe(&Stub::ListMachineTypes, {}));
  ok = MeasureRpc(lab, stubs, "DescribeWorkspace", MakeProbe(&Stub::DescribeWorkspace, describe)) &&
       ok;
  return ok ? absl::OkStatus() : absl::UnavailableError("measured calls failed (first_error)");
}

// Polls the pods matching `selector` until `done(items)`, at most kPodTimeout.
absl::Status PollPods(const Lab& lab, const std::string& selector, const char* what,
                      const std::function<bool(const rapidjson::Value&)>& done) {
  kube::ListOptions options;
  options.label_selector = selector;
  const absl::Time deadline = absl::Now() + kPodTimeout;
  while (true) {
    LK_ASSIGN_OR_RETURN(kube::ObjectList list, lab.kube->List(res::Pods(), lab.ns, options));
    if (done(list.items())) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("pods ", selector, " not ", what));
    }
    absl::SleepFor(kPoll);
  }
}

absl::Status WaitGone(const Lab& lab, const std::string& selector) {
  return PollPods(lab, selector, "gone", [](const rapidjson::Value& pods) { return pods.Empty(); });
}

std::string WorkspaceSelector(const Lab& lab) {
  return absl::StrCat(contract::kWorkspaceLabel, "=", kWorkspace, ",", contract::kUserLabel, "=",
                      lab.member);
}

// Deletes `name` of `resource`; not there is fine.
absl::Status DeleteIfThere(const Lab& lab, const kube::Resource& resource, const char* name) {
  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  absl::Status s = lab.kube->Delete(resource, lab.ns, name, background);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::Status CreateStorage(const Lab& lab) {
  gw::CreateStorageRequest req;
  req.set_size("1Gi");
  std::printf("creating storage (1Gi) for %s\n", lab.member.c_str());
  return Call(lab, &Stub::CreateStorage, req).status();
}

// The gateway starts a workspace without volumes when there is no storage: make it first.
absl::Status EnsureStorage(const Lab& lab) {
  LK_ASSIGN_OR_RETURN(gw::Storage storage, Call(lab, &Stub::ListStorage, {}));
  return storage.volumes_size() > 0 ? absl::OkStatus() : CreateStorage(lab);
}

absl::Status StartWorkspace(const Lab& lab) {
  gw::StartWorkspaceRequest req;
  req.set_name(kWorkspace);
  req.set_kind(gw::WORKSPACE_KIND_JUPYTERLAB);
  req.set_machine_type(absl::GetFlag(FLAGS_machine_type));
  absl::Status s = Call(lab, &Stub::StartWorkspace, req).status();
  if (!absl::StrContains(s.message(), "storage")) return s;
  LK_RETURN_IF_ERROR(CreateStorage(lab));
  return Call(lab, &Stub::StartWorkspace, req).status();
}

absl::Status WaitRunning(const Lab& lab) {
  gw::DescribeWorkspaceRequest req;
  req.set_name(kWorkspace);
  const absl::Time deadline = absl::Now() + kPodTimeout;
  while (true) {
    LK_ASSIGN_OR_RETURN(gw::Workspace ws, Call(lab, &Stub::DescribeWorkspace, req));
    if (ws.phase() == gw::PHASE_RUNNING) return absl::OkStatus();
    if (ws.phase() == gw::PHASE_FAILED || absl::Now() > deadline) {
      return absl::AbortedError(absl::StrCat(kWorkspace, ": ", gw::Phase_Name(ws.phase()), " (",
                                             ws.reason(), "): ", ws.message()));
    }
    absl::SleepFor(kPoll);
  }
}

// Both sides are timed the same way: from the request to a Ready pod seen in a pod list
// polled every kPoll; then the workspace's own phase must agree (not timed).
absl::StatusOr<double> TimeWorkspaceStart(const Lab& lab) {
  const absl::Time start = absl::Now();
  LK_RETURN_IF_ERROR(StartWorkspace(lab));
  LK_RETURN_IF_ERROR(
      PollPods(lab, WorkspaceSelector(lab), "ready",
               [](const rapidjson::Value& pods) { return pods.Size() == 1 && PodReady(pods[0]); }));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  LK_RETURN_IF_ERROR(WaitRunning(lab));
  return seconds;
}

absl::Status StopWorkspace(const Lab& lab) {
  gw::StopWorkspaceRequest req;
  req.set_name(kWorkspace);
  absl::Status s = Call(lab, &Stub::StopWorkspace, req).status();
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  return WaitGone(lab, WorkspaceSelector(lab));
}

// In `d`'s containers: the resources the injector gave the `injected` container of the same
// name, and every env secretKeyRef pointing at kPlainSecret.
void AdaptContainers(rapidjson::Document& d, const rapidjson::Value& injected) {
  auto& a = d.GetAllocator();
  for (rapidjson::Value& c : d["spec"]["template"]["spec"]["containers"].GetArray()) {
    for (const rapidjson::Value& i : injected.GetArray()) {
      const rapidjson::Value* r = json::FindMember(i, "resources");
      if (r == nullptr || json::GetString(i, {"name"}) != json::GetString(c, {"name"})) continue;
      json::Set(c, "resources", rapidjson::Value(*r, a), a);
    }
    auto env = c.FindMember("env");
    if (env == c.MemberEnd() || !env->value.IsArray()) continue;
    for (rapidjson::Value& e : env->value.GetArray()) {
      if (json::Find(e, {"valueFrom", "secretKeyRef", "name"}) == nullptr) continue;
      json::SetPath(e, {"valueFrom", "secretKeyRef", "name"}, json::String(kPlainSecret, a), a);
    }
  }
}

// The plain Deployment: the workspace's pod template without labkube.io labels/annotations.
absl::StatusOr<rapidjson::Document> PlainDeployment(const Lab& lab) {
  const std::string ws = absl::StrCat("ws-", kWorkspace);
  LK_ASSIGN_OR_RETURN(rapidjson::Document source, lab.kube->Get(res::Deployments(), lab.ns, ws));
  kube::ListOptions options;
  options.label_selector = WorkspaceSelector(lab);
  LK_ASSIGN_OR_RETURN(kube::ObjectList pods, lab.kube->List(res::Pods(), lab.ns, options));
  const rapidjson::Value* spec = json::Find(source, {"spec", "template", "spec"});
  const rapidjson::Value* containers = spec ? json::FindMember(*spec, "containers") : nullptr;
  const rapidjson::Value* injected =
      pods.items().Empty() ? nullptr : json::Find(pods.items()[0], {"spec", "containers"});
  if (!containers || !containers->IsArray() || !injected || !injected->IsArray()) {
    return absl::NotFoundError(absl::StrCat("no pod template or no pod of Deployment ", ws));
  }
  LK_ASSIGN_OR_RETURN(rapidjson::Document d, json::Parse(absl::Substitute(kPlainJson, kPlain)));
  json::SetValue(d, {"spec", "template", "spec"}, *spec);
  AdaptContainers(d, *injected);
  return d;
}

absl::StatusOr<double> TimePlainStart(const Lab& lab, const rapidjson::Document& deployment) {
  const absl::Time start = absl::Now();
  LK_RETURN_IF_ERROR(lab.kube->Create(res::Deployments(), lab.ns, deployment).status());
  LK_RETURN_IF_ERROR(
      PollPods(lab, absl::StrCat("app=", kPlain), "ready", [](const rapidjson::Value& pods) {
        const auto all = pods.GetArray();
        return std::any_of(all.begin(), all.end(), PodReady);
      }));
  return absl::ToDoubleSeconds(absl::Now() - start);
}

absl::Status DeletePlain(const Lab& lab) {
  LK_RETURN_IF_ERROR(DeleteIfThere(lab, res::Deployments(), kPlain));
  return WaitGone(lab, absl::StrCat("app=", kPlain));
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void PrintStartup(const std::vector<double>& ws, const std::vector<double>& plain) {
  const double ws_median = Median(ws);
  const double plain_median = Median(plain);
  const double ratio = plain_median > 0 ? ws_median / plain_median : 0;
  PrintFigures("startup", {{"rounds", ws.size()}, {"workspace_median_s", ws_median}});
  PrintFigures("startup", {{"plain_median_s", plain_median}, {"ratio", ratio}});
  std::printf(
      "Workspace start to running: median %.2f s vs. %.2f s for a plain Deployment: "
      "%.2fx (target <= %.1fx): %s\n",
      ws_median, plain_median, ratio, kTargetRatio, ratio <= kTargetRatio ? "PASS" : "MISS");
}

// Round 1's workspace start is `first_ws` (that workspace served the latency load).
absl::Status CompareStartup(const Lab& lab, double first_ws) {
  LK_ASSIGN_OR_RETURN(rapidjson::Document plain, PlainDeployment(lab));
  rapidjson::Document secret = json::NewObject("v1", "Secret", lab.ns, kPlainSecret);
  json::SetString(secret, {"stringData", "token"}, "bench-plain");  // not the workspace's
  LK_RETURN_IF_ERROR(lab.kube->Create(res::Secrets(), lab.ns, secret).status());
  std::vector<double> ws_s{first_ws}, plain_s;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    if (round > 0) {
      LK_ASSIGN_OR_RETURN(double ws_time, TimeWorkspaceStart(lab));
      ws_s.push_back(ws_time);
    }
    LK_RETURN_IF_ERROR(StopWorkspace(lab));
    LK_ASSIGN_OR_RETURN(double plain_time, TimePlainStart(lab, plain));
    plain_s.push_back(plain_time);
    LK_RETURN_IF_ERROR(DeletePlain(lab));
    std::printf("round %d: workspace %.3f s, plain %.3f s\n", round + 1, ws_s.back(), plain_time);
  }
  PrintStartup(ws_s, plain_s);
  return absl::OkStatus();
}

// Removes everything the bench makes; run first (leftovers of an earlier run) and last.
absl::Status CleanUp(const Lab& lab) {
  // All three run (braced lists evaluate in order); the first error is returned.
  for (const absl::Status& s :
       {StopWorkspace(lab), DeletePlain(lab), DeleteIfThere(lab, res::Secrets(), kPlainSecret)}) {
    LK_RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status Measure(const Lab& lab) {
  LK_RETURN_IF_ERROR(CleanUp(lab));
  LK_RETURN_IF_ERROR(EnsureStorage(lab));
  LK_ASSIGN_OR_RETURN(double first_ws, TimeWorkspaceStart(lab));
  const absl::Status latency = MeasureLatency(lab);
  LK_RETURN_IF_ERROR(CompareStartup(lab, first_ws));
  return latency;
}

int Run() {
  if (absl::GetFlag(FLAGS_rounds) < 1 || absl::GetFlag(FLAGS_clients) < 1) {
    return std::fprintf(stderr, "gateway_bench: --rounds and --clients must be >= 1\n"), 2;
  }
  absl::StatusOr<std::unique_ptr<Lab>> lab = Connect();
  if (!lab.ok()) {
    std::fprintf(stderr, "gateway_bench: %s\n", lab.status().ToString().c_str());
    return 1;
  }
  const absl::Status status = Measure(**lab);
  const absl::Status cleanup = CleanUp(**lab);
  for (const absl::Status& s : {status, cleanup}) {
    if (!s.ok()) std::fprintf(stderr, "gateway_bench: %s\n", s.ToString().c_str());
  }
  return status.ok() && cleanup.ok() ? 0 : 1;
}

}  // namespace
}  // namespace labkube::gateway_bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return labkube::gateway_bench::Run();
}
