// ConfigStore: labctl's files in its config folder ($LABCTL_CONFIG_DIR, else
// $XDG_CONFIG_HOME/labkube, else ~/.config/labkube; created 0700):
//   config.json       where the gateway is (server, CA file) and who logged in last;
//   credentials.json  the access and refresh tokens with their expiry, mode 0600.
// Files are written whole to a temporary file (0600) and renamed into place, so a reader never
// sees half a file; a credentials file found with looser permissions is tightened on load.
//
// Plain values and stateless functions over the folder; not synchronised across processes
// beyond the atomic rename. Thread-compatible.
#ifndef LABKUBE_CLIENTS_CLI_CONFIG_STORE_H_
#define LABKUBE_CLIENTS_CLI_CONFIG_STORE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::cli {

using Getenv = std::function<std::optional<std::string>(const std::string&)>;

struct Config {
  std::string server;      // host:port of the gateway
  std::string ca_file;     // "" = system roots
  bool plaintext = false;  // loopback development gateways only
  std::string member;
  std::string ns;
};

struct Credentials {
  std::string member;
  std::string access_token;
  absl::Time access_expiry = absl::InfinitePast();
  std::string refresh_token;
  absl::Time refresh_expiry = absl::InfinitePast();
};

class ConfigStore {
 public:
  explicit ConfigStore(std::string dir) : dir_(std::move(dir)) {}

  // The folder from the environment (see above); kFailedPrecondition without HOME.
  static absl::StatusOr<std::string> DefaultDir(const Getenv& getenv);

  const std::string& dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/config.json"; }
  std::string credentials_path() const { return dir_ + "/credentials.json"; }

  // kNotFound when the file does not exist.
  absl::StatusOr<Config> LoadConfig() const;
  absl::Status SaveConfig(const Config& config) const;
  absl::StatusOr<Credentials> LoadCredentials() const;
  absl::Status SaveCredentials(const Credentials& credentials) const;
  // Removes the credentials file (OK when there is none).
  absl::Status DeleteCredentials() const;

 private:
  std::string dir_;
};

// Writes `content` to `path` atomically with mode `mode` (temporary file + rename), creating
// the parent folder (0700) when missing.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content, int mode);
// The whole file; kNotFound when missing.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_CONFIG_STORE_H_
