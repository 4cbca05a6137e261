#include "services/scheduler/cert_manager.h"

#include <map>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/log.h"
#include "lib/status_macros.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr char kCaCert[] = "ca.crt";
constexpr char kCaKey[] = "ca.key";
constexpr char kTlsCert[] = "tls.crt";
constexpr char kTlsKey[] = "tls.key";
constexpr char kCaCommonName[] = "labkube-ca";
constexpr size_t kMaxEarlierCas = 2;
// Certificates begin a little in the past, for peers whose clocks lag.
constexpr absl::Duration kBackdate = absl::Minutes(5);

std::string SecretField(const rapidjson::Value& secret, const char* key) {
  std::string out;
  std::optional<std::string_view> b64 = json::FindString(secret, {"data", key});
  if (!b64.has_value() || !absl::Base64Unescape(ToAbsl(*b64), &out)) return "";
  return out;
}

// labkube's metadata of the objects the certificate manager owns.
kube::ObjectMeta Meta(const std::string& ns, const std::string& name) {
  kube::ObjectMeta meta;
  meta.name = name;
  meta.namespace_ = ns;
  meta.labels = {{"app.kubernetes.io/part-of", "labkube"},
                 {contract::kManagedByLabel, "labkube-scheduler"}};
  return meta;
}

// A Secret of `type` holding `data` (values base64-encoded here).
absl::StatusOr<rapidjson::Document> NewSecret(const std::string& ns, const std::string& name,
                                              const char* type,
                                              const std::map<std::string, std::string>& data) {
  kube::StringMap encoded;
  for (const auto& [key, value] : data) encoded[key] = absl::Base64Escape(value);
  kube::Builder b;
  return b.Finish(b.Manifest("v1", "Secret", Meta(ns, name),
                             {{"type", b.Str(type)}, {"data", b.Map(encoded)}}));
}

// Whether `pair` is a usable certificate of `ca` for `svc` carrying trust bundle `bundle`.
bool ServiceSecretGood(const pki::KeyPair& pair, const std::string& secret_bundle,
                       const ServiceCertificate& svc, const pki::KeyPair& ca,
                       const std::string& bundle, absl::Time now) {
  absl::StatusOr<pki::CertInfo> info = pki::Inspect(pair.cert_pem);
  if (!info.ok() || !pki::KeyMatches(pair) || !pki::SignedBy(pair.cert_pem, ca.cert_pem)) {
    return false;
  }
  for (const std::string& d : svc.dns_names) {
    if (std::find(info->dns_names.begin(), info->dns_names.end(), d) == info->dns_names.end()) {
      return false;
    }
  }
  for (const std::string& ip : svc.ip_addresses) {
    if (std::find(info->ip_addresses.begin(), info->ip_addresses.end(), ip) ==
        info->ip_addresses.end()) {
      return false;
    }
  }
  return info->common_name == svc.common_name && CertManager::Fresh(*info, now) &&
         secret_bundle == bundle;
}

}  // namespace

std::vector<ServiceCertificate> DefaultServiceCertificates(
    const std::string& ns, const std::vector<std::string>& gateway_names) {
  std::vector<ServiceCertificate> out;
  for (const char* svc : {"scheduler", "injector", "authenticator", "gateway"}) {
    std::string name = absl::StrCat("labkube-", svc);
    out.push_back({absl::StrCat(name, "-tls"),
                   name,
                   {name, absl::StrCat(name, ".", ns), absl::StrCat(name, ".", ns, ".svc"),
                    absl::StrCat(name, ".", ns, ".svc.cluster.local")},
                   {}});
  }
  for (const std::string& n : gateway_names) {
    in6_addr ip6;
    in_addr ip4;
    bool ip = inet_pton(AF_INET, n.c_str(), &ip4) == 1 || inet_pton(AF_INET6, n.c_str(), &ip6) == 1;
    (ip ? out.back().ip_addresses : out.back().dns_names).push_back(n);
  }
  return out;
}

