// The running local lab as the end-to-end tests see it: every labkube service up on a real
// control plane with kwok GPU nodes (tools/services.sh up; ./dev.sh test does it), reached the
// way users reach it -- through labctl, grpcurl and kubectl. Environment (from
// `tests/cluster/cluster.sh env` and `tools/services.sh env`): LABKUBE_GATEWAY, LABKUBE_CA,
// LABKUBE_CREDENTIALS, LABKUBE_KUBECONFIG, LABKUBE_STATE, KUBECTL, GRPCURL. labctl is this
// build's (a runfile).
//
// Test-only. Thread safety: a Labctl is used by one thread at a time.
#ifndef LABKUBE_TESTS_E2E_LAB_FIXTURE_H_
#define LABKUBE_TESTS_E2E_LAB_FIXTURE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "tests/e2e/command.h"

namespace labkube::e2e {

struct LabEnv {
  std::string gateway;      // host:port
  std::string ca;           // CA of labkube's serving certificates
  std::string credentials;  // demo accounts (admin:, member:)
  std::string kubeconfig;   // the cluster admin's
  std::string state;        // the control plane's state folder (pki/sa.key)
  std::string kubectl;
  std::string grpcurl;
  std::string labctl;
  // kFailedPrecondition naming what is missing and how to bring the lab up.
  static absl::StatusOr<LabEnv> FromEnvironment();
};

struct Account {
  std::string username;
  std::string password;
};
// `role` ("admin" or "member") from the credentials file `./dev.sh up` writes.
absl::StatusOr<Account> ReadAccount(const std::string& credentials_file, const std::string& role);

// A fresh folder under the test's temporary directory.
std::string NewDir(const std::string& prefix);

// One user's labctl: its own config folder (LABCTL_CONFIG_DIR), this build's binary.
class Labctl {
 public:
  Labctl(const LabEnv& env, std::string config_dir);
  absl::StatusOr<CommandResult> Run(const std::vector<std::string>& args,
                                    const std::string& stdin_text = "",
                                    absl::Duration timeout = absl::Seconds(60)) const;
  // Runs with `-o json` appended and parses stdout; a non-zero exit is an error carrying it.
  absl::StatusOr<rapidjson::Document> Json(const std::vector<std::string>& args) const;
  absl::Status Login(const Account& account) const;
  // The stored session (credentials.json), e.g. "accessToken", "accessTokenExpiry".
  absl::StatusOr<rapidjson::Document> StoredCredentials() const;
  absl::Status StoreCredentials(const rapidjson::Document& credentials) const;
  // Environment a kubectl that runs `labctl credential` needs: PATH with labctl, config folder.
  std::map<std::string, std::string> Env() const;
  const std::string& config_dir() const { return config_dir_; }

 private:
  const LabEnv& env_;
  std::string config_dir_;
};

// kubectl --kubeconfig=<kubeconfig, default the admin's> args...
absl::StatusOr<CommandResult> Kubectl(const LabEnv& env, const std::vector<std::string>& args,
                                      const std::string& kubeconfig = "",
                                      const std::map<std::string, std::string>& extra_env = {});
// grpcurl -cacert <CA> [-H authorization: Bearer <token>] args... (target and method included).
absl::StatusOr<CommandResult> Grpcurl(const LabEnv& env, const std::string& token,
                                      const std::vector<std::string>& args);

// Polls `pred` until true or `timeout`; false on timeout.
bool Eventually(const std::function<bool()>& pred, absl::Duration timeout);

}  // namespace labkube::e2e

#endif  // LABKUBE_TESTS_E2E_LAB_FIXTURE_H_
