// Claim latency benchmark: N concurrent clients calling Scheduler.Claim over gRPC.
//
//   bazel run -c opt //services/scheduler:claim_bench -- [--clients=200] [--requests=20]
//       [--target=HOST:PORT --ca=FILE --group=G --type=T] [--dry_run=true]
//
// Without --target it starts an in-process scheduler (plaintext loopback) over the in-memory
// Kubernetes fake with one Machine of --slots slots on --nodes nodes, so the figure is the
// scheduler's own path (gRPC, decision, handover bookkeeping). With --target it measures a
// running scheduler (e.g. the local lab's; real claims then include the reservation pod's
// DELETE at kube-apiserver). In process, each granted claim's guest pod is then created in the
// fake (untimed; --bind=false to skip), as the API server stores it after the webhook, so
// claims bind as in a lab instead of piling up until their TTL. Prints one line of figures.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "lib/tls.h"
#include "services/scheduler/server.h"

ABSL_FLAG(int, clients, 200, "concurrent clients");
ABSL_FLAG(int, requests, 20, "claims per client");
ABSL_FLAG(bool, dry_run, false, "dry-run claims (consume nothing)");
ABSL_FLAG(std::string, target, "", "running scheduler host:port (default: in-process)");
ABSL_FLAG(std::string, ca, "", "CA file for --target (empty: plaintext)");
ABSL_FLAG(std::string, group, "bench", "machine group");
ABSL_FLAG(std::string, type, "slot", "machine type");
ABSL_FLAG(double, rate, 0, "total claims per second across clients (0 = as fast as possible)");
ABSL_FLAG(int, nodes, 100, "in-process: nodes");
ABSL_FLAG(bool, bind, true,
          "in-process: create each granted claim's guest pod (untimed), as the API server does "
          "after the webhook, so claims bind instead of piling up until their TTL");
ABSL_FLAG(int, slots, 5000, "in-process: slots (must cover clients*requests for real claims)");

namespace labkube::scheduler {
namespace {

namespace api = ::labkube::scheduler::v1alpha1;
namespace json = kube::json;
namespace res = kube::resources;

// Fills the fake with a Machine, nodes and Running reservation pods, as a converged cluster.
void Populate(kube::testing::FakeClient& fake, int nodes, int slots) {
  std::string pool;
  for (int n = 0; n < nodes; ++n) {
    absl::StrAppend(&pool, n ? "," : "", "{\"name\":\"n", n, "\",\"mode\":\"ready\",",
                    "\"machineType\":[{\"name\":\"slot\"}]}");
    fake.Create(res::Nodes(), "",
                *json::Parse(absl::StrCat(
                    R"({"metadata":{"name":"n)", n, R"("},"status":{"allocatable":{"cpu":"1000",)",
                    R"("memory":"4000Gi"},"conditions":[{"type":"Ready","status":"True"}]}})")))
        .status()
        .IgnoreError();  // the in-memory fake: nothing to fail
  }
  fake.Create(res::Machines(), "",
              *json::Parse(absl::StrCat(
                  R"({"apiVersion":")", res::Machines().ApiVersion(),
                  R"(","kind":"Machine","metadata":{"name":"bench"},)", R"("spec":{"nodePool":[)",
                  pool, R"(],"machineTypes":[{"name":"slot",)",
                  R"("spec":{"cpu":"100m","memory":"64Mi"},"available":)", slots, "}]}}")))
      .status()
      .IgnoreError();
  for (int i = 0; i < slots; ++i) {
    rapidjson::Document reservation = *json::Parse(absl::StrCat(
        R"({"metadata":{"name":"r)", i, R"("},"spec":{"nodeName":"n)", i % nodes, R"("}})"));
    json::SetString(reservation, {"metadata", "labels", contract::kRoleLabel},
                    contract::kRoleReservation);
    json::SetString(reservation, {"metadata", "labels", contract::kGroupLabel}, "bench");
    json::SetString(reservation, {"metadata", "labels", contract::kTypeLabel}, "slot");
    (void)fake.Create(res::Pods(), "labkube-system", reservation);
    kube::PatchOptions status;
    status.subresource = "status";
    fake.Patch(res::Pods(), "labkube-system", absl::StrCat("r", i), kube::PatchType::kMergePatch,
               R"({"status":{"phase":"Running"}})", status)
        .status()
        .IgnoreError();
  }
}

struct Result {
  std::vector<double> ms;
  int ok = 0;
  int exhausted = 0;
  int errors = 0;
};

// The guest pod the API server would store after the injector patched it with `resp`.
void CreateGuest(kube::Client& api, const api::ClaimRequest& req, const api::ClaimResponse& resp) {
  rapidjson::Document pod = *json::Parse(absl::StrCat(R"({"metadata":{"name":")", req.pod_name(),
                                                      R"(","annotations":{}},"spec":{"nodeName":")",
                                                      resp.node(), R"("}})"));
  json::SetString(pod, {"metadata", "labels", contract::kRoleLabel}, contract::kRoleGuest);
  json::SetString(pod, {"metadata", "labels", contract::kGroupLabel}, req.group());
  json::SetString(pod, {"metadata", "labels", contract::kTypeLabel}, req.machine_type());
  for (const auto& [k, v] : resp.annotations()) {
    json::SetString(pod, {"metadata", "annotations", k}, v);
  }
  if (!api.Create(res::Pods(), req.namespace_(), pod).ok()) std::fprintf(stderr, "guest failed\n");
}

