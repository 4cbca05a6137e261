// SessionStore: refresh tokens. A token is 32 random bytes (OpenSSL RAND_bytes) written as
// "lkr_" + unpadded base64url; only its SHA-256 (hex) is stored, as the key of a SecretMap entry
// (the Secret labkube-system/labkube-sessions) whose value is
// {"member": .., "created": RFC 3339, "expires": RFC 3339}. A session lives `max_age` from its
// login (refreshing does not extend it). Expired sessions are dropped on every write; a member
// keeps at most `max_per_member` sessions (the oldest go first).
//
// Lookups read the SecretMap's in-memory snapshot (no API round trip), falling back to the API
// server for tokens the snapshot does not know yet (issued by another replica moments ago).
//
// Ownership: borrows the SecretMap and clock. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_SESSION_STORE_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_SESSION_STORE_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "services/authenticator/secret_map.h"
#include "services/authenticator/token_issuer.h"

namespace labkube::authenticator {

struct SessionOptions {
  absl::Duration max_age = absl::Hours(24 * 7);
  int max_per_member = 16;
};

struct Session {
  std::string member;
  absl::Time created;
  absl::Time expires;
  SessionBinding binding;  // what its access tokens are bound to (token_issuer.h)
};

struct IssuedSession {
  std::string token;  // the only copy of the plaintext token; hand it to the client
  Session session;
};

class SessionStore {
 public:
  SessionStore(SecretMap& map, Clock& clock, SessionOptions options);

  absl::StatusOr<IssuedSession> Create(const std::string& member, SessionBinding binding = {});
  // The live session of `token`; kUnauthenticated when it is malformed, unknown, revoked or
  // expired (one message for all).
  absl::StatusOr<Session> Lookup(std::string_view token);
  // Revokes one token (OK if it was not there).
  absl::Status Revoke(std::string_view token);
  // Revokes every session of `member`; returns the live ones there were.
  absl::StatusOr<std::vector<Session>> RevokeMember(const std::string& member);
  // Live sessions per member (from the snapshot).
  std::map<std::string, int> ActiveCounts();

  // "lkr_..." of the right length and alphabet.
  static bool IsWellFormed(std::string_view token);
  // Hex SHA-256 of `token`: the storage key.
  static std::string Key(std::string_view token);

 private:
  Clock& clock_;
  SecretMap& map_;
  const SessionOptions options_;
};

std::string SerializeSession(const Session& session);
absl::StatusOr<Session> ParseSession(const std::string& text);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_SESSION_STORE_H_
