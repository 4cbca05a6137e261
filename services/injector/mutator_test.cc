#include "services/injector/mutator.h"

#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/patch.h"
#include "services/injector/admission.h"
#include "services/injector/patch_builder.h"
#include "services/injector/slot_share.h"
#include "services/injector/testing/fake_claimer.h"
#include "services/injector/testing/testdata.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using rapidjson::Value;
using testing::FakeClaimer;
using testing::kTestdata;
using testing::ListTestFiles;
using testing::ParseJson;
using testing::ReadTestFile;

AdmissionRequest Request(const std::string& path) {
  ParsedReview parsed = ParseAdmissionReview(ReadTestFile(path));
  EXPECT_TRUE(parsed.request.ok()) << path << ": " << parsed.request.status();
  return parsed.request.ok() ? std::move(parsed.request).value() : AdmissionRequest();
}

AdmissionRequest Admission(const std::string& name) {
  return Request(std::string(kTestdata) + "/admission/" + name);
}

bool IsGuestCreate(const AdmissionRequest& r) {
  return r.operation == "CREATE" && r.IsPod() &&
         json::GetString(r.object, {"metadata", "labels", kRoleLabel}) == kRoleGuest;
}

// The pod after applying the decision's patch.
rapidjson::Document Patched(const AdmissionRequest& r, const Decision& d) {
  rapidjson::Document pod = json::Copy(r.object);
  if (d.result.patch.empty()) return pod;
  absl::Status s = kube::testing::ApplyJsonPatch(pod, ParseJson(d.result.patch));
  EXPECT_TRUE(s.ok()) << s << "\n" << d.result.patch;
  return pod;
}

