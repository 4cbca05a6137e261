#include "tests/e2e/lab_fixture.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/kube/json.h"
#include "tests/integration/harness.h"

namespace labkube::e2e {
namespace {

namespace json = kube::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<LabEnv> LabEnv::FromEnvironment() {
  LabEnv e;
  std::vector<std::string> missing;
  for (auto [name, field] : {std::pair{"LABKUBE_GATEWAY", &e.gateway}, {"LABKUBE_CA", &e.ca},
                             {"LABKUBE_CREDENTIALS", &e.credentials},
                             {"LABKUBE_KUBECONFIG", &e.kubeconfig}, {"LABKUBE_STATE", &e.state},
                             {"KUBECTL", &e.kubectl}, {"GRPCURL", &e.grpcurl}}) {
    *field = Env(name);
    if (field->empty()) missing.push_back(name);
  }
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "end-to-end tests need the local lab; missing ", absl::StrJoin(missing, ", "),
        ". Run ./dev.sh test, or: tests/cluster/cluster.sh up && tools/services.sh up, then "
        "eval the `env` of both and pass the variables with --test_env (see .bazelrc)"));
  }
  e.labctl = it::Runfile("clients/cli/labctl");
  return e;
}

absl::StatusOr<Account> ReadAccount(const std::string& credentials_file, const std::string& role) {
  auto text = ReadFile(credentials_file);
  if (!text.ok()) return text.status();
  try {
    YAML::Node n = YAML::Load(*text)[role];
    Account a{n["username"].as<std::string>(""), n["password"].as<std::string>("")};
    if (a.username.empty() || a.password.empty()) {
      return absl::NotFoundError(absl::StrCat(credentials_file, " has no ", role, " account"));
    }
    return a;
  } catch (const YAML::Exception& ex) {
    return absl::InvalidArgumentError(absl::StrCat(credentials_file, ": ", ex.what()));
  }
}

std::string NewDir(const std::string& prefix) {
  std::string base = Env("TEST_TMPDIR").empty() ? "/tmp" : Env("TEST_TMPDIR");
  std::string dir = absl::StrCat(base, "/", it::UniqueName(prefix));
  mkdir(dir.c_str(), 0700);
  return dir;
}

Labctl::Labctl(const LabEnv& env, std::string config_dir)
    : env_(env), config_dir_(std::move(config_dir)) {}

std::map<std::string, std::string> Labctl::Env() const {
  std::string bin_dir = env_.labctl.substr(0, env_.labctl.rfind('/'));
  return {{"LABCTL_CONFIG_DIR", config_dir_},
          {"PATH", absl::StrCat(bin_dir, ":", labkube::e2e::Env("PATH"))}};
}

absl::StatusOr<CommandResult> Labctl::Run(const std::vector<std::string>& args,
                                          const std::string& stdin_text,
                                          absl::Duration timeout) const {
  std::vector<std::string> argv = {env_.labctl};
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Run(argv, {.stdin_text = stdin_text, .env = Env(), .timeout = timeout});
}

absl::StatusOr<rapidjson::Document> Labctl::Json(const std::vector<std::string>& args) const {
  std::vector<std::string> with_output = args;
  with_output.insert(with_output.end(), {"-o", "json"});
  auto r = Run(with_output);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return absl::InternalError(r->Describe());
  auto doc = json::Parse(r->out);
  if (!doc.ok()) return absl::InternalError(absl::StrCat("not JSON: ", r->Describe()));
  return doc;
}

absl::Status Labctl::Login(const Account& account) const {
  auto r = Run({"login", "--server", env_.gateway, "--ca-file", env_.ca, "--username",
                account.username, "--password-stdin"},
               account.password + "\n");
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return absl::InternalError(r->Describe());
  return absl::OkStatus();
}

absl::StatusOr<rapidjson::Document> Labctl::StoredCredentials() const {
  auto text = ReadFile(config_dir_ + "/credentials.json");
  if (!text.ok()) return text.status();
  return json::Parse(*text);
}

absl::Status Labctl::StoreCredentials(const rapidjson::Document& credentials) const {
  std::string path = config_dir_ + "/credentials.json";
  std::ofstream out(path, std::ios::trunc);
  out << json::ToString(credentials);
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  chmod(path.c_str(), 0600);
  return absl::OkStatus();
}

absl::StatusOr<CommandResult> Kubectl(const LabEnv& env, const std::vector<std::string>& args,
                                      const std::string& kubeconfig,
                                      const std::map<std::string, std::string>& extra_env) {
  std::vector<std::string> argv = {env.kubectl,
                                   "--kubeconfig=" + (kubeconfig.empty() ? env.kubeconfig : kubeconfig)};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = extra_env;
  return e2e::Run(argv, options);
}

absl::StatusOr<CommandResult> Grpcurl(const LabEnv& env, const std::string& token,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv = {env.grpcurl, "-cacert", env.ca, "-max-time", "20"};
  if (!token.empty()) argv.insert(argv.end(), {"-H", "authorization: Bearer " + token});
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Run(argv);
}

bool Eventually(const std::function<bool()>& pred, absl::Duration timeout) {
  return it::WaitFor(pred, timeout, absl::Milliseconds(200));
}

}  // namespace labkube::e2e