CertManager::CertManager(kube::Client& client, Clock& clock, CertManagerOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

bool CertManager::Fresh(const pki::CertInfo& cert, absl::Time now) {
  absl::Duration life = cert.not_after - cert.not_before;
  return now >= cert.not_before - kBackdate && cert.not_after - now > life / 3;
}

absl::StatusOr<std::vector<std::string>> CertManager::Reconcile() {
  std::vector<std::string> wrote;
  LK_ASSIGN_OR_RETURN(pki::KeyPair ca, EnsureCa(wrote));
  const std::string bundle = TrustBundle(ca);
  for (const ServiceCertificate& svc : options_.services) {
    LK_RETURN_IF_ERROR(EnsureService(svc, ca, bundle, wrote));
  }
  LK_RETURN_IF_ERROR(EnsureConfigMap(bundle, wrote));
  LK_RETURN_IF_ERROR(EnsureWebhookBundle(bundle, wrote));
  if (!wrote.empty()) {
    LogEvent(LogLevel::kInfo, "certificates.written", {{"objects", absl::StrJoin(wrote, ",")}});
  }
  return wrote;
}

absl::StatusOr<pki::KeyPair> CertManager::EnsureCa(std::vector<std::string>& wrote) {
  absl::StatusOr<rapidjson::Document> got =
      client_.Get(res::Secrets(), options_.ns, options_.ca_secret);
  if (!got.ok() && !absl::IsNotFound(got.status())) return got.status();
  if (got.ok()) {
    pki::KeyPair ca{SecretField(*got, kCaCert), SecretField(*got, kCaKey)};
    absl::StatusOr<pki::CertInfo> info = pki::Inspect(ca.cert_pem);
    if (info.ok() && info->is_ca && pki::KeyMatches(ca) && Fresh(*info, clock_.Now())) return ca;
  }
  const absl::Time now = clock_.Now();
  LK_ASSIGN_OR_RETURN(pki::KeyPair ca,
                      pki::NewCa(kCaCommonName, now - kBackdate, now + options_.ca_validity));
  LK_ASSIGN_OR_RETURN(rapidjson::Document secret,
                      NewSecret(options_.ns, options_.ca_secret, "Opaque",
                                {{kCaCert, ca.cert_pem}, {kCaKey, ca.key_pem}}));
  absl::Status s = Write(res::Secrets(), std::move(secret), got.ok() ? &*got : nullptr, wrote);
  if (absl::IsAlreadyExists(s)) {
    return absl::AbortedError("another replica made the CA at the same time; next pass uses it");
  }
  if (!s.ok()) return s;
  return ca;
}

// The current CA, then earlier CA certificates from the ConfigMap that are still valid.
std::string CertManager::TrustBundle(const pki::KeyPair& ca) {
  std::string bundle = ca.cert_pem;
  absl::StatusOr<rapidjson::Document> cm =
      client_.Get(res::ConfigMaps(), options_.ns, options_.ca_configmap);
  if (!cm.ok()) return bundle;
  size_t kept = 0;
  for (const std::string& earlier :
       pki::SplitBundle(std::string(json::GetString(*cm, {"data", kCaCert})))) {
    absl::StatusOr<pki::CertInfo> info = pki::Inspect(earlier);
    if (earlier == ca.cert_pem || !info.ok() || !info->is_ca || info->not_after <= clock_.Now() ||
        kept == kMaxEarlierCas) {
      continue;
    }
    bundle += earlier;
    ++kept;
  }
  return bundle;
}

absl::Status CertManager::EnsureService(const ServiceCertificate& svc, const pki::KeyPair& ca,
                                        const std::string& bundle,
                                        std::vector<std::string>& wrote) {
  absl::StatusOr<rapidjson::Document> got = client_.Get(res::Secrets(), options_.ns, svc.secret);
  if (!got.ok() && !absl::IsNotFound(got.status())) return got.status();
  if (got.ok() && ServiceSecretGood({SecretField(*got, kTlsCert), SecretField(*got, kTlsKey)},
                                    SecretField(*got, kCaCert), svc, ca, bundle, clock_.Now())) {
    return absl::OkStatus();
  }
  const absl::Time now = clock_.Now();
  LK_ASSIGN_OR_RETURN(pki::KeyPair cert,
                      pki::Issue(ca, {svc.common_name, svc.dns_names, svc.ip_addresses,
                                      now - kBackdate, now + options_.cert_validity}));
  LK_ASSIGN_OR_RETURN(
      rapidjson::Document secret,
      NewSecret(options_.ns, svc.secret, "kubernetes.io/tls",
                {{kTlsCert, cert.cert_pem}, {kTlsKey, cert.key_pem}, {kCaCert, bundle}}));
  absl::Status s = Write(res::Secrets(), std::move(secret), got.ok() ? &*got : nullptr, wrote);
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;  // another replica's is checked next pass
}

absl::Status CertManager::EnsureConfigMap(const std::string& bundle,
                                          std::vector<std::string>& wrote) {
  absl::StatusOr<rapidjson::Document> got =
      client_.Get(res::ConfigMaps(), options_.ns, options_.ca_configmap);
  if (!got.ok() && !absl::IsNotFound(got.status())) return got.status();
  if (got.ok() && json::GetString(*got, {"data", kCaCert}) == bundle) return absl::OkStatus();
  kube::Builder b;
  LK_ASSIGN_OR_RETURN(
      rapidjson::Document cm,
      b.Finish(b.Manifest("v1", "ConfigMap", Meta(options_.ns, options_.ca_configmap),
                          {{"data", b.Map({{kCaCert, bundle}})}})));
  absl::Status s = Write(res::ConfigMaps(), std::move(cm), got.ok() ? &*got : nullptr, wrote);
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

absl::Status CertManager::EnsureWebhookBundle(const std::string& bundle,
                                              std::vector<std::string>& wrote) {
  if (options_.webhook_configuration.empty()) return absl::OkStatus();
  absl::StatusOr<rapidjson::Document> got =
      client_.Get(res::MutatingWebhookConfigurations(), "", options_.webhook_configuration);
  if (absl::IsNotFound(got.status())) return absl::OkStatus();  // not installed (yet)
  if (!got.ok()) return got.status();
  const std::string want = absl::Base64Escape(bundle);
  rapidjson::Document patch(rapidjson::kArrayType);
  const rapidjson::Value* hooks = json::Find(*got, {"webhooks"});
  for (rapidjson::SizeType i = 0; hooks != nullptr && hooks->IsArray() && i < hooks->Size(); ++i) {
    if (json::GetString((*hooks)[i], {"clientConfig", "caBundle"}) == want) continue;
    const std::string base = absl::StrCat("/webhooks/", i);
    rapidjson::Document test(rapidjson::kObjectType);
    json::SetString(test, {"op"}, "test");
    json::SetString(test, {"path"}, base + "/name");
    json::SetString(test, {"value"}, json::GetString((*hooks)[i], {"name"}));
    rapidjson::Document set(rapidjson::kObjectType);
    json::SetString(set, {"op"}, "add");  // add replaces an existing member
    json::SetString(set, {"path"}, base + "/clientConfig/caBundle");
    json::SetString(set, {"value"}, want);
    patch.PushBack(rapidjson::Value(test, patch.GetAllocator()), patch.GetAllocator());
    patch.PushBack(rapidjson::Value(set, patch.GetAllocator()), patch.GetAllocator());
  }
  if (patch.Empty()) return absl::OkStatus();
  LK_RETURN_IF_ERROR(client_
                         .Patch(res::MutatingWebhookConfigurations(), "",
                                options_.webhook_configuration, kube::PatchType::kJsonPatch,
                                json::ToString(patch))
                         .status());
  wrote.push_back(absl::StrCat("MutatingWebhookConfiguration/", options_.webhook_configuration));
  return absl::OkStatus();
}

absl::Status CertManager::Write(const kube::Resource& resource, rapidjson::Document object,
                                const rapidjson::Value* existing, std::vector<std::string>& wrote) {
  const std::string name(json::GetString(object, {"metadata", "name"}));
  if (existing == nullptr) {
    LK_RETURN_IF_ERROR(client_.Create(resource, options_.ns, object).status());
  } else {
    json::SetString(object, {"metadata", "resourceVersion"},
                    json::GetString(*existing, {"metadata", "resourceVersion"}));
    LK_RETURN_IF_ERROR(client_.Update(resource, options_.ns, name, object).status());
  }
  wrote.push_back(absl::StrCat(resource.kind, "/", name));
  return absl::OkStatus();
}

absl::Status CertManager::WriteFiles(const std::string& secret, const std::string& dir) {
  LK_ASSIGN_OR_RETURN(rapidjson::Document got, client_.Get(res::Secrets(), options_.ns, secret));
  // The key first and the certificate last: a reader that sees the new certificate also finds
  // its key (lib/cert_reloader.h reloads when the certificate changes).
  for (const char* field : {kCaCert, kTlsKey, kTlsCert}) {
    const std::string value = SecretField(got, field);
    if (value.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Secret ", options_.ns, "/", secret, " has no ", field));
    }
    const std::string path = absl::StrCat(dir, "/", field);
    std::ifstream current(path, std::ios::binary);
    std::string old((std::istreambuf_iterator<char>(current)), std::istreambuf_iterator<char>());
    if (old == value) continue;
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << value;
      if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
    if (chmod(tmp.c_str(), 0600) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot move ", tmp, " to ", path));
    }
  }
  return absl::OkStatus();
}

}  // namespace labkube::scheduler