// What every patched guest must look like (the target's share of the slot: slot_share.h).
void ExpectCarriesClaim(const Value& pod, const ClaimResponse& granted, const std::string& file) {
  absl::StatusOr<size_t> target = TargetContainer(pod);
  ASSERT_TRUE(target.ok()) << file;
  absl::StatusOr<ClaimResponse> shared = ShareSlot(pod, *target, granted, "a100");
  ASSERT_TRUE(shared.ok()) << file << ": " << shared.status();
  const ClaimResponse& claim = *shared;
  const Value& c = pod["spec"]["containers"][static_cast<rapidjson::SizeType>(*target)];
  for (const auto& [resource, amount] : claim.limits) {
    EXPECT_EQ(json::GetString(c, {"resources", "limits", resource}), amount) << file;
    EXPECT_EQ(json::GetString(c, {"resources", "requests", resource}), amount) << file;
  }
  const Value* terms =
      json::Find(pod, {"spec", "affinity", "nodeAffinity",
                       "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
  ASSERT_TRUE(terms != nullptr && terms->IsArray() && !terms->Empty()) << file;
  for (const Value& term : terms->GetArray()) {
    std::string text = json::ToString(term);
    for (const NodeRequirement& r : claim.node_affinity) {
      EXPECT_NE(text.find("\"key\":\"" + r.key + "\""), std::string::npos) << file << text;
    }
  }
  for (const auto& [k, v] : claim.annotations) {
    EXPECT_EQ(json::GetString(pod, {"metadata", "annotations", k}), v) << file;
  }
}

class MutatorTest : public ::testing::Test {
 protected:
  Decision Decide(const AdmissionRequest& r) {
    return mutator_.Decide(r, absl::Now() + absl::Seconds(2));
  }
  FakeClaimer claimer_;
  Mutator mutator_{claimer_};
};

// Over every review in testdata/admission (captures dropped there later included): guests are
// patched so that the patch applies and the pod carries the claim, and deciding again on the
// patched pod (as on reinvocation, with a new request uid) replays the same claim and patches
// nothing; everything else is allowed unchanged without asking the scheduler.
TEST_F(MutatorTest, EveryReviewInTestdata) {
  for (const std::string& file : ListTestFiles(std::string(kTestdata) + "/admission")) {
    AdmissionRequest r = Request(file);
    int calls = claimer_.calls();
    Decision d = Decide(r);
    ASSERT_TRUE(d.result.allowed) << file << ": " << d.result.message;
    if (!IsGuestCreate(r)) {
      EXPECT_EQ(claimer_.calls(), calls) << file;
      EXPECT_EQ(d.result.patch, "") << file;
      EXPECT_EQ(d.outcome, "ignored") << file;
      continue;
    }
    EXPECT_EQ(d.outcome, "injected") << file;
    rapidjson::Document pod = Patched(r, d);
    ClaimResponse claim = *claimer_.Claim(claimer_.requests().back(), absl::InfiniteFuture());
    ExpectCarriesClaim(pod, claim, file);
    bool dry_run = d.claim == contract::kDryRunClaim;  // holds nothing: never signed
    EXPECT_EQ(json::GetString(pod, {"metadata", "annotations", kClaimSignatureAnnotation}),
              dry_run ? "" : "sig-" + d.claim)
        << file;

    AdmissionRequest again = Request(file);
    again.uid = "reinvocation-" + r.uid;
    again.object = json::Copy(pod);
    Decision second = Decide(again);
    EXPECT_TRUE(second.result.allowed) << file << ": " << second.result.message;
    EXPECT_EQ(second.outcome, "unchanged") << file << ": " << second.result.patch;
    EXPECT_EQ(second.result.patch, "") << file;
    EXPECT_EQ(claimer_.requests().back().admission_uid, again.uid) << file;
    EXPECT_EQ(claimer_.requests().back().carried_claim, dry_run ? "" : d.claim) << file;
    EXPECT_EQ(second.claim, d.claim) << file;
  }
}

// The captured pod with a logging sidecar (cpu 100m, memory 64Mi) beside "worker": the worker
// gets the rest of the slot (8 cpu, 32Gi), so the pod asks for exactly the type.
TEST_F(MutatorTest, ContainersBesideTheTargetShareTheSlot) {
  AdmissionRequest r = Admission("captured-multi-container-pod.json");
  Decision d = Decide(r);
  ASSERT_TRUE(d.result.allowed) << d.result.message;
  rapidjson::Document pod = Patched(r, d);
  const Value& containers = pod["spec"]["containers"];
  ASSERT_EQ(json::GetString(containers[1], {"name"}), "worker");
  for (const char* kind : {"requests", "limits"}) {
    EXPECT_EQ(json::GetString(containers[1], {"resources", kind, "cpu"}), "7900m") << kind;
    EXPECT_EQ(json::GetString(containers[1], {"resources", kind, "memory"}), "32704Mi") << kind;
    EXPECT_EQ(json::GetString(containers[1], {"resources", kind, "nvidia.com/gpu"}), "1") << kind;
  }
  EXPECT_EQ(json::GetString(containers[0], {"resources", "requests", "cpu"}), "100m");
}

TEST_F(MutatorTest, AGpuBesideTheTargetIsRefusedBeforeAnyClaim) {
  AdmissionRequest r = Admission("captured-multi-container-pod.json");
  rapidjson::Document::AllocatorType& a = r.object.GetAllocator();
  r.object["spec"]["containers"][0]["resources"]["limits"].AddMember("nvidia.com/gpu", "1", a);
  Decision d = Decide(r);
  EXPECT_FALSE(d.result.allowed);
  EXPECT_EQ(d.result.code, 400);
  EXPECT_EQ(claimer_.calls(), 0) << "no slot may be claimed for a pod that cannot take it";
  EXPECT_NE(d.result.message.find("container \"sidecar\" asks for nvidia.com/gpu"),
            std::string::npos)
      << d.result.message;
}

TEST_F(MutatorTest, ClaimRequestDescribesThePod) {
  Decision d = Decide(Admission("guest_deployment_pod.json"));
  ASSERT_EQ(claimer_.calls(), 1);
  ClaimRequest c = claimer_.requests()[0];
  EXPECT_EQ(c.group, "lab");
  EXPECT_EQ(c.machine_type, "a100");
  EXPECT_EQ(c.ns, "team-a");
  EXPECT_EQ(c.pod_name, "");
  EXPECT_EQ(c.generate_name, "train-5c9d8b7f6-");
  EXPECT_EQ(c.admission_uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_FALSE(c.dry_run);
  EXPECT_EQ(d.pod, "train-5c9d8b7f6-*");
  EXPECT_EQ(d.ns, "team-a");
  EXPECT_EQ(d.type, "a100");
  EXPECT_EQ(d.node, "gpu-1");
  EXPECT_EQ(d.claim, "c-1");
  EXPECT_TRUE(d.guest);
}

TEST_F(MutatorTest, DryRunIsPassedOn) {
  Decision d = Decide(Admission("guest_dry_run.json"));
  ASSERT_TRUE(d.result.allowed);
  ASSERT_EQ(claimer_.calls(), 1);
  EXPECT_TRUE(claimer_.requests()[0].dry_run);
  EXPECT_EQ(claimer_.requests()[0].pod_name, "probe");
  EXPECT_EQ(d.claim, "dry-run");
  EXPECT_NE(d.result.patch, "");
}

TEST_F(MutatorTest, SchedulerErrorsBecomeDenials) {
  struct Case {
    absl::Status status;
    int code;
    std::string message;
    std::string outcome;
  } cases[] = {
      {absl::NotFoundError("unknown machine type lab/h200; valid group/type: lab/a100"), 404,
       "labkube: unknown machine type lab/h200; valid group/type: lab/a100", "denied_unknown_type"},
      {absl::ResourceExhaustedError("no free a100 slot (2 of 2 used)"), 429,
       "labkube: no free a100 slot (2 of 2 used)", "denied_no_slot"},
      {absl::FailedPreconditionError("every a100 node is in maintenance"), 409,
       "labkube: every a100 node is in maintenance", "denied_maintenance"},
      {absl::InvalidArgumentError("namespace is required"), 400, "labkube: namespace is required",
       "denied_invalid"},
      {absl::UnavailableError("connection refused"), 503,
       "labkube is unavailable: the scheduler did not answer (connection refused); try again "
       "shortly",
       "denied_unavailable"},
      {absl::DeadlineExceededError("Deadline Exceeded"), 503,
       "labkube is unavailable: the scheduler did not answer (Deadline Exceeded); try again "
       "shortly",
       "denied_unavailable"},
      {absl::InternalError("boom"), 500,
       "labkube: the scheduler failed (INTERNAL: boom); try again, and tell the lab admins if it "
       "persists",
       "denied_error"},
  };
  for (const Case& c : cases) {
    claimer_.SetError(c.status);
    Decision d = Decide(Admission("guest_minimal.json"));
    EXPECT_FALSE(d.result.allowed) << c.status;
    EXPECT_EQ(d.result.code, c.code) << c.status;
    EXPECT_EQ(d.result.message, c.message);
    EXPECT_EQ(d.result.patch, "");
    EXPECT_EQ(d.outcome, c.outcome);
  }
}

TEST_F(MutatorTest, GuestWithoutTypeIsRefusedWithoutAsking) {
  AdmissionRequest r = Admission("guest_minimal.json");
  r.object["metadata"]["labels"].RemoveMember("labkube.io/machine-type");
  Decision d = Decide(r);
  EXPECT_FALSE(d.result.allowed);
  EXPECT_EQ(d.result.code, 400);
  EXPECT_NE(d.result.message.find("needs the labels labkube.io/machine-group and "
                                  "labkube.io/machine-type"),
            std::string::npos)
      << d.result.message;
  EXPECT_EQ(claimer_.calls(), 0);
}

TEST_F(MutatorTest, UnknownInjectingContainerIsRefusedWithoutAsking) {
  AdmissionRequest r = Admission("guest_deployment_pod.json");
  r.object["metadata"]["labels"]["labkube.io/injecting-container"].SetString("gpu-worker");
  Decision d = Decide(r);
  EXPECT_FALSE(d.result.allowed);
  EXPECT_EQ(d.result.code, 400);
  EXPECT_NE(d.result.message.find("containers: log-shipper, trainer"), std::string::npos)
      << d.result.message;
  EXPECT_EQ(claimer_.calls(), 0);
}

TEST_F(MutatorTest, ContainerAskingForMoreIsRefused) {
  AdmissionRequest r = Admission("guest_deployment_pod.json");
  r.object["spec"]["containers"][1]["resources"]["requests"]["memory"].SetString("64Gi");
  Decision d = Decide(r);
  EXPECT_FALSE(d.result.allowed);
  EXPECT_EQ(d.result.code, 400);
  EXPECT_EQ(d.outcome, "denied_invalid");
  EXPECT_EQ(d.result.message,
            "labkube: container \"trainer\" resources.requests[\"memory\"] is 64Gi, more than "
            "machine type \"a100\" leaves it (32704Mi of 32Gi; the other containers ask for the "
            "rest); remove it (labkube sets requests = limits to the type's resources) or choose "
            "a larger machine type");
  // The pod will not be created: its fresh claim was given back at once.
  EXPECT_EQ(claimer_.released(), std::vector<std::string>{d.claim});
  EXPECT_EQ(d.released, "released");
}

TEST_F(MutatorTest, AllowedAndReplayedClaimsAreNeverGivenBack) {
  Decision ok = Decide(Admission("guest_deployment_pod.json"));
  ASSERT_TRUE(ok.result.allowed);
  EXPECT_TRUE(claimer_.released().empty());
  EXPECT_EQ(ok.released, "");
  // The webhook re-invoked for a pod it patched, now refused: the claim is the pod's own (its
  // first admission holds it), so it is not given back.
  AdmissionRequest again = Admission("guest_deployment_pod.json");
  rapidjson::Document::AllocatorType& a = again.object.GetAllocator();
  again.object["metadata"]["annotations"].AddMember("labkube.io/claim",
                                                    rapidjson::Value(ok.claim.c_str(), a), a);
  std::string sig = "sig-" + ok.claim;
  again.object["metadata"]["annotations"].AddMember("labkube.io/claim-signature",
                                                    rapidjson::Value(sig.c_str(), a), a);
  again.object["spec"]["containers"][1]["resources"]["requests"]["memory"].SetString("64Gi");
  Decision d = Decide(again);
  EXPECT_FALSE(d.result.allowed);
  EXPECT_TRUE(claimer_.released().empty());
}

TEST_F(MutatorTest, PodCarryingAnotherClaimIsRefused) {
  AdmissionRequest r = Admission("guest_deployment_pod.json");
  rapidjson::Document::AllocatorType& a = r.object.GetAllocator();
  r.object["metadata"]["annotations"].AddMember("labkube.io/claim", "c-old", a);
  Decision d = Decide(r);
  EXPECT_FALSE(d.result.allowed);
  EXPECT_EQ(d.result.code, 409);
  EXPECT_EQ(claimer_.requests().back().carried_claim, "c-old");
  EXPECT_NE(d.result.message.find("labkube: this pod carries claim c-old, which labkube did not "
                                  "give to this pod"),
            std::string::npos)
      << d.result.message;
}

TEST_F(MutatorTest, DeadlineIsPassedToTheClaimer) {
  absl::Time deadline = absl::Now() + absl::Milliseconds(1234);
  mutator_.Decide(Admission("guest_minimal.json"), deadline);
  ASSERT_EQ(claimer_.deadlines().size(), 1u);
  EXPECT_EQ(claimer_.deadlines()[0], deadline);
}

}  // namespace
}  // namespace labkube::injector

namespace labkube::injector {
namespace {

TEST(MutatorQueueTest, AGuestWithNoFreeSlotIsAdmittedGatedWithItsTicket) {
  ClaimResponse waiting = testing::FakeClaimer::GpuClaim();
  waiting.claim_id.clear();
  waiting.annotations = {{contract::kQueueTicketAnnotation, "v1.1.ab"},
                         {contract::kWaitingAnnotation, "lab/a100"}};
  waiting.queued = true;
  waiting.position = 2;
  testing::FakeClaimer claimer(waiting);
  Mutator mutator(claimer);
  AdmissionRequest r = Admission("guest_minimal.json");
  Decision d = mutator.Decide(r, absl::Now() + absl::Seconds(2));
  ASSERT_TRUE(d.result.allowed) << d.result.message;
  EXPECT_EQ(d.outcome, "queued");
  ASSERT_EQ(d.result.warnings.size(), 1u);
  EXPECT_THAT(d.result.warnings[0], ::testing::HasSubstr("waits in line (2nd now)"));
  rapidjson::Document pod = Patched(r, d);
  EXPECT_EQ(json::ToString(*json::Find(pod, {"spec", "schedulingGates"})),
            R"([{"name":"labkube.io/queue"}])");
  EXPECT_EQ(json::GetString(pod, {"metadata", "annotations", contract::kQueueTicketAnnotation}),
            "v1.1.ab");
  EXPECT_EQ(json::Find(pod, {"metadata", "annotations", kClaimAnnotation}), nullptr);
  // The type's resources are set already, so the pod is ready the moment it is handed a slot.
  ExpectCarriesClaim(pod, waiting, "guest_minimal.json");
  EXPECT_TRUE(claimer.released().empty());  // nothing was claimed, nothing to give back
}

}  // namespace
}  // namespace labkube::injector
