// MemberStore: the authenticator's record of each lab member (password hash, creation time,
// last login), one JSON value per member in a SecretMap (the Secret
// labkube-system/labkube-members). Only hashes are ever stored: callers pass what
// PasswordHasher::Hash returned, and Put refuses anything that does not look like a hash.
//
// The Kubernetes side of a member (namespace, ServiceAccount, RBAC) is MemberProvisioner's.
//
// Ownership: borrows the SecretMap. Thread safety: safe from many threads (SecretMap is).
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_MEMBER_STORE_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_MEMBER_STORE_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/authenticator/secret_map.h"

namespace labkube::authenticator {

struct MemberRecord {
  std::string password_hash;  // "" = no password set yet (cannot log in)
  absl::Time created = absl::UnixEpoch();
  std::optional<absl::Time> last_login;
};

// JSON value of a record: {"passwordHash": .., "created": RFC 3339, "lastLogin": RFC 3339}.
std::string SerializeMemberRecord(const MemberRecord& record);
absl::StatusOr<MemberRecord> ParseMemberRecord(const std::string& text);

class MemberStore {
 public:
  explicit MemberStore(SecretMap& map) : map_(map) {}

  // The member's record, nullopt when there is no such member. Read from the cache once it has
  // synced (so a lookup costs the same for members and strangers), else from the API server.
  // `fresh`: always read from the API server (admin paths).
  absl::StatusOr<std::optional<MemberRecord>> Get(const std::string& name, bool fresh = false);
  // Every member (read fresh from the API server). Unparseable records are skipped.
  absl::StatusOr<std::map<std::string, MemberRecord>> List();

  // kAlreadyExists if the member exists.
  absl::Status Create(const std::string& name, const MemberRecord& record);
  // kNotFound if the member does not exist; kInvalidArgument if `hash` is not a crypt hash.
  absl::Status SetPasswordHash(const std::string& name, const std::string& hash);
  absl::Status RecordLogin(const std::string& name, absl::Time when);
  // Returns whether the member existed.
  absl::StatusOr<bool> Delete(const std::string& name);

 private:
  // Applies `update` to the existing record of `name` (kNotFound when missing).
  absl::Status Update(const std::string& name, const std::function<void(MemberRecord&)>& update);

  SecretMap& map_;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_MEMBER_STORE_H_
