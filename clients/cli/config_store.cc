#include "clients/cli/config_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "clients/cli/exit_codes.h"
#include "lib/kube/json.h"
#include "lib/status_macros.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace labkube::cli {
namespace {

namespace json = kube::json;

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return absl::OkStatus();
  size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) LK_RETURN_IF_ERROR(MakeDirs(dir.substr(0, slash)));
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return LocalError(absl::StrCat("cannot create ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string Pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::string TimeString(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Time ParseTimeOrPast(std::string_view text) {
  absl::Time t;
  std::string err;
  if (text.empty() ||
      !absl::ParseTime(absl::RFC3339_full, absl::string_view(text.data(), text.size()), &t, &err)) {
    return absl::InfinitePast();
  }
  return t;
}

absl::StatusOr<rapidjson::Document> LoadJson(const std::string& path) {
  LK_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  absl::StatusOr<rapidjson::Document> doc = json::Parse(text);
  if (!doc.ok()) {
    return LocalError(absl::StrCat(path, " is damaged (", doc.status().message(),
                                   "); delete it and run `labctl login` again"));
  }
  return doc;
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, const std::string& content, int mode) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) LK_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash)));
  const std::string tmp = absl::StrCat(path, ".tmp-", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return LocalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  fchmod(fd, mode);  // whatever the umask
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      unlink(tmp.c_str());
      return LocalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return LocalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return LocalError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::string> ConfigStore::DefaultDir(const Getenv& getenv) {
  // LABCTL_CONFIG_DIR is the documented name; LABKUBE_CONFIG_DIR is kept for older scripts.
  for (const char* name : {"LABCTL_CONFIG_DIR", "LABKUBE_CONFIG_DIR"}) {
    if (auto dir = getenv(name); dir.has_value() && !dir->empty()) return *dir;
  }
  if (auto xdg = getenv("XDG_CONFIG_HOME"); xdg.has_value() && !xdg->empty()) {
    return absl::StrCat(*xdg, "/labkube");
  }
  if (auto home = getenv("HOME"); home.has_value() && !home->empty()) {
    return absl::StrCat(*home, "/.config/labkube");
  }
  return LocalError("neither LABCTL_CONFIG_DIR nor HOME is set: cannot find the config folder");
}

absl::StatusOr<Config> ConfigStore::LoadConfig() const {
  LK_ASSIGN_OR_RETURN(rapidjson::Document doc, LoadJson(config_path()));
  Config c;
  c.server = std::string(json::GetString(doc, {"server"}));
  c.ca_file = std::string(json::GetString(doc, {"caFile"}));
  c.plaintext = json::GetBool(doc, {"plaintext"});
  c.member = std::string(json::GetString(doc, {"member"}));
  c.ns = std::string(json::GetString(doc, {"namespace"}));
  return c;
}

absl::Status ConfigStore::SaveConfig(const Config& c) const {
  rapidjson::Document doc(rapidjson::kObjectType);
  json::SetString(doc, {"server"}, c.server);
  if (!c.ca_file.empty()) json::SetString(doc, {"caFile"}, c.ca_file);
  if (c.plaintext) json::SetBool(doc, {"plaintext"}, true);
  json::SetString(doc, {"member"}, c.member);
  json::SetString(doc, {"namespace"}, c.ns);
  return WriteFileAtomically(config_path(), Pretty(doc), 0600);
}

absl::StatusOr<Credentials> ConfigStore::LoadCredentials() const {
  struct stat st;
  if (stat(credentials_path().c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    chmod(credentials_path().c_str(), 0600);
  }
  LK_ASSIGN_OR_RETURN(rapidjson::Document doc, LoadJson(credentials_path()));
  Credentials c;
  c.member = std::string(json::GetString(doc, {"member"}));
  c.access_token = std::string(json::GetString(doc, {"accessToken"}));
  c.access_expiry = ParseTimeOrPast(json::GetString(doc, {"accessTokenExpiry"}));
  c.refresh_token = std::string(json::GetString(doc, {"refreshToken"}));
  c.refresh_expiry = ParseTimeOrPast(json::GetString(doc, {"refreshTokenExpiry"}));
  return c;
}

absl::Status ConfigStore::SaveCredentials(const Credentials& c) const {
  rapidjson::Document doc(rapidjson::kObjectType);
  json::SetString(doc, {"member"}, c.member);
  json::SetString(doc, {"accessToken"}, c.access_token);
  json::SetString(doc, {"accessTokenExpiry"}, TimeString(c.access_expiry));
  json::SetString(doc, {"refreshToken"}, c.refresh_token);
  json::SetString(doc, {"refreshTokenExpiry"}, TimeString(c.refresh_expiry));
  return WriteFileAtomically(credentials_path(), Pretty(doc), 0600);
}

absl::Status ConfigStore::DeleteCredentials() const {
  if (unlink(credentials_path().c_str()) != 0 && errno != ENOENT) {
    return LocalError(
        absl::StrCat("cannot delete ", credentials_path(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace labkube::cli
