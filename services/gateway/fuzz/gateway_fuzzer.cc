// libFuzzer entry for the gateway's checks of what a member sends, below gRPC (the protobuf
// parsing of the request messages is protobuf's own code and is not fuzzed here). The input is
// split at newlines into fields:
//   0 the `authorization` metadata value   -> Access::Authenticate (fake TokenReviewer), JwtExpiry
//   1 the member a request names            -> Access::Resolve, for a member and for an admin
//   2 a workspace name                      -> CheckDnsLabel (40), DeploymentName, TokenSecretName
//   3 a workspace kind name                 -> KindFromName
//   4 an image                              \
//   5 image pull secrets, comma-separated    > a WorkspaceSpec as SpecFor builds it, and the
//   6 the data volume's mount path          /  Deployment, Secret, Service and Ingress built from
//   it 7 a storage size, 8 a backup size       -> ParseSize 9 a time as the API server writes it ->
//   ParseTime
// and the whole input goes through JsonQuote, IsDnsLabel, IsDnsSubdomain, CheckLength and
// ExpandPattern. These must hold:
//   - Authenticate asks the reviewer only for a "Bearer <token>" value, with the token trimmed,
//     non-empty and at most 16 KiB; anything else is kUnauthenticated without a review;
//   - Resolve gives another member than the caller only to an admin, only for a DNS label, and
//     with that member's namespace;
//   - what CheckDnsLabel / ParseSize / IsDnsSubdomain accept is a DNS label of at most the
//     given length / a size from 1Mi to 1Pi / dot-separated DNS labels of at most 253 bytes;
//   - JsonQuote(s) parses back to exactly s;
//   - the workspace objects are built (no error) whatever the fields hold, and carry the fields
//     verbatim where they belong: no field can add or change a label, a name or the namespace.
// Built and run outside Bazel by tools/fuzz.sh (target `gateway`).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/names.h"
#include "services/gateway/access.h"
#include "services/gateway/names.h"
#include "services/gateway/token_reviewer.h"
#include "services/gateway/workspace_spec.h"

namespace labkube::gateway {

using contract::kGroupLabel;
using contract::kInjectingContainerLabel;
using contract::kRoleLabel;
using contract::kTypeLabel;
using contract::kWorkspaceKindLabel;
using names::CheckDnsLabel;
using names::CheckLength;
using names::IsDnsLabel;
using names::IsDnsSubdomain;
using names::MemberNamespace;

namespace {

namespace json = kube::json;

constexpr size_t kMaxTokenBytes = 16 * 1024;

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "invariant violated: %s\ninput: %.*s\n", what.c_str(),
               static_cast<int>(input.size() > 4096 ? 4096 : input.size()), input.data());
  std::abort();
}

// Remembers the token it was asked about; everyone is alice.
class FakeReviewer final : public TokenReviewer {
 public:
  absl::StatusOr<Caller> Review(std::string_view token) override {
    asked = true;
    token_ = std::string(token);
    return Caller{"system:serviceaccount:lab-alice:alice", "alice", "lab-alice", false};
  }
  bool asked = false;
  std::string token_;
};

bool IsAsciiSpace(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }

void CheckAuthenticate(const std::string& authorization, std::string_view input) {
  FakeReviewer reviewer;
  Access access(reviewer, "lab-");
  absl::StatusOr<Caller> caller = access.Authenticate(authorization);
  if (!reviewer.asked) {
    if (caller.ok() || !absl::IsUnauthenticated(caller.status())) {
      Fail("a refused authorization is not kUnauthenticated: " + caller.status().ToString(), input);
    }
    return;
  }
  const std::string& token = reviewer.token_;
  if (token.empty() || token.size() > kMaxTokenBytes) Fail("reviewed a bad-sized token", input);
  if (IsAsciiSpace(token.front()) || IsAsciiSpace(token.back())) {
    Fail("reviewed a token with surrounding whitespace", input);
  }
  std::string value(absl::StripAsciiWhitespace(authorization));
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) Fail("reviewed a non-Bearer value", input);
  if (!absl::EndsWith(value, token)) Fail("the reviewed token is not the value's tail", input);
  (void)JwtExpiry(token);
}

