#include "services/authenticator/session_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;

constexpr std::string_view kTokenPrefix = "lkr_";
constexpr size_t kTokenBytes = 32;
constexpr size_t kEncodedLength = 43;  // unpadded base64 of 32 bytes

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool ParseTimeField(const rapidjson::Value& doc, std::string_view key, absl::Time* out) {
  std::optional<std::string_view> text = json::FindString(doc, {key});
  std::string err;
  return text.has_value() && absl::ParseTime(absl::RFC3339_full, ToAbsl(*text), out, &err);
}

absl::Status Invalid() {
  return absl::UnauthenticatedError("refresh token is invalid, revoked or expired; log in again");
}

// Drops expired sessions; keeps each member's newest `max_per_member - reserve` sessions.
void Prune(SecretMap::Data& data, absl::Time now, int max_per_member, int reserve) {
  std::map<std::string, std::vector<std::pair<absl::Time, std::string>>> by_member;
  for (auto it = data.begin(); it != data.end();) {
    absl::StatusOr<Session> s = ParseSession(it->second);
    if (!s.ok() || s->expires <= now) {
      it = data.erase(it);
      continue;
    }
    by_member[s->member].emplace_back(s->created, it->first);
    ++it;
  }
  for (auto& [member, sessions] : by_member) {
    int keep = std::max(0, max_per_member - reserve);
    if (static_cast<int>(sessions.size()) <= keep) continue;
    std::sort(sessions.begin(), sessions.end());
    for (size_t i = 0; i < sessions.size() - keep; ++i) data.erase(sessions[i].second);
  }
}

}  // namespace

std::string SerializeSession(const Session& session) {
  rapidjson::Document doc(rapidjson::kObjectType);
  json::SetString(doc, {"member"}, session.member);
  json::SetString(doc, {"created"}, Rfc3339(session.created));
  json::SetString(doc, {"expires"}, Rfc3339(session.expires));
  if (!session.binding.name.empty()) {
    json::SetString(doc, {"binding", "name"}, session.binding.name);
    json::SetString(doc, {"binding", "uid"}, session.binding.uid);
  }
  return json::ToString(doc);
}

absl::StatusOr<Session> ParseSession(const std::string& text) {
  LK_ASSIGN_OR_RETURN(rapidjson::Document doc, json::Parse(text));
  Session s;
  s.member = std::string(json::GetString(doc, {"member"}));
  if (s.member.empty() || !ParseTimeField(doc, "created", &s.created) ||
      !ParseTimeField(doc, "expires", &s.expires)) {
    return absl::InvalidArgumentError("malformed session record");
  }
  s.binding.name = std::string(json::GetString(doc, {"binding", "name"}));
  s.binding.uid = std::string(json::GetString(doc, {"binding", "uid"}));
  return s;
}

SessionStore::SessionStore(SecretMap& map, Clock& clock, SessionOptions options)
    : clock_(clock), map_(map), options_(options) {}

bool SessionStore::IsWellFormed(std::string_view token) {
  if (token.size() != kTokenPrefix.size() + kEncodedLength) return false;
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return false;
  for (char c : token.substr(kTokenPrefix.size())) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string SessionStore::Key(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<IssuedSession> SessionStore::Create(const std::string& member,
                                                   SessionBinding binding) {
  unsigned char random[kTokenBytes];
  if (RAND_bytes(random, sizeof(random)) != 1) return absl::InternalError("RAND_bytes failed");
  IssuedSession issued;
  issued.token = absl::StrCat(ToAbsl(kTokenPrefix),
                              absl::WebSafeBase64Escape(absl::string_view(
                                  reinterpret_cast<const char*>(random), sizeof(random))));
  OPENSSL_cleanse(random, sizeof(random));
  absl::Time now = clock_.Now();
  issued.session = Session{member, now, now + options_.max_age, std::move(binding)};
  std::string key = Key(issued.token);
  LK_RETURN_IF_ERROR(map_.Mutate([&](SecretMap::Data& data) {
                           Prune(data, now, options_.max_per_member, 1);
                           data[key] = SerializeSession(issued.session);
                           return absl::OkStatus();
                         })
                         .status());
  return issued;
}

absl::StatusOr<Session> SessionStore::Lookup(std::string_view token) {
  if (!IsWellFormed(token)) return Invalid();
  LK_ASSIGN_OR_RETURN(std::optional<std::string> text, map_.Find(Key(token)));
  if (!text.has_value()) return Invalid();
  absl::StatusOr<Session> s = ParseSession(*text);
  if (!s.ok() || s->expires <= clock_.Now()) return Invalid();
  return s;
}

absl::Status SessionStore::Revoke(std::string_view token) {
  if (!IsWellFormed(token)) return absl::OkStatus();
  std::string key = Key(token);
  // Make sure the cache has the token (it may come from another replica) before deleting it.
  LK_ASSIGN_OR_RETURN(std::optional<std::string> existing, map_.Find(key));
  if (!existing.has_value()) return absl::OkStatus();
  absl::Time now = clock_.Now();
  return map_
      .Mutate([&](SecretMap::Data& data) {
        data.erase(key);
        Prune(data, now, options_.max_per_member, 0);
        return absl::OkStatus();
      })
      .status();
}

absl::StatusOr<std::vector<Session>> SessionStore::RevokeMember(const std::string& member) {
  std::vector<Session> revoked;
  absl::Time now = clock_.Now();
  LK_RETURN_IF_ERROR(map_.Fetch().status());  // every session, including other replicas' newest
  LK_RETURN_IF_ERROR(map_.Mutate([&](SecretMap::Data& data) {
                           revoked.clear();
                           for (auto it = data.begin(); it != data.end();) {
                             absl::StatusOr<Session> s = ParseSession(it->second);
                             if (s.ok() && s->member == member) {
                               if (s->expires > now) revoked.push_back(*s);
                               it = data.erase(it);
                             } else {
                               ++it;
                             }
                           }
                           Prune(data, now, options_.max_per_member, 0);
                           return absl::OkStatus();
                         })
                         .status());
  return revoked;
}

std::map<std::string, int> SessionStore::ActiveCounts() {
  std::map<std::string, int> out;
  absl::Time now = clock_.Now();
  for (const auto& [key, text] : *map_.Current()) {
    absl::StatusOr<Session> s = ParseSession(text);
    if (s.ok() && s->expires > now) ++out[s->member];
  }
  return out;
}

}  // namespace labkube::authenticator
