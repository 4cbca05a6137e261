#include "services/authenticator/secret_map.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/log.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr int kMaxAttempts = 10;

kube::ReflectorOptions InformerOptions(const std::string& ns, const std::string& name) {
  kube::ReflectorOptions o;
  o.ns = ns;
  o.field_selector = absl::StrCat("metadata.name=", name);
  return o;
}

std::optional<int64_t> ResourceVersion(const rapidjson::Value* object) {
  if (object == nullptr) return std::nullopt;
  int64_t rv = 0;
  std::string_view text = json::GetString(*object, {"metadata", "resourceVersion"});
  if (!absl::SimpleAtoi(ToAbsl(text), &rv)) return std::nullopt;
  return rv;
}

SecretMap::Data Decode(const rapidjson::Value& object) {
  SecretMap::Data data;
  const rapidjson::Value* values = json::Find(object, {"data"});
  if (values == nullptr || !values->IsObject()) return data;
  for (auto it = values->MemberBegin(); it != values->MemberEnd(); ++it) {
    if (!it->value.IsString()) continue;
    std::string decoded;
    if (!absl::Base64Unescape(ToAbsl(json::View(it->value)), &decoded)) {
      LogEvent(LogLevel::kWarn, "secret_map.bad_value", {{"key", json::View(it->name)}});
      continue;
    }
    data.emplace(std::string(json::View(it->name)), std::move(decoded));
  }
  return data;
}

rapidjson::Value Encode(const SecretMap::Data& data, json::Allocator& a) {
  rapidjson::Value out(rapidjson::kObjectType);
  for (const auto& [key, value] : data) {
    out.AddMember(json::String(key, a), json::String(absl::Base64Escape(value), a), a);
  }
  return out;
}

}  // namespace

SecretMap::SecretMap(kube::Client& client, Clock& clock, std::string ns, std::string name)
    : client_(client),
      ns_(std::move(ns)),
      name_(std::move(name)),
      informer_(client, res::Secrets(), InformerOptions(ns_, name_), clock) {
  informer_.AddEventHandlers({
      .on_add = [this](const kube::ObjectPtr& o) { Install(o, false); },
      .on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr& o) { Install(o, false); },
      .on_delete = [this](const kube::ObjectPtr&) { Install(nullptr, true); },
  });
}

SecretMap::~SecretMap() { Stop(); }

void SecretMap::Start() {
  if (started_) return;
  started_ = true;
  informer_.Start();
}

void SecretMap::Stop() { informer_.Stop(); }
bool SecretMap::HasSynced() { return informer_.HasSynced(); }
bool SecretMap::WaitForSync(absl::Time deadline) { return informer_.WaitForSync(deadline); }

SecretMap::State SecretMap::Install(kube::ObjectPtr object, bool force) {
  State next;
  next.known = true;
  next.exists = object != nullptr;
  next.rv = ResourceVersion(object.get());
  if (object != nullptr) next.data = std::make_shared<const Data>(Decode(*object));
  next.object = std::move(object);
  absl::MutexLock lock(&mu_);
  if (!force && state_.known && state_.rv.has_value()) {
    // Keep what is installed when it is at least as new (resourceVersions of one object grow).
    if (!next.rv.has_value() && !next.exists && state_.exists) return state_;
    if (next.rv.has_value() && *next.rv <= *state_.rv) return state_;
  }
  state_ = std::move(next);
  return state_;
}

SecretMap::Snapshot SecretMap::Current() {
  absl::MutexLock lock(&mu_);
  return state_.data;
}

absl::StatusOr<SecretMap::State> SecretMap::Read() {
  absl::StatusOr<rapidjson::Document> got = client_.Get(res::Secrets(), ns_, name_);
  if (got.status().code() == absl::StatusCode::kNotFound) return Install(nullptr, false);
  if (!got.ok()) return got.status();
  return Install(std::make_shared<const rapidjson::Document>(std::move(*got)), false);
}

absl::StatusOr<SecretMap::Snapshot> SecretMap::Fetch() {
  LK_ASSIGN_OR_RETURN(State state, Read());
  return state.data;
}

absl::StatusOr<std::optional<std::string>> SecretMap::Find(const std::string& key, bool fallback) {
  Snapshot current = Current();
  if (auto it = current->find(key); it != current->end()) return it->second;
  if (!fallback && HasSynced()) return std::optional<std::string>();
  LK_ASSIGN_OR_RETURN(Snapshot fresh, Fetch());
  if (auto it = fresh->find(key); it != fresh->end()) return it->second;
  return std::optional<std::string>();
}

absl::StatusOr<kube::ObjectPtr> SecretMap::Write(const State& base, const Data& data) {
  absl::StatusOr<rapidjson::Document> written;
  if (base.exists) {
    rapidjson::Document doc = json::Copy(*base.object);
    doc.RemoveMember("data");
    doc.RemoveMember("stringData");
    json::Set(doc, "data", Encode(data, doc.GetAllocator()), doc.GetAllocator());
    written = client_.Update(res::Secrets(), ns_, name_, doc);
  } else {
    kube::ObjectMeta meta;
    meta.name = name_;
    meta.namespace_ = ns_;
    meta.labels = {{contract::kManagedByLabel, contract::kManagedByAuthenticator}};
    kube::StringMap encoded;
    for (const auto& [key, value] : data) encoded[key] = absl::Base64Escape(value);
    kube::Builder b;
    absl::StatusOr<rapidjson::Document> doc = b.Finish(b.Manifest(
        "v1", "Secret", meta, {{"type", b.Str("Opaque")}, {"data", b.Map(encoded)}}));
    if (!doc.ok()) return doc.status();
    written = client_.Create(res::Secrets(), ns_, *doc);
  }
  if (!written.ok()) return written.status();
  return std::make_shared<const rapidjson::Document>(std::move(*written));
}

absl::StatusOr<SecretMap::Snapshot> SecretMap::Mutate(const Mutation& mutate) {
  absl::MutexLock write_lock(&write_mu_);
  State base;
  {
    absl::MutexLock lock(&mu_);
    base = state_;
  }
  if (!base.known) {
    LK_ASSIGN_OR_RETURN(base, Read());
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Data data = *base.data;
    LK_RETURN_IF_ERROR(mutate(data));
    if (data == *base.data) return base.data;
    absl::StatusOr<kube::ObjectPtr> written = Write(base, data);
    if (written.ok()) return Install(*written, false).data;
    absl::StatusCode code = written.status().code();
    bool conflict = code == absl::StatusCode::kAborted ||
                    code == absl::StatusCode::kAlreadyExists ||
                    (code == absl::StatusCode::kNotFound && base.exists);
    if (!conflict) return written.status();
    LK_ASSIGN_OR_RETURN(base, Read());
    if (code == absl::StatusCode::kNotFound) base.exists = false;
  }
  return absl::AbortedError(
      absl::StrCat("Secret ", ns_, "/", name_, ": too many conflicting writes; try again"));
}

}  // namespace labkube::authenticator
