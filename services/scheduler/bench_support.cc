#include "services/scheduler/bench_support.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

extern char** environ;

namespace labkube::scheduler::bench {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

std::atomic<pid_t> scheduler_pid{0};  // stopped when the bench gives up
std::string& Name() {
  static std::string* name = new std::string("bench");
  return *name;
}

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

void SetName(std::string name) { Name() = std::move(name); }

void Parallel(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : pool) t.join();
}

void Fail(const std::string& why) {
  std::fprintf(stderr, "%s: %s\n", Name().c_str(), why.c_str());
  if (pid_t pid = scheduler_pid.load(); pid > 0) kill(pid, SIGTERM);
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok() && !absl::IsAlreadyExists(s) && !absl::IsNotFound(s)) {
    Fail(absl::StrCat(what, ": ", s.ToString()));
  }
}

void CreateNodes(kube::Client& c, const std::string& prefix, int n, int threads) {
  Parallel(n, threads, [&](int i) {
    std::string name = absl::StrCat(prefix, i);
    auto node = json::Parse(absl::StrCat(
        R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")", name,
        R"(","annotations":{"kwok.x-k8s.io/node":"fake"},"labels":{"kubernetes.io/hostname":")",
        name,
        R"(","type":"kwok"}},"status":{"capacity":{"cpu":"64","memory":"256Gi","pods":"110"},)",
        R"("allocatable":{"cpu":"64","memory":"256Gi","pods":"110"}}})"));
    Check(c.Create(res::Nodes(), "", *node), "create node");
  });
}

void DeleteNodes(kube::Client& c, const std::string& prefix, int n, int threads) {
  Parallel(n, threads, [&](int i) {
    Check(c.Delete(res::Nodes(), "", absl::StrCat(prefix, i)), "delete node");
  });
}

int CountRunning(kube::Client& c, const std::string& ns, const std::string& selector) {
  kube::ListOptions o;
  o.label_selector = selector;
  o.field_selector = "status.phase=Running";
  o.limit = 5000;
  int count = 0;
  do {
    auto page = c.List(res::Pods(), ns, o);
    if (!page.ok()) return -1;
    count += page->items().Size();
    o.continue_token = page->continue_token;
  } while (!o.continue_token.empty());
  return count;
}

double WaitRunning(kube::Client& c, const std::string& ns, const std::string& sel, int want,
                   absl::Time start) {
  absl::Time deadline = start + absl::Minutes(30);
  while (absl::Now() < deadline) {
    if (CountRunning(c, ns, sel) >= want) return absl::ToDoubleSeconds(absl::Now() - start);
    int status = 0;
    pid_t pid = scheduler_pid.load();
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
      scheduler_pid = 0;
      Fail(absl::StrCat("the scheduler exited (status ", status, ") before its pods ran"));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return -1;
}

void Preflight(kube::Client& c) {
  struct Need {
    const kube::Resource& resource;
    const char* ns;
    const char* name;
  };
  for (const Need& n : {Need{res::CustomResourceDefinitions(), "", "machines.labkube.io"},
                        Need{res::Namespaces(), "", "labkube-system"},
                        Need{res::PriorityClasses(), "", "labkube-reservation"}}) {
    absl::StatusOr<rapidjson::Document> got = c.Get(n.resource, n.ns, n.name);
    if (absl::IsNotFound(got.status())) {
      Fail(absl::StrCat(n.resource.kind, " ", n.name, " is missing: install labkube's base first ",
                        "(kubectl apply -f k8s/crds/ -f k8s/base/)"));
    }
    Check(got.status(), "preflight");
  }
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Fail("cannot find a free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

SchedulerProcess StartScheduler(const std::string& bin, const std::string& kubeconfig) {
  SchedulerProcess s;
  s.grpc_port = FreePort();
  s.http_port = FreePort();
  std::vector<std::string> args = {bin,
                                   "--kubeconfig=" + kubeconfig,
                                   absl::StrCat("--grpc_address=127.0.0.1:", s.grpc_port),
                                   "--http_address=127.0.0.1",
                                   absl::StrCat("--http_port=", s.http_port),
                                   "--plaintext",
                                   "--leader_elect=false",
                                   "--log_level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&s.pid, bin.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    Fail(absl::StrCat("cannot start ", bin));
  }
  scheduler_pid = s.pid;
  return s;
}

void StopScheduler(SchedulerProcess& s) {
  if (s.pid <= 0) return;
  kill(s.pid, SIGTERM);
  waitpid(s.pid, nullptr, 0);
  scheduler_pid = 0;
  s.pid = 0;
}

double Scrape(int port, const std::string& name) {
  std::string body;
  CURL* curl = curl_easy_init();
  std::string url = absl::StrCat("http://127.0.0.1:", port, "/metrics");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) Fail(absl::StrCat("scrape ", url, ": ", curl_easy_strerror(rc)));
  double sum = 0;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

long PeakRssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t end = stat.rfind(')');
  if (end == std::string::npos) return -1;
  // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> f = absl::StrSplit(stat.substr(end + 2), ' ');
  if (f.size() < 13) return -1;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

}  // namespace labkube::scheduler::bench
