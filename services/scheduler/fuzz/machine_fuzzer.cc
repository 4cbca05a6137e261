// libFuzzer entry for the scheduler's readers of Kubernetes objects (cluster_view.h): the input
// is one JSON document, read as a Machine (ParseMachine), a Node (ParseNode) and a Pod
// (PodRequests, ClassifyPod); input that json::Parse refuses is simply rejected. These must hold:
//   - ParseMachine keeps only types with a name, declared once, with non-negative resources,
//     availability and per-member caps, and every problem it reports is a non-empty sentence;
//   - a pod's requests are never negative and always take one "pods";
//   - a pod never counts as a guest on the strength of its labels and annotations alone (the
//     fuzzer cannot forge the HMAC of the fixed key below);
//   - signed by the scheduler's ClaimSigner for exactly its namespace, name (or generateName),
//     group, type and node at its creation time, the same pod does count as a guest.
// Built and run outside Bazel by tools/fuzz.sh (target `machine`).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "services/scheduler/claim_signer.h"
#include "services/scheduler/cluster_view.h"
#include "services/scheduler/model.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

constexpr char kReservationNs[] = "labkube-system";

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "invariant violated: %s\ninput: %.*s\n", what.c_str(),
               static_cast<int>(input.size() > 4096 ? 4096 : input.size()), input.data());
  std::abort();
}

const ClaimSigner& Signer() {
  static const ClaimSigner* signer =
      new ClaimSigner(*ClaimSigner::Create("labkube-fuzz-fixed-claim-key-32b"));
  return *signer;
}

void CheckResources(const Resources& r, const std::string& what, std::string_view input) {
  if (r.cpu_milli < 0 || r.memory_bytes < 0) Fail(what + ": negative cpu or memory", input);
  for (const auto& [name, count] : r.extended) {
    if (count < 0) Fail(absl::StrCat(what, ": negative ", name), input);
  }
}

void CheckMachine(const rapidjson::Value& doc, std::string_view input) {
  ParsedMachine m = ParseMachine(doc);
  for (const std::string& p : m.problems) {
    if (p.empty()) Fail("an empty problem", input);
  }
  for (size_t i = 0; i < m.group.types.size(); ++i) {
    const MachineType& t = m.group.types[i];
    if (t.name.empty()) Fail("a machine type without a name was kept", input);
    if (t.available < 0) Fail("negative availability", input);
    if (t.max_per_member < 0) Fail("negative per-member cap", input);
    if (t.gpu.count < 0) Fail("negative gpu count", input);
    CheckResources(t.resources, "machine type " + t.name, input);
    if (m.group.FindType(t.name) != &t) Fail("machine type " + t.name + " kept twice", input);
  }
  for (const PoolNode& n : m.group.pool) {
    if (n.node.empty()) Fail("a pool entry without a name was kept", input);
  }
  if (m.group.group.empty() && !m.group.machine_name.empty()) Fail("group not defaulted", input);
  if (m.group.max_per_member < 0) Fail("negative per-member cap of the group", input);
}

std::string Str(const rapidjson::Value& v, json::Path path) {
  return std::string(json::GetString(v, path));
}

// The pod as the scheduler would have signed it: a copy carrying a valid signature for its own
// namespace, name, group, type and node, issued at its creation time. Classified, it must be a
// guest unless it is bound to another node than the one it was signed for.
void CheckSignedGuest(const rapidjson::Value& pod, std::string_view input) {
  std::string claim = Str(pod, {"metadata", "annotations", contract::kClaimAnnotation});
  if (Str(pod, {"metadata", "labels", kRoleLabel}) != kRoleGuest || claim.empty()) return;
  absl::Time created;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, Str(pod, {"metadata", "creationTimestamp"}), &created,
                       &err)) {
    return;  // no usable creation time: never a guest, checked by the unsigned pass
  }
  std::string node = Str(pod, {"metadata", "annotations", contract::kNodeAnnotation});
  std::string bound = Str(pod, {"spec", "nodeName"});
  std::string name = Str(pod, {"metadata", "name"});
  std::string generate_name = Str(pod, {"metadata", "generateName"});
  bool generated = !generate_name.empty() && absl::StartsWith(name, generate_name);
  // Sign the exact name for half the inputs (also accepted for generateName pods).
  bool exact = !generated || input.size() % 2 == 0;
  ClaimToken token{claim,
                   Str(pod, {"metadata", "namespace"}),
                   exact ? name : generate_name + "*",
                   Str(pod, {"metadata", "labels", kGroupLabel}),
                   Str(pod, {"metadata", "labels", kTypeLabel}),
                   node,
                   absl::FromUnixSeconds(absl::ToUnixSeconds(created))};
  rapidjson::Document signed_pod = json::Copy(pod);
  json::SetString(signed_pod, {"metadata", "annotations", contract::kClaimSignatureAnnotation},
                  Signer().Sign(token));
  // SetString writes the first member of each name; the readers take the first too, so the
  // copy differs from the pod in that one annotation only.
  if (Str(signed_pod, {"metadata", "annotations", contract::kClaimSignatureAnnotation}) !=
      Signer().Sign(token)) {
    Fail("the signed copy does not carry its signature", input);
  }
  GuestCheck check{&Signer(), absl::Minutes(2)};
  PodView v = ClassifyPod(signed_pod, kReservationNs, check);
  bool should_be_guest = bound.empty() || bound == node;
  if (should_be_guest && v.kind != PodView::kGuest) {
    Fail("a pod signed for itself is not a guest: " + v.forged, input);
  }
  if (v.kind == PodView::kGuest) {
    if (v.slot.role != SlotRole::kGuest || v.slot.claim_id != claim) {
      Fail("guest slot does not carry its claim", input);
    }
    if (v.slot.node.empty() && !(bound.empty() && node.empty())) Fail("guest without node", input);
  }
}

void CheckPod(const rapidjson::Value& pod, std::string_view input) {
  Resources r = PodRequests(pod);
  CheckResources(r, "pod requests", input);
  auto pods = r.extended.find(kPodsResource);
  if (pods == r.extended.end() || pods->second < 1) Fail("pod requests without one pod", input);

  GuestCheck check{&Signer(), absl::Minutes(2)};
  PodView v = ClassifyPod(pod, kReservationNs, check);
  switch (v.kind) {
    case PodView::kGuest:
      Fail("a pod counts as a guest without a signature from the scheduler", input);
    case PodView::kReservation:
      if (v.slot.role != SlotRole::kReservation || v.slot.ns != kReservationNs) {
        Fail("reservation outside the reservation namespace", input);
      }
      break;
    case PodView::kOther:
      if (v.node.empty()) Fail("other pod without a node", input);
      CheckResources(v.requests, "other pod", input);
      break;
    case PodView::kIgnored:
      break;
  }
  CheckSignedGuest(pod, input);
}

}  // namespace
}  // namespace labkube::scheduler

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace labkube::scheduler;  // NOLINT
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto doc = labkube::kube::json::Parse(input);
  if (!doc.ok()) return -1;  // not JSON: rejected, not added to the corpus
  CheckMachine(*doc, input);
  ParseNode(*doc);
  CheckPod(*doc, input);
  return 0;
}