void Client(std::shared_ptr<grpc::Channel> channel, int index, kube::Client* api, Result& out) {
  auto stub = api::Scheduler::NewStub(channel);
  double rate = absl::GetFlag(FLAGS_rate);
  absl::Duration period =
      rate > 0 ? absl::Seconds(absl::GetFlag(FLAGS_clients) / rate) : absl::ZeroDuration();
  // Open loop: client i starts at its own offset and sends one claim per period.
  absl::Time next = absl::Now() + period * (index % 97) / 97;
  for (int r = 0; r < absl::GetFlag(FLAGS_requests); ++r) {
    if (period > absl::ZeroDuration()) {
      absl::SleepFor(next - absl::Now());
      next += period;
    }
    api::ClaimRequest req;
    req.set_group(absl::GetFlag(FLAGS_group));
    req.set_machine_type(absl::GetFlag(FLAGS_type));
    req.set_namespace_("bench");
    req.set_pod_name(absl::StrCat("p-", index, "-", r));
    req.set_admission_uid(
        absl::StrCat("bench-", absl::ToUnixNanos(absl::Now()), "-", index, "-", r));
    req.set_dry_run(absl::GetFlag(FLAGS_dry_run));
    api::ClaimResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    absl::Time start = absl::Now();
    grpc::Status s = stub->Claim(&ctx, req, &resp);
    out.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (s.ok()) {
      ++out.ok;
      if (api != nullptr && !req.dry_run()) CreateGuest(*api, req, resp);
    } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               s.error_message().find("no free") != std::string::npos) {
      ++out.exhausted;
    } else {
      ++out.errors;
    }
  }
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

int Run() {
  std::unique_ptr<Server> server;
  kube::Client* api = nullptr;
  std::string target = absl::GetFlag(FLAGS_target);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (target.empty()) {
    SetLogLevel(LogLevel::kError);
    auto fake = std::make_unique<kube::testing::FakeClient>();
    Populate(*fake, absl::GetFlag(FLAGS_nodes), absl::GetFlag(FLAGS_slots));
    if (absl::GetFlag(FLAGS_bind)) api = fake.get();  // owned by the server from here on
    Options o;
    o.grpc_address = "127.0.0.1:0";
    o.http_address = "127.0.0.1";
    o.http_port = 0;
    o.plaintext = true;
    o.leader_elect = false;
    o.claim_ttl = absl::Hours(1);
    o.log_level = getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "error";
    auto created = Server::Create(o, std::move(fake), Clock::Real());
    if (!created.ok()) return std::fprintf(stderr, "%s\n", created.status().ToString().c_str()), 1;
    server = std::move(created).value();
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!server->IsReady() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    target = absl::StrCat("127.0.0.1:", server->grpc_port());
  } else if (!absl::GetFlag(FLAGS_ca).empty()) {
    auto c = ChannelCredentialsFromFiles(absl::GetFlag(FLAGS_ca));
    if (!c.ok()) return std::fprintf(stderr, "%s\n", c.status().ToString().c_str()), 1;
    creds = *c;
  }
  int clients = absl::GetFlag(FLAGS_clients);
  // A few channels (connections) shared by the clients, as gRPC clients usually do.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("channel_index", i);  // distinct channels, not one shared subchannel
    channels.push_back(grpc::CreateCustomChannel(target, creds, args));
  }
  std::vector<Result> results(clients);
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { Client(channels[i % channels.size()], i, api, results[i]); });
  }
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Result all;
  for (Result& r : results) {
    all.ms.insert(all.ms.end(), r.ms.begin(), r.ms.end());
    all.ok += r.ok, all.exhausted += r.exhausted, all.errors += r.errors;
  }
  size_t n = all.ms.size();
  std::printf(
      "claim_bench mode=%s dry_run=%d clients=%d rate=%.0f calls=%zu granted=%d exhausted=%d "
      "errors=%d "
      "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f calls_per_s=%.0f\n",
      server ? "in-process" : "target", absl::GetFlag(FLAGS_dry_run), clients,
      absl::GetFlag(FLAGS_rate), n, all.ok, all.exhausted, all.errors, Percentile(all.ms, 0.5),
      Percentile(all.ms, 0.99), Percentile(all.ms, 1.0), n / seconds);
  if (server) server->Shutdown(absl::Now() + absl::Seconds(1));
  return all.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace labkube::scheduler

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();  // the in-process scheduler runs as it would in production
  absl::ParseCommandLine(argc, argv);
  return labkube::scheduler::Run();
}
