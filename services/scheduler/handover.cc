#include "services/scheduler/handover.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/objects.h"

namespace labkube::scheduler {
namespace {

constexpr char kHostnameLabel[] = "kubernetes.io/hostname";
constexpr char kTerms[] =
    "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
    "nodeSelectorTerms/";

// "labkube.io/claim" as a JSON Pointer token.
std::string Token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

rapidjson::Value Op(kube::Builder& b, std::string_view op, const std::string& path,
                    rapidjson::Value value) {
  return b.Object({{"op", b.Str(op)}, {"path", b.Str(path)}, {"value", std::move(value)}});
}

}  // namespace

absl::StatusOr<rapidjson::Document> HandoverPatch(const WaitingPod& pod,
                                                  const ClaimDecision& decision) {
  const ClaimRecord& r = decision.record;
  std::string hostname = r.node;
  for (const Requirement& req : decision.spec.node_affinity) {
    if (req.key == kHostnameLabel && !req.values.empty()) hostname = req.values[0];
  }
  if (pod.uid.empty() || r.id.empty() || r.signature.empty() || r.node.empty()) {
    return absl::InternalError(absl::StrCat("handover of ", pod.ns, "/", pod.name,
                                            " is incomplete (uid, claim, signature or node)"));
  }
  if (pod.affinity_terms == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        pod.ns, "/", pod.name, " has no required node affinity to narrow (was it admitted by "
        "labkube's webhook?)"));
  }
  kube::Builder b;
  rapidjson::Value ops = b.Array({});
  b.Push(ops, Op(b, "test", "/metadata/uid", b.Str(pod.uid)));
  std::string gate = absl::StrCat("/spec/schedulingGates/", pod.gate_index);
  b.Push(ops, Op(b, "test", gate + "/name", b.Str(contract::kQueueGate)));
  for (const auto& [key, value] : {std::pair<const char*, const std::string*>{
                                       contract::kClaimAnnotation, &r.id},
                                   {contract::kNodeAnnotation, &r.node},
                                   {contract::kClaimSignatureAnnotation, &r.signature}}) {
    b.Push(ops, Op(b, "add", absl::StrCat("/metadata/annotations/", Token(key)), b.Str(*value)));
  }
  for (int i = 0; i < pod.affinity_terms; ++i) {
    b.Push(ops, Op(b, "add", absl::StrCat(kTerms, i, "/matchExpressions/-"),
                   b.Object({{"key", b.Str(kHostnameLabel)},
                             {"operator", b.Str("In")},
                             {"values", b.Array({b.Str(hostname)})}})));
  }
  b.Push(ops, b.Object({{"op", b.Str("remove")}, {"path", b.Str(gate)}}));
  return b.Finish(std::move(ops));
}

}  // namespace labkube::scheduler
