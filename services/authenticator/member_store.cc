#include "services/authenticator/member_store.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/log.h"
#include "lib/status_macros.h"
#include "services/authenticator/password_hasher.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseTimeField(const rapidjson::Value& doc, std::string_view key) {
  std::optional<std::string_view> text = json::FindString(doc, {key});
  absl::Time t;
  std::string err;
  if (!text.has_value() || !absl::ParseTime(absl::RFC3339_full, ToAbsl(*text), &t, &err)) {
    return std::nullopt;
  }
  return t;
}

}  // namespace

std::string SerializeMemberRecord(const MemberRecord& record) {
  rapidjson::Document doc(rapidjson::kObjectType);
  json::SetString(doc, {"passwordHash"}, record.password_hash);
  json::SetString(doc, {"created"}, Rfc3339(record.created));
  if (record.last_login.has_value()) {
    json::SetString(doc, {"lastLogin"}, Rfc3339(*record.last_login));
  }
  return json::ToString(doc);
}

absl::StatusOr<MemberRecord> ParseMemberRecord(const std::string& text) {
  LK_ASSIGN_OR_RETURN(rapidjson::Document doc, json::Parse(text));
  if (!doc.IsObject()) return absl::InvalidArgumentError("member record is not a JSON object");
  MemberRecord r;
  r.password_hash = std::string(json::GetString(doc, {"passwordHash"}));
  if (auto created = ParseTimeField(doc, "created")) r.created = *created;
  r.last_login = ParseTimeField(doc, "lastLogin");
  return r;
}

absl::StatusOr<std::optional<MemberRecord>> MemberStore::Get(const std::string& name, bool fresh) {
  if (fresh) LK_RETURN_IF_ERROR(map_.Fetch().status());
  LK_ASSIGN_OR_RETURN(std::optional<std::string> text, map_.Find(name, /*fallback=*/false));
  if (!text.has_value()) return std::optional<MemberRecord>();
  LK_ASSIGN_OR_RETURN(MemberRecord record, ParseMemberRecord(*text));
  return std::optional<MemberRecord>(std::move(record));
}

absl::StatusOr<std::map<std::string, MemberRecord>> MemberStore::List() {
  LK_ASSIGN_OR_RETURN(SecretMap::Snapshot data, map_.Fetch());
  std::map<std::string, MemberRecord> out;
  for (const auto& [name, text] : *data) {
    absl::StatusOr<MemberRecord> r = ParseMemberRecord(text);
    if (!r.ok()) {
      LogEvent(LogLevel::kWarn, "members.bad_record", {{"member", name}, {"error", r.status()}});
      continue;
    }
    out.emplace(name, *std::move(r));
  }
  return out;
}

absl::Status MemberStore::Create(const std::string& name, const MemberRecord& record) {
  if (!record.password_hash.empty() && !PasswordHasher::LooksLikeHash(record.password_hash)) {
    return absl::InvalidArgumentError("refusing to store a password that is not hashed");
  }
  return map_
      .Mutate([&](SecretMap::Data& data) {
        if (data.count(name) > 0) {
          return absl::AlreadyExistsError(absl::StrCat("member ", name, " already exists"));
        }
        data[name] = SerializeMemberRecord(record);
        return absl::OkStatus();
      })
      .status();
}

absl::Status MemberStore::Update(const std::string& name,
                                 const std::function<void(MemberRecord&)>& update) {
  return map_
      .Mutate([&](SecretMap::Data& data) -> absl::Status {
        auto it = data.find(name);
        if (it == data.end()) return absl::NotFoundError(absl::StrCat("no member ", name));
        LK_ASSIGN_OR_RETURN(MemberRecord record, ParseMemberRecord(it->second));
        update(record);
        it->second = SerializeMemberRecord(record);
        return absl::OkStatus();
      })
      .status();
}

absl::Status MemberStore::SetPasswordHash(const std::string& name, const std::string& hash) {
  if (!PasswordHasher::LooksLikeHash(hash)) {
    return absl::InvalidArgumentError("refusing to store a password that is not hashed");
  }
  return Update(name, [&](MemberRecord& r) { r.password_hash = hash; });
}

absl::Status MemberStore::RecordLogin(const std::string& name, absl::Time when) {
  return Update(name, [&](MemberRecord& r) { r.last_login = when; });
}

absl::StatusOr<bool> MemberStore::Delete(const std::string& name) {
  bool existed = false;
  LK_RETURN_IF_ERROR(map_.Mutate([&](SecretMap::Data& data) {
                           existed = data.erase(name) > 0;
                           return absl::OkStatus();
                         })
                         .status());
  return existed;
}

}  // namespace labkube::authenticator
