// Authenticator benchmark against a real kube-apiserver (the local control plane):
//   - Login throughput with the default password hash cost (yescrypt), N concurrent clients;
//   - Refresh latency (p50/p90/p99/max): 1 client; 50 concurrent clients (each on its own
//     connection) paced at --refresh_rate_per_client; the same 50 back to back (saturation);
//   - for reference, the raw TokenRequest round trip, 50 clients back to back.
// The authenticator runs in process (plaintext gRPC on 127.0.0.1) with the cluster's admin
// credentials; members are created for the run and deleted afterwards.
//
//   bazel run //services/authenticator:auth_bench -- --kubeconfig=$LABKUBE_KUBECONFIG
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "lib/kube/config.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "lib/log.h"
#include "lib/status_macros.h"
#include "services/authenticator/bootstrap.h"
#include "services/authenticator/member_provisioner.h"
#include "services/authenticator/member_store.h"
#include "services/authenticator/secret_map.h"
#include "services/authenticator/server.h"

ABSL_FLAG(std::string, kubeconfig, "", "cluster kubeconfig (default $LABKUBE_KUBECONFIG)");
ABSL_FLAG(int, members, 8, "members to log in as");
ABSL_FLAG(int, login_clients, 4, "concurrent Login clients");
ABSL_FLAG(int, logins, 160, "Login calls in total");
ABSL_FLAG(int, refresh_clients, 50, "concurrent Refresh clients");
ABSL_FLAG(double, refresh_rate_per_client, 2, "Refresh calls per second per client (paced run)");
ABSL_FLAG(absl::Duration, refresh_duration, absl::Seconds(10), "how long each Refresh run lasts");

namespace labkube::authenticator {
namespace {

namespace api = ::labkube::auth::v1alpha1;
namespace json = kube::json;

struct Stats {
  std::vector<double> ms;
  double seconds = 0;
  int errors = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void Print(const char* what, const Stats& s) {
  std::printf("%-40s n=%zu errors=%d  %.1f/s  p50=%.1f ms  p90=%.1f ms  p99=%.1f ms  max=%.1f ms\n",
              what, s.ms.size(), s.errors, s.ms.size() / s.seconds, Percentile(s.ms, 0.5),
              Percentile(s.ms, 0.9), Percentile(s.ms, 0.99), Percentile(s.ms, 1.0));
}

// Runs `clients` threads; thread i calls op(i) until it returns false, at most once per
// `interval` (zero: back to back). Records each call's latency.
Stats RunClients(int clients, absl::Duration interval, const std::function<bool(int, Stats&)>& op) {
  std::vector<Stats> per(clients);
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      // Spread the clients' first calls over one interval.
      absl::Time next = start + interval * i / std::max(clients, 1);
      while (true) {
        if (interval > absl::ZeroDuration()) {
          absl::SleepFor(next - absl::Now());
          next += interval;
        }
        absl::Time t = absl::Now();
        if (!op(i, per[i])) break;
        per[i].ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
      }
    });
  }
  for (auto& t : threads) t.join();
  Stats all;
  all.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const Stats& s : per) {
    all.ms.insert(all.ms.end(), s.ms.begin(), s.ms.end());
    all.errors += s.errors;
  }
  return all;
}

std::unique_ptr<api::Authenticator::Stub> NewStub(int port, int client) {
  grpc::ChannelArguments args;
  args.SetInt("labkube.bench.client", client);  // a connection of its own per client
  return api::Authenticator::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), args));
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& bearer = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
  return ctx;
}

std::string Suffix() {
  absl::BitGen gen;
  return absl::StrCat(absl::Uniform<uint32_t>(gen, 0, 1u << 24));
}

// The run's fixtures: an in-process authenticator, an admin and members.
struct Bench {
  std::unique_ptr<kube::RestClient> admin_client;
  std::unique_ptr<Server> server;
  std::string tag = Suffix();
  std::string admin;
  std::string password;
  std::string admin_token;
  std::vector<std::string> members;
  std::vector<std::unique_ptr<api::Authenticator::Stub>> stubs;  // one connection per client