void CheckResolve(const std::string& requested, std::string_view input) {
  for (bool admin : {false, true}) {
    FakeReviewer reviewer;
    Access access(reviewer, "lab-");
    Caller caller{"system:serviceaccount:lab-alice:alice", "alice", "lab-alice", admin};
    absl::StatusOr<Target> t = access.Resolve(caller, requested);
    if (requested.empty() || requested == caller.member) {
      if (!t.ok() || t->member != "alice" || t->ns != "lab-alice") Fail("self not resolved", input);
      continue;
    }
    if (!t.ok()) {
      if (absl::IsInvalidArgument(t.status()) && IsDnsLabel(requested)) {
        Fail("a DNS label refused as a member: " + t.status().ToString(), input);
      }
      if (absl::IsPermissionDenied(t.status()) && admin) Fail("an admin was refused", input);
      continue;
    }
    if (!admin) Fail("a member may act for " + requested, input);
    if (!IsDnsLabel(t->member) || t->member != requested || t->ns != "lab-" + requested) {
      Fail("resolved to " + t->member + " in " + t->ns, input);
    }
  }
}

void CheckNames(const std::string& name, std::string_view whole, std::string_view input) {
  if (CheckDnsLabel("name", name, kMaxWorkspaceNameLength).ok() &&
      (!IsDnsLabel(name) || name.size() > kMaxWorkspaceNameLength)) {
    Fail("CheckDnsLabel accepted " + name, input);
  }
  if (IsDnsLabel(whole)) {
    for (char c : whole) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        Fail("IsDnsLabel accepted a character outside [a-z0-9-]", input);
      }
    }
  }
  if (IsDnsSubdomain(whole)) {
    if (whole.size() > 253) Fail("IsDnsSubdomain accepted more than 253 bytes", input);
    for (absl::string_view label :
         absl::StrSplit(absl::string_view(whole.data(), whole.size()), '.')) {
      if (!IsDnsLabel(std::string_view(label.data(), label.size()))) {
        Fail("IsDnsSubdomain accepted a label that is not a DNS label", input);
      }
    }
  }
  if (CheckLength("f", whole, 63).ok() != (whole.size() <= 63)) Fail("CheckLength", input);
  (void)ExpandPattern(whole, name, name, whole);
  (void)ExpandPattern("/{member}/{workspace}/{namespace}/{other}", whole, name, whole);
}

void CheckJsonQuote(std::string_view s, std::string_view input) {
  std::string quoted = JsonQuote(s);
  auto doc = json::Parse(quoted);
  if (!doc.ok() || !doc->IsString() || json::View(*doc) != s) {
    Fail("JsonQuote does not parse back to its input: " + quoted, input);
  }
}

void CheckSize(const std::string& size, std::string_view input) {
  absl::StatusOr<int64_t> bytes = ParseSize("size", size);
  if (bytes.ok() && (*bytes < (int64_t{1} << 20) || *bytes > (int64_t{1} << 50))) {
    Fail(absl::StrCat("ParseSize accepted ", *bytes, " bytes"), input);
  }
}

std::string Get(const rapidjson::Value& v, json::Path path) {
  return std::string(json::GetString(v, path));
}

// The labels every object of the workspace carries, exactly.
void CheckLabels(const rapidjson::Value* labels, const std::map<std::string, std::string>& want,
                 const std::string& what, std::string_view input) {
  if (labels == nullptr || !labels->IsObject() || labels->MemberCount() != want.size()) {
    Fail(what + ": labels were added or lost", input);
  }
  for (const auto& [k, v] : want) {
    const rapidjson::Value* got = json::FindMember(*labels, k);
    if (got == nullptr || !got->IsString() || json::View(*got) != v) {
      Fail(what + ": label " + k + " is not " + v, input);
    }
  }
}

void CheckMetadata(const rapidjson::Document& d, const WorkspaceSpec& s, const std::string& name,
                   const std::string& what, std::string_view input) {
  if (Get(d, {"metadata", "name"}) != name || Get(d, {"metadata", "namespace"}) != s.ns) {
    Fail(what + ": name or namespace changed", input);
  }
  std::map<std::string, std::string> labels = WorkspaceLabels(s.member, s.name);
  labels[kWorkspaceKindLabel] = std::string(KindName(s.kind));
  CheckLabels(json::Find(d, {"metadata", "labels"}), labels, what, input);
}

rapidjson::Document Built(absl::StatusOr<rapidjson::Document> d, const std::string& what,
                          std::string_view input) {
  if (!d.ok()) Fail(what + " not built: " + d.status().ToString(), input);
  return std::move(d).value();
}

