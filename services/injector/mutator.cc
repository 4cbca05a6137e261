#include "lib/ordinal.h"
#include "services/injector/mutator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "services/injector/patch_builder.h"
#include "services/injector/slot_share.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;

std::string_view Label(const rapidjson::Value& pod, std::string_view key) {
  return json::GetString(pod, {"metadata", "labels", key});
}

std::string_view Annotation(const rapidjson::Value& pod, std::string_view key) {
  return json::GetString(pod, {"metadata", "annotations", key});
}

Decision Deny(Decision d, int code, std::string message, std::string outcome) {
  d.result.allowed = false;
  d.result.code = code;
  d.result.message = std::move(message);
  d.outcome = std::move(outcome);
  return d;
}

std::string OutcomeForClaimError(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kNotFound:
      return "denied_unknown_type";
    case absl::StatusCode::kResourceExhausted:
      return "denied_no_slot";
    case absl::StatusCode::kFailedPrecondition:
      return "denied_maintenance";
    case absl::StatusCode::kInvalidArgument:
      return "denied_invalid";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return "denied_unavailable";
    default:
      return "denied_error";
  }
}

// The Decision skeleton for a pod: who it is, for the log line.
Decision Describe(const AdmissionRequest& request) {
  Decision d;
  const rapidjson::Value& pod = request.object;
  d.ns = request.ns.empty() ? std::string(json::GetString(pod, {"metadata", "namespace"}))
                            : request.ns;
  std::string_view name = json::GetString(pod, {"metadata", "name"});
  if (name.empty()) name = request.name;
  d.pod = name.empty()
              ? absl::StrCat(ToAbsl(json::GetString(pod, {"metadata", "generateName"})), "*")
              : std::string(name);
  d.group = std::string(Label(pod, kGroupLabel));
  d.type = std::string(Label(pod, kTypeLabel));
  return d;
}

ClaimRequest ToClaimRequest(const AdmissionRequest& request, const Decision& d) {
  const rapidjson::Value& pod = request.object;
  ClaimRequest c;
  c.group = d.group;
  c.machine_type = d.type;
  c.ns = d.ns;
  c.pod_name = std::string(json::GetString(pod, {"metadata", "name"}));
  if (c.pod_name.empty()) c.pod_name = request.name;
  c.generate_name = std::string(json::GetString(pod, {"metadata", "generateName"}));
  c.admission_uid = request.uid;
  c.dry_run = request.dry_run;
  // A dry-run answer holds nothing: a pod carrying one (a server-side dry run re-invoked, or its
  // output created for real) is asked for afresh.
  if (Annotation(pod, kClaimAnnotation) != contract::kDryRunClaim) {
    c.carried_claim = std::string(Annotation(pod, kClaimAnnotation));
    c.carried_signature = std::string(Annotation(pod, kClaimSignatureAnnotation));
  }
  return c;
}


// Patches the pod with a granted claim (or, queued, with what waiting in line needs).
Decision Apply(const AdmissionRequest& request, ClaimResponse claim, Decision d) {
  d.node = claim.node;
  d.claim = claim.claim_id;
  std::string_view carried = Annotation(request.object, kClaimAnnotation);
  if (!carried.empty() && carried != claim.claim_id) {
    return Deny(std::move(d), 409,
                absl::StrCat("labkube: this pod already carries the annotation ", kClaimAnnotation,
                             "=", ToAbsl(carried),
                             " from another admission, but the scheduler handed out claim ",
                             claim.claim_id, "; remove the labkube.io/claim, labkube.io/node and ",
                             kClaimSignatureAnnotation, " annotations and create the pod again"),
                "denied_conflict");
  }
  absl::StatusOr<rapidjson::Document> patch = BuildPatch(request.object, claim, d.type);
  if (!patch.ok()) {
    bool internal = patch.status().code() == absl::StatusCode::kInternal;
    return Deny(std::move(d), internal ? 500 : 400,
                absl::StrCat("labkube: ", patch.status().message()),
                internal ? "denied_error" : "denied_invalid");
  }
  if (patch->Empty()) {
    d.outcome = "unchanged";
    return d;
  }
  d.result.patch = json::ToString(*patch);
  d.outcome = claim.queued ? "queued" : "injected";
  if (claim.queued) {
    d.result.warnings.push_back(absl::StrCat(
        "labkube: no free ", d.type, " slot in group ", d.group, "; the pod waits in line (",
        Ordinal(claim.position), " now) and starts on its own when a slot is handed to it ",
        "(labctl queue; deleting the pod leaves the line)"));
  }
  return d;
}

}  // namespace

AdmissionResult DenialForClaimError(const absl::Status& status) {
  AdmissionResult r;
  r.allowed = false;
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      r.code = 404;
      break;
    case absl::StatusCode::kResourceExhausted:
      r.code = 429;
      break;
    case absl::StatusCode::kFailedPrecondition:
      r.code = 409;
      break;
    case absl::StatusCode::kInvalidArgument:
      r.code = 400;
      break;
    case absl::StatusCode::kPermissionDenied:
      r.code = 403;
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      r.code = 503;
      r.message = absl::StrCat("labkube is unavailable: the scheduler did not answer (", message,
                               "); try again shortly");
      return r;
    default:
      r.code = 500;
      r.message =
          absl::StrCat("labkube: the scheduler failed (", absl::StatusCodeToString(status.code()),
                       ": ", message, "); try again, and tell the lab admins if it persists");
      return r;
  }
  r.message = absl::StrCat("labkube: ", message);
  return r;
}

Decision Mutator::Decide(const AdmissionRequest& request, absl::Time deadline) const {
  if (request.operation != "CREATE" || !request.IsPod() ||
      Label(request.object, kRoleLabel) != kRoleGuest) {
    Decision d;
    d.outcome = "ignored";
    return d;
  }
  Decision d = Describe(request);
  d.guest = true;
  if (d.group.empty() || d.type.empty()) {
    return Deny(std::move(d), 400,
                absl::StrCat("labkube: a guest pod (label ", kRoleLabel, "=", kRoleGuest,
                             ") needs the labels ", kGroupLabel, " and ", kTypeLabel,
                             " naming the machine group and type it runs on"),
                "denied_invalid");
  }
  absl::StatusOr<size_t> target = TargetContainer(request.object);
  absl::Status shape = target.ok() ? CheckSidecars(request.object, *target) : target.status();
  if (!shape.ok()) {
    return Deny(std::move(d), 400, absl::StrCat("labkube: ", shape.message()), "denied_invalid");
  }
  ClaimRequest claim_request = ToClaimRequest(request, d);
  absl::StatusOr<ClaimResponse> claim = claimer_.Claim(claim_request, deadline);
  if (!claim.ok()) {
    AdmissionResult denial = DenialForClaimError(claim.status());
    return Deny(std::move(d), denial.code, std::move(denial.message),
                OutcomeForClaimError(claim.status().code()));
  }
  const bool fresh = !claim->dry_run && claim->claim_id != Annotation(request.object, kClaimAnnotation);
  Decision out = Apply(request, *claim, std::move(d));
  if (!out.result.allowed && fresh) GiveBack(*claim, deadline, out);
  return out;
}

void Mutator::GiveBack(const ClaimResponse& claim, absl::Time deadline, Decision& d) const {
  auto sig = claim.annotations.find(kClaimSignatureAnnotation);
  absl::Status s = claimer_.Release(
      claim.claim_id, sig == claim.annotations.end() ? "" : sig->second, deadline);
  d.released = s.ok() ? "released" : absl::StrCat("not released (", s.message(), ")");
}

}  // namespace labkube::injector