  grpc::Status Login(api::Authenticator::Stub& s, const std::string& user, api::LoginResponse* r) {
    api::LoginRequest req;
    req.set_username(user);
    req.set_password(password);
    return s.Login(Ctx().get(), req, r);
  }
};

Options ServerOptions(const kube::ClusterConfig& config) {
  Options o;
  o.grpc_address = "127.0.0.1:0";
  o.http_address = "127.0.0.1";
  o.http_port = 0;
  o.plaintext = true;
  o.public_server = config.server;
  o.public_ca_pem = config.ca_pem;
  o.log_level = "error";  // no audit lines among the figures
  return o;
}

absl::Status CreateMembers(Bench& b, int count) {
  for (int i = 0; i < count; ++i) {
    api::CreateMemberRequest req;
    req.set_name(absl::StrCat("bench-", i, "-", b.tag));
    req.set_password(b.password);
    api::Member m;
    grpc::Status s = b.stubs[0]->CreateMember(Ctx(b.admin_token).get(), req, &m);
    if (!s.ok()) return absl::InternalError("CreateMember: " + s.error_message());
    b.members.push_back(req.name());
  }
  return absl::OkStatus();
}

absl::Status SetUp(const kube::ClusterConfig& config, Bench& b) {
  Options o = ServerOptions(config);
  LK_ASSIGN_OR_RETURN(b.admin_client, kube::RestClient::Create(config));
  b.admin = "bench-admin-" + b.tag;
  b.password = "bench-password-" + b.tag;
  LK_RETURN_IF_ERROR(BootstrapAdmin(*b.admin_client, Clock::Real(), o, b.admin, b.password));
  LK_ASSIGN_OR_RETURN(auto client, kube::RestClient::Create(config));
  LK_ASSIGN_OR_RETURN(b.server, Server::Create(o, std::move(client), Clock::Real()));
  int clients = std::max(absl::GetFlag(FLAGS_login_clients), absl::GetFlag(FLAGS_refresh_clients));
  for (int i = 0; i < clients; ++i) b.stubs.push_back(NewStub(b.server->grpc_port(), i));
  api::LoginResponse r;
  grpc::Status s = b.Login(*b.stubs[0], b.admin, &r);
  if (!s.ok()) return absl::InternalError("admin Login: " + s.error_message());
  b.admin_token = r.access_token();
  return CreateMembers(b, absl::GetFlag(FLAGS_members));
}

Stats RunLogins(Bench& b, int clients) {
  std::atomic<int> remaining{absl::GetFlag(FLAGS_logins)};
  return RunClients(clients, absl::ZeroDuration(), [&](int i, Stats& st) {
    int n = remaining.fetch_sub(1);
    if (n <= 0) return false;
    api::LoginResponse r;
    if (!b.Login(*b.stubs[i], b.members[n % b.members.size()], &r).ok()) ++st.errors;
    return true;
  });
}

// Refresh tokens for `clients` sessions (one Login each).
absl::StatusOr<std::vector<std::string>> Sessions(Bench& b, int clients) {
  std::vector<std::string> tokens;
  for (int i = 0; i < clients; ++i) {
    api::LoginResponse r;
    grpc::Status s = b.Login(*b.stubs[i], b.members[i % b.members.size()], &r);
    if (!s.ok()) return absl::InternalError("Login: " + s.error_message());
    tokens.push_back(r.refresh_token());
  }
  return tokens;
}

Stats RunRefreshes(Bench& b, const std::vector<std::string>& tokens, int clients,
                   absl::Duration interval) {
  absl::Time end = absl::Now() + absl::GetFlag(FLAGS_refresh_duration);
  return RunClients(clients, interval, [&](int i, Stats& st) {
    if (absl::Now() >= end) return false;
    api::RefreshRequest req;
    req.set_refresh_token(tokens[i]);
    api::RefreshResponse r;
    if (!b.stubs[i]->Refresh(Ctx().get(), req, &r).ok()) ++st.errors;
    return true;
  });
}