void CheckWorkspace(const std::vector<std::string>& f, std::string_view input) {
  WorkspaceSpec s;
  s.member = f[1].empty() ? "alice" : f[1];
  s.ns = MemberNamespace("lab-", s.member);
  s.name = f[2];
  s.kind = KindFromName(f[3]);
  s.group = "gpu";
  s.type = "a100";
  s.image = f[4];
  for (absl::string_view p : absl::StrSplit(f[5], ',', absl::SkipEmpty())) {
    s.image_pull_secrets.emplace_back(p);
  }
  s.mounts = {{"labkube-cephfs", f[6], false}, {"labkube-nfs", "/backup", true}};
  s.data_path = f[6];
  s.settings_config_map = "labkube-settings";
  s.host = ExpandPattern("{workspace}.labkube.local", s.member, s.name, s.ns);
  s.path = ExpandPattern("/{member}/{workspace}/", s.member, s.name, s.ns);
  s.url = absl::StrCat("https://", s.host, s.path);
  s.ingress_class = "nginx";
  s.ingress_tls_secret = "labkube-tls";
  // An owner without a uid is refused (kInternal); the other objects are built from any input.
  if (BuildService(s, Owner{DeploymentName(s.name), ""}).ok()) {
    Fail("a Service owned by a Deployment without uid", input);
  }
  // The owner is the Workspace: a nameless owner is refused too (kInternal), never built.
  if (BuildDeployment(s, Owner{"", "uid"}).ok()) Fail("a Deployment owned by a nameless owner", input);
  const Owner owner{s.name.empty() ? "w" : s.name, f[0].empty() ? "uid" : f[0]};

  rapidjson::Document deployment = Built(BuildDeployment(s, owner), "Deployment", input);
  CheckMetadata(deployment, s, DeploymentName(s.name), "Deployment", input);
  const rapidjson::Value* pod = json::Find(deployment, {"spec", "template"});
  if (pod == nullptr) Fail("Deployment without a pod template", input);
  std::map<std::string, std::string> pod_labels = WorkspaceLabels(s.member, s.name);
  pod_labels[kWorkspaceKindLabel] = std::string(KindName(s.kind));
  pod_labels[kRoleLabel] = "guest";
  pod_labels[kGroupLabel] = s.group;
  pod_labels[kTypeLabel] = s.type;
  pod_labels[kInjectingContainerLabel] = kWorkspaceContainer;
  CheckLabels(json::Find(*pod, {"metadata", "labels"}), pod_labels, "pod template", input);
  const rapidjson::Value* containers = json::Find(*pod, {"spec", "containers"});
  if (containers == nullptr || !containers->IsArray() || containers->Size() != 1 ||
      Get((*containers)[0], {"image"}) != s.image ||
      Get((*containers)[0], {"name"}) != kWorkspaceContainer) {
    Fail("the workspace container is not the one container, with the image asked for", input);
  }
  const rapidjson::Value* pulls = json::Find(*pod, {"spec", "imagePullSecrets"});
  if (pulls == nullptr || !pulls->IsArray() || pulls->Size() != s.image_pull_secrets.size()) {
    Fail("image pull secrets added or lost", input);
  }
  const rapidjson::Value* volumes = json::Find(*pod, {"spec", "volumes"});
  if (volumes == nullptr || !volumes->IsArray() || volumes->Size() != s.mounts.size()) {
    Fail("volumes added or lost", input);
  }

  CheckMetadata(Built(BuildSecret(s, owner, f[0]), "Secret", input), s, TokenSecretName(s.name),
                "Secret", input);
  CheckMetadata(Built(BuildService(s, owner), "Service", input), s, DeploymentName(s.name),
                "Service", input);
  rapidjson::Document ingress = Built(BuildIngress(s, owner), "Ingress", input);
  CheckMetadata(ingress, s, DeploymentName(s.name), "Ingress", input);
  const rapidjson::Value* rules = json::Find(ingress, {"spec", "rules"});
  if (rules == nullptr || !rules->IsArray() || rules->Size() != 1 ||
      Get((*rules)[0], {"host"}) != s.host) {
    Fail("Ingress rules changed", input);
  }
}

}  // namespace
}  // namespace labkube::gateway

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace labkube::gateway;  // NOLINT
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> f = absl::StrSplit(absl::string_view(input.data(), input.size()), '\n');
  f.resize(std::max<size_t>(f.size(), 10));

  CheckAuthenticate(f[0], input);
  CheckResolve(f[1], input);
  CheckNames(f[2], input, input);
  CheckSize(f[7], input);
  CheckSize(f[8], input);
  (void)ParseTime(f[9]);
  CheckJsonQuote(input, input);
  std::map<std::string, std::string> labels = {{f[1], f[2]}, {f[3], f[4]}};
  (void)Selector(labels);
  CheckWorkspace(f, input);
  return 0;
}