// The TokenRequest round trip alone, straight to the API server.
Stats RunRawTokenRequests(Bench& b, int clients) {
  absl::Time end = absl::Now() + absl::GetFlag(FLAGS_refresh_duration);
  return RunClients(clients, absl::ZeroDuration(), [&](int i, Stats& st) {
    if (absl::Now() >= end) return false;
    rapidjson::Document body(rapidjson::kObjectType);
    json::SetString(body, {"apiVersion"}, "authentication.k8s.io/v1");
    json::SetString(body, {"kind"}, "TokenRequest");
    json::SetInt(body, {"spec", "expirationSeconds"}, 8 * 3600);
    const std::string& m = b.members[i % b.members.size()];
    if (!b.admin_client
             ->CreateSubresource(kube::resources::ServiceAccounts(), "lab-" + m, m, "token", body)
             .ok()) {
      ++st.errors;
    }
    return true;
  });
}

void CleanUp(Bench& b) {
  for (const std::string& m : b.stubs.empty() ? std::vector<std::string>() : b.members) {
    api::DeleteMemberRequest req;
    req.set_name(m);
    req.set_delete_namespace(true);
    api::DeleteMemberResponse res;
    b.stubs[0]->DeleteMember(Ctx(b.admin_token).get(), req, &res);
  }
  if (b.server != nullptr) b.server->Shutdown(absl::Now() + absl::Seconds(2));
  if (b.admin_client == nullptr) return;
  MemberProvisioner(*b.admin_client, ProvisionerOptions{}).Deprovision(b.admin, true).IgnoreError();
  SecretMap map(*b.admin_client, Clock::Real(), "labkube-system", "labkube-members");
  MemberStore(map).Delete(b.admin).status().IgnoreError();
}

struct Figures {
  Stats logins, refresh_one, refresh_paced, refresh_saturated, raw;
};

absl::Status RunAll(const kube::ClusterConfig& config, Bench& b, Figures& f) {
  LK_RETURN_IF_ERROR(SetUp(config, b));
  const int clients = absl::GetFlag(FLAGS_refresh_clients);
  f.logins = RunLogins(b, absl::GetFlag(FLAGS_login_clients));
  LK_ASSIGN_OR_RETURN(std::vector<std::string> tokens, Sessions(b, clients));
  f.refresh_one = RunRefreshes(b, tokens, 1, absl::ZeroDuration());
  f.refresh_paced = RunRefreshes(b, tokens, clients,
                                 absl::Seconds(1) / absl::GetFlag(FLAGS_refresh_rate_per_client));
  f.refresh_saturated = RunRefreshes(b, tokens, clients, absl::ZeroDuration());
  f.raw = RunRawTokenRequests(b, clients);
  return absl::OkStatus();
}

int Main() {
  std::string path = absl::GetFlag(FLAGS_kubeconfig);
  if (path.empty() && std::getenv("LABKUBE_KUBECONFIG") != nullptr) {
    path = std::getenv("LABKUBE_KUBECONFIG");
  }
  absl::StatusOr<kube::ClusterConfig> config = kube::LoadKubeconfig(path);
  SetLogLevel(LogLevel::kError);
  Bench b;
  Figures f;
  absl::Status s = config.ok() ? RunAll(*config, b, f) : config.status();
  CleanUp(b);
  if (!s.ok()) {
    std::fprintf(stderr, "auth_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  const int n = absl::GetFlag(FLAGS_refresh_clients);
  const double rate = absl::GetFlag(FLAGS_refresh_rate_per_client);
  std::printf("\nauthenticator benchmark (2 cores shared with kube-apiserver and etcd)\n");
  std::printf("password hash: yescrypt at libxcrypt's default cost; %zu members\n",
              b.members.size());
  Print(absl::StrCat("Login, ", absl::GetFlag(FLAGS_login_clients), " clients").c_str(), f.logins);
  Print("Refresh, 1 client", f.refresh_one);
  Print(absl::StrCat("Refresh, ", n, " clients at ", rate, "/s each").c_str(), f.refresh_paced);
  Print(absl::StrCat("Refresh, ", n, " clients back to back").c_str(), f.refresh_saturated);
  Print(absl::StrCat("raw TokenRequest, ", n, " back to back").c_str(), f.raw);
  return 0;
}

}  // namespace
}  // namespace labkube::authenticator

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return labkube::authenticator::Main();
}
