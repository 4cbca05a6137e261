#include "services/scheduler/scheduler_state.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/testing/fake_clock.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
using ::testing::HasSubstr;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

constexpr char kMachine[] = R"({"metadata":{"name":"gpu-machines","uid":"m1",
  "labels":{"labkube.io/machine-group":"gpu"}},
  "spec":{"nodePool":[
    {"name":"node-a","mode":"ready","machineType":[{"name":"x1"}]},
    {"name":"node-b","mode":"maintenance","machineType":[{"name":"x1"},{"name":"m1"}]}],
  "machineTypes":[
    {"name":"x1","spec":{"cpu":"4","memory":"16Gi","gpu":{"num":1}},"available":2},
    {"name":"m1","spec":{"cpu":"4","memory":"16Gi"},"available":1}]}})";

std::string Node(const std::string& name) {
  return absl::StrFormat(R"({"metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s"}},
      "status":{"allocatable":{"cpu":"32","memory":"128Gi","nvidia.com/gpu":"2"},
      "conditions":[{"type":"Ready","status":"True"}]}})",
                         name, name);
}

std::string Reservation(const std::string& name, const std::string& node,
                        const std::string& phase) {
  return absl::StrFormat(R"({"metadata":{"name":"%s","namespace":"labkube-system","uid":"uid-%s",
      "labels":{"labkube.io/pod-role":"reservation","labkube.io/machine-group":"gpu",
      "labkube.io/machine-type":"x1"}},"spec":{"nodeName":"%s"},"status":{"phase":"%s"}})",
                         name, name, node, phase);
}

// A guest pod "ws-<suffix>" (generateName "ws-") carrying the annotations of `claim`, created at
// `created`, running on node-a.
std::string Guest(const std::string& suffix, const ClaimRecord& claim, absl::Time created,
                  const std::string& signature_override = "-") {
  std::string sig = signature_override == "-" ? claim.signature : signature_override;
  return absl::StrFormat(
      R"({"metadata":{"name":"ws-%s","generateName":"ws-","namespace":"lab-alice",
      "uid":"g-%s","creationTimestamp":"%s",
      "labels":{"labkube.io/pod-role":"guest","labkube.io/machine-group":"gpu",
      "labkube.io/machine-type":"x1"},"annotations":{"labkube.io/claim":"%s","labkube.io/node":"%s",
      "labkube.io/claim-signature":"%s"}},
      "spec":{"nodeName":"node-a","containers":[{"resources":{"requests":{"cpu":"4"}}}]},
      "status":{"phase":"Running"}})",
      suffix, suffix, absl::FormatTime(absl::RFC3339_sec, created, absl::UTCTimeZone()), claim.id,
      claim.node, sig);
}

ClaimSigner TestSigner() { return *ClaimSigner::Create(std::string(32, 's')); }

int Guests(const PlannerInput& in) {
  int guests = 0;
  for (const SlotPod& p : in.pods) guests += p.role == SlotRole::kGuest;
  return guests;
}

class SchedulerStateTest : public ::testing::Test {
 protected:
  SchedulerStateTest() : state_(clock_, absl::Seconds(30), "labkube-system", signer_) {
    state_.OnMachine(std::make_shared<rapidjson::Document>(Json(kMachine)));
    for (const char* n : {"node-a", "node-b"}) {
      state_.OnNode(std::make_shared<rapidjson::Document>(Json(Node(n))));
    }
    state_.OnPod(Json(Reservation("r1", "node-a", "Running")));
    state_.OnPod(Json(Reservation("r2", "node-a", "Running")));
  }

  ClaimQuery Query(const std::string& uid, bool dry_run = false) {
    return ClaimQuery{"gpu", "x1", "lab-alice", "", "ws-", uid, dry_run};
  }

  testing::FakeClock clock_;
  ClaimSigner signer_ = TestSigner();
  SchedulerState state_;
};

TEST_F(SchedulerStateTest, ClaimsEachReservationOnce) {
  auto a = state_.Reserve(Query("adm-1"));
  auto b = state_.Reserve(Query("adm-2"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(a->record.reservation_pod, b->record.reservation_pod);
  EXPECT_EQ(a->record.node, "node-a");
  EXPECT_EQ(a->spec.node_affinity.back().values[0], "node-a");
  auto c = state_.Reserve(Query("adm-3"));  // no slot left: it waits in line
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->queued);
  EXPECT_EQ(c->position, 1);
  EXPECT_TRUE(c->record.id.empty());
  EXPECT_FALSE(c->ticket.empty());
  EXPECT_TRUE(state_.Snapshot().refused.empty());
}

TEST_F(SchedulerStateTest, WithoutQueueingAFullTypeRefuses) {
  std::string machine = kMachine;
  machine.replace(machine.find(R"("available":2)"), 13, R"("available":2,"queueing":"Disabled")");
  state_.OnMachine(std::make_shared<rapidjson::Document>(Json(machine)));
  ASSERT_TRUE(state_.Reserve(Query("adm-1")).ok());
  ASSERT_TRUE(state_.Reserve(Query("adm-2")).ok());
  auto c = state_.Reserve(Query("adm-3"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("no free x1 slot in group gpu: maximum 2, used 2"));
  EXPECT_EQ(state_.Snapshot().refused.at("gpu/x1"), 1);
}

TEST_F(SchedulerStateTest, SameAdmissionUidGetsTheSameClaim) {
  auto a = state_.Reserve(Query("adm-1"));
  auto again = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->record.id, a->record.id);
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u);
}

TEST_F(SchedulerStateTest, DryRunConsumesNothing) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(state_.Reserve(Query("d", /*dry_run=*/true)).ok());
  EXPECT_TRUE(state_.Snapshot().claims.empty());
  EXPECT_TRUE(state_.Reserve(Query("adm-1")).ok());
}

TEST_F(SchedulerStateTest, UnknownTypeListsValidOnes) {
  auto r = state_.Reserve(ClaimQuery{"gpu", "nope", "ns", "p", "", "u", false});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("valid group/type: gpu/x1, gpu/m1"));
}

TEST_F(SchedulerStateTest, MaintenanceOnlyTypeIsFailedPrecondition) {
  auto r = state_.Reserve(ClaimQuery{"gpu", "m1", "ns", "p", "", "u", false});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("node-b: maintenance"));
}

TEST_F(SchedulerStateTest, PendingReservationIsNotClaimable) {
  SchedulerState state(clock_, absl::Seconds(30), "labkube-system", signer_);
  state.OnMachine(std::make_shared<rapidjson::Document>(Json(kMachine)));
  state.OnNode(std::make_shared<rapidjson::Document>(Json(Node("node-a"))));
  state.OnPod(Json(Reservation("r1", "node-a", "Pending")));
  auto r = state.Reserve(Query("a"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->queued);
}

TEST_F(SchedulerStateTest, GuestBindsClaimAndTtlExpiresTheRest) {
  auto a = state_.Reserve(Query("adm-1"));
  auto b = state_.Reserve(Query("adm-2"));
  state_.OnPod(Json(Guest("1", a->record, clock_.Now())));
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u);
  clock_.Advance(absl::Seconds(31));
  auto expired = state_.Expire();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, b->record.id);
  PlannerInput in = state_.Snapshot();
  EXPECT_TRUE(in.claims.empty());
  EXPECT_EQ(Guests(in), 1);
}

TEST_F(SchedulerStateTest, ReleaseGivesBackOnlyAnUnboundClaimWithItsOwnSignature) {
  auto a = state_.Reserve(Query("adm-1"));
  auto b = state_.Reserve(Query("adm-2"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(state_.ReleaseClaim(a->record.id, "forged"));
  EXPECT_FALSE(state_.ReleaseClaim(a->record.id, ""));
  EXPECT_FALSE(state_.ReleaseClaim(a->record.id, b->record.signature));
  EXPECT_EQ(state_.Snapshot().claims.size(), 2u);
  EXPECT_TRUE(state_.ReleaseClaim(a->record.id, a->record.signature));
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u);
  EXPECT_FALSE(state_.ReleaseClaim(a->record.id, a->record.signature)) << "released once";
  // A claim whose guest exists is held by the guest: Release leaves it alone.
  state_.OnPod(Json(Guest("2", b->record, clock_.Now())));
  EXPECT_FALSE(state_.ReleaseClaim(b->record.id, b->record.signature));
  EXPECT_EQ(Guests(state_.Snapshot()), 1);
  // The released slot can be claimed again (its reservation is no longer claimed).
  EXPECT_TRUE(state_.Reserve(Query("adm-3")).ok());
}

// Attack: a pod labelled as a guest with a made-up (or no) signature is an ordinary pod; its
// requests count against its node like any other pod's, and it holds no slot.
TEST_F(SchedulerStateTest, AGuestWithoutAValidSignatureHoldsNoSlot) {
  auto a = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(a.ok());
  ASSERT_FALSE(a->record.signature.empty());
  state_.OnPod(Json(Guest("1", a->record, clock_.Now(), "v1.123.deadbeef")));
  state_.OnPod(Json(Guest("2", a->record, clock_.Now(), "")));
  PlannerInput in = state_.Snapshot();
  EXPECT_EQ(Guests(in), 0);
  EXPECT_EQ(in.claims.size(), 1u) << "the forged pods did not bind the real claim";
  EXPECT_EQ(in.nodes.at("node-a").used_by_others.cpu_milli, 8000);
}

// Attack: the annotations of a real guest copied onto a second pod (same generateName) or onto a
// pod created after the first one ended: only the first pod holds the slot.
TEST_F(SchedulerStateTest, AClaimCopiedToAnotherPodIsNotAGuest) {
  auto a = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(a.ok());
  state_.OnPod(Json(Guest("1", a->record, clock_.Now())));
  state_.OnPod(Json(Guest("copy", a->record, clock_.Now())));
  EXPECT_EQ(Guests(state_.Snapshot()), 1);
  state_.OnPod(Json(Guest("1", a->record, clock_.Now())));  // an update of the holder
  EXPECT_EQ(Guests(state_.Snapshot()), 1);
  state_.OnPodDeleted("lab-alice", "ws-1");
  state_.OnPodDeleted("lab-alice", "ws-copy");
  state_.OnPod(Json(Guest("later", a->record, clock_.Now())));
  EXPECT_EQ(Guests(state_.Snapshot()), 0) << "an ended claim is not reusable";
}

// A pod created long after its claim was issued is not that claim's guest (its annotations were
// kept from an earlier pod), even when no replica remembers the claim.
TEST_F(SchedulerStateTest, AGuestCreatedOutsideItsClaimsLifetimeIsNotAGuest) {
  auto a = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(a.ok());
  SchedulerState fresh(clock_, absl::Seconds(30), "labkube-system", signer_);
  fresh.OnPod(Json(Guest("1", a->record, clock_.Now() + absl::Minutes(5))));
  EXPECT_EQ(Guests(fresh.Snapshot()), 0);
  fresh.OnPod(Json(Guest("2", a->record, clock_.Now() + absl::Seconds(2))));
  EXPECT_EQ(Guests(fresh.Snapshot()), 1) << "a new leader still counts a real guest";
}

TEST_F(SchedulerStateTest, ACarriedClaimIsReplayedOnlyForItsOwnPodWhileLive) {
  auto a = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(a.ok());
  ClaimQuery again = Query("adm-2");  // the webhook re-invoked: a new review uid
  again.carried_claim = a->record.id;
  again.carried_signature = a->record.signature;
  auto replay = state_.Reserve(again);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->record.id, a->record.id);

  ClaimQuery other = again;
  other.generate_name = "other-";
  EXPECT_EQ(state_.Reserve(other).status().code(), absl::StatusCode::kFailedPrecondition);
  ClaimQuery forged = again;
  forged.carried_signature = "v1.1.00";
  EXPECT_EQ(state_.Reserve(forged).status().code(), absl::StatusCode::kFailedPrecondition);
  state_.OnPod(Json(Guest("1", a->record, clock_.Now())));  // bound: no longer live
  auto late = state_.Reserve(again);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("did not give to this pod"));
  EXPECT_EQ(state_.Snapshot().claims.size(), 0u);
}

TEST_F(SchedulerStateTest, AnAdmissionUidIsNeverReusedForAnotherPod) {
  ASSERT_TRUE(state_.Reserve(Query("adm-1")).ok());
  ClaimQuery other = Query("adm-1");
  other.generate_name = "other-";
  EXPECT_EQ(state_.Reserve(other).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u);
}

TEST_F(SchedulerStateTest, DryRunClaimsAreNotSigned) {
  auto d = state_.Reserve(Query("d", /*dry_run=*/true));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->record.signature.empty());
}

// An admin caps what one member (namespace) may hold: per type and per group.
TEST_F(SchedulerStateTest, MemberCapsNameTheCapAndWhatTheMemberHolds) {
  std::string capped = kMachine;
  const std::string x1 = R"("available":2})";
  capped.replace(capped.find(x1), x1.size(), R"("available":2,"maxPerMember":1})");
  state_.OnMachine(std::make_shared<rapidjson::Document>(Json(capped)));
  auto first = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = state_.Reserve(Query("adm-2"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(second.status().message(),
              HasSubstr("lab-alice holds 1 x1 slot in group gpu, the most one member may hold at "
                        "once (maxPerMember 1)"));
  ClaimQuery bob{"gpu", "x1", "lab-bob", "nb", "", "adm-3", false};
  EXPECT_TRUE(state_.Reserve(bob).ok()) << "the cap is per member";
  // Once the claim became a guest, the guest counts against the cap.
  state_.OnPod(Json(Guest("1", first->record, clock_.Now())));
  EXPECT_EQ(state_.Reserve(Query("adm-4")).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(SchedulerStateTest, AGroupCapCountsEveryTypeOfTheGroup) {
  std::string capped = kMachine;
  const std::string spec = R"("spec":{)";
  capped.replace(capped.find(spec), spec.size(), R"("spec":{"maxPerMember":1,)");
  state_.OnMachine(std::make_shared<rapidjson::Document>(Json(capped)));
  ASSERT_TRUE(state_.Reserve(Query("adm-1")).ok());
  auto second = state_.Reserve(Query("adm-2"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(second.status().message(), HasSubstr("maxPerMember 1 of the group"));
}

// Failover: the old leader deleted a reservation pod for a claim this replica never saw. The
// slot stays held (an inferred claim) until the claim's guest appears, or a claim TTL passes,
// so the new leader neither hands it out again nor re-locks it under the arriving guest.
TEST_F(SchedulerStateTest, AReservationDeletedByAnotherLeaderHoldsItsSlot) {
  SchedulerState old_leader(clock_, absl::Seconds(30), "labkube-system", signer_);
  old_leader.OnMachine(std::make_shared<rapidjson::Document>(Json(kMachine)));
  old_leader.OnNode(std::make_shared<rapidjson::Document>(Json(Node("node-a"))));
  old_leader.OnPod(Json(Reservation("r1", "node-a", "Running")));
  auto claim = old_leader.Reserve(Query("adm-1"));
  ASSERT_TRUE(claim.ok());
  state_.OnPodDeleted("labkube-system", claim->record.reservation_pod);  // seen by this replica
  PlannerInput in = state_.Snapshot();
  ASSERT_EQ(in.claims.size(), 1u);
  EXPECT_EQ(in.claims[0].node, "node-a");
  state_.OnPod(Json(Guest("1", claim->record, clock_.Now())));  // its guest arrives
  EXPECT_TRUE(state_.Snapshot().claims.empty());
  EXPECT_EQ(Guests(state_.Snapshot()), 1);

  state_.OnPodDeleted("labkube-system", "r2");  // another one, whose guest never comes
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u);
  clock_.Advance(absl::Seconds(31));
  state_.Expire();
  EXPECT_TRUE(state_.Snapshot().claims.empty());
}

TEST_F(SchedulerStateTest, ItsOwnDeletesInferNothing) {
  state_.ExpectDelete("uid-r1");
  state_.OnPodDeleted("labkube-system", "r1");
  auto claim = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(claim.ok());
  state_.OnPodDeleted("labkube-system", claim->record.reservation_pod);
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u) << "only the claim itself";
}

TEST_F(SchedulerStateTest, RefusalsAreBounded) {
  SchedulerState state(clock_, absl::Seconds(30), "labkube-system", signer_);
  state.OnMachine(std::make_shared<rapidjson::Document>(Json(kMachine)));
  for (size_t i = 0; i < kMaxRefusals + 50; ++i) {
    ClaimQuery q{"gpu", "x1", "lab-alice", absl::StrCat("p", i), "", absl::StrCat("u", i), false};
    EXPECT_FALSE(state.Reserve(q).ok());
  }
  EXPECT_EQ(state.Snapshot().refused.at("gpu/x1"), static_cast<int32_t>(kMaxRefusals));
}

TEST_F(SchedulerStateTest, ExpectationsCountUntilSeen) {
  state_.ExpectCreate("r3", Placement{"gpu", "x1", "node-a"});
  state_.ExpectDelete("uid-r1");
  PlannerInput in = state_.Snapshot();
  ASSERT_EQ(in.pods.size(), 3u);
  int terminating = 0;
  for (const SlotPod& p : in.pods) terminating += p.terminating;
  EXPECT_EQ(terminating, 1);
  state_.OnPod(Json(Reservation("r3", "node-a", "Pending")));
  state_.OnPodDeleted("labkube-system", "r1");
  in = state_.Snapshot();
  EXPECT_EQ(in.pods.size(), 2u);  // r2 and r3, no phantom
}

TEST_F(SchedulerStateTest, ConcurrentClaimsNeverShareASlot) {
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<ClaimDecision>> results(50, absl::UnknownError(""));
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] { results[i] = state_.Reserve(Query(absl::StrCat("adm-", i))); });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> slots;
  for (const auto& r : results) {
    if (r.ok() && !r->queued) {
      EXPECT_TRUE(slots.insert(r->record.reservation_uid).second);
    }
  }
  EXPECT_EQ(slots.size(), 2u);
}

TEST_F(SchedulerStateTest, WaitForChangeWakesAtOnceOnAPlanChange) {
  SchedulerState::Versions v = state_.version();
  // r2 deleted by someone else: the slot must be re-locked now.
  std::thread t([&] { state_.OnPodDeleted("labkube-system", "r2"); });
  SchedulerState::Versions after = state_.WaitForChange(v, absl::Hours(1), absl::Hours(1));
  t.join();
  EXPECT_NE(after.plan, v.plan);
  EXPECT_NE(after.any, v.any);
}

TEST_F(SchedulerStateTest, AClaimAndItsHandoverAreStatusChangesThatWaitForTheStatusDelay) {
  SchedulerState::Versions v = state_.version();
  auto claim = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(claim.ok()) << claim.status();
  state_.ExpectDelete(claim->record.reservation_uid);
  state_.OnPodDeleted("labkube-system", claim->record.reservation_pod);
  state_.OnPod(Json(Guest("a", claim->record, clock_.Now())));
  SchedulerState::Versions now = state_.version();
  EXPECT_EQ(now.plan, v.plan) << "claim, expected delete and its guest move no plan";
  EXPECT_NE(now.any, v.any);
  // The waiter returns only once the status delay has passed on the (fake) clock.
  SchedulerState::Versions after;
  std::thread waiter([&] { after = state_.WaitForChange(v, absl::Hours(1), absl::Seconds(1)); });
  while (clock_.NumWaiters() == 0) absl::SleepFor(absl::Milliseconds(1));
  clock_.Advance(absl::Seconds(1));
  waiter.join();
  EXPECT_EQ(after.any, now.any);
  // The guest ending frees the slot: a plan change.
  state_.OnPodDeleted("lab-alice", "ws-a");
  EXPECT_NE(state_.version().plan, v.plan);
}

TEST_F(SchedulerStateTest, NodeHeartbeatsAndMachineStatusWritesAreStatusChanges) {
  SchedulerState::Versions v = state_.version();
  rapidjson::Document beat = Json(Node("node-a"));
  json::SetString(beat, {"metadata", "resourceVersion"}, "99");
  state_.OnNode(std::make_shared<rapidjson::Document>(std::move(beat)));
  rapidjson::Document status = Json(kMachine);
  json::SetInt(status, {"status", "usage", "x1", "used"}, 1);
  state_.OnMachine(std::make_shared<rapidjson::Document>(std::move(status)));
  EXPECT_EQ(state_.version().plan, v.plan);
  rapidjson::Document tainted = Json(Node("node-a"));
  json::SetValue(tainted, {"spec", "taints"},
                 Json(R"([{"key":"labkube.io/x1","effect":"NoSchedule"}])"));
  state_.OnNode(std::make_shared<rapidjson::Document>(std::move(tainted)));
  EXPECT_NE(state_.version().plan, v.plan) << "a taint changed: the pass repairs it";
}

}  // namespace
}  // namespace labkube::scheduler

namespace labkube::scheduler {
namespace {

// A guest admitted to wait: gated, with the ticket of `decision` (the Reserve answer).
std::string WaitingJson(const std::string& name, const std::string& ns, const std::string& ticket,
                        absl::Time created, const std::string& claim = "",
                        const std::string& node = "", const std::string& signature = "") {
  std::string annotations = absl::StrFormat(R"("labkube.io/queue-ticket":"%s")", ticket);
  if (!claim.empty()) {
    absl::StrAppendFormat(&annotations,
                          R"(,"labkube.io/claim":"%s","labkube.io/node":"%s",)"
                          R"("labkube.io/claim-signature":"%s")",
                          claim, node, signature);
  }
  std::string gates = claim.empty() ? R"("schedulingGates":[{"name":"labkube.io/queue"}],)" : "";
  return absl::StrFormat(
      R"({"metadata":{"name":"%s","namespace":"%s","uid":"u-%s","creationTimestamp":"%s",
      "labels":{"labkube.io/pod-role":"guest","labkube.io/machine-group":"gpu",
      "labkube.io/machine-type":"x1"},"annotations":{%s}},
      "spec":{%s"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms":[{"matchExpressions":[]}]}}},
      "containers":[{"name":"c","resources":{"requests":{"cpu":"4"}}}]},
      "status":{"phase":"Pending"}})",
      name, ns, name, absl::FormatTime(absl::RFC3339_sec, created, absl::UTCTimeZone()),
      annotations, gates);
}

class QueueStateTest : public SchedulerStateTest {
 protected:
  // Takes both free slots, so the next guests wait.
  void FillSlots() {
    ASSERT_TRUE(state_.Reserve(Query("adm-1")).ok());
    ASSERT_TRUE(state_.Reserve(Query("adm-2")).ok());
  }
  // Admits pod ns/name to wait: the answer, then the pod as the API server stores it.
  ClaimDecision Wait(const std::string& ns, const std::string& name) {
    auto d = state_.Reserve(ClaimQuery{"gpu", "x1", ns, name, "", "adm-" + ns + name, false});
    EXPECT_TRUE(d.ok() && d->queued) << d.status();
    state_.OnPod(Json(WaitingJson(name, ns, d->ticket, clock_.Now())));
    return *d;
  }
};

TEST_F(QueueStateTest, AdmittedWaitersAreInTheSnapshotInLine) {
  FillSlots();
  EXPECT_EQ(Wait("lab-bob", "b1").position, 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Wait("lab-bob", "b2").position, 2);
  // carol holds nothing yet (alice holds the two claims): she comes before bob's second.
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Wait("lab-carol", "c1").position, 2);
  PlannerInput in = state_.Snapshot();
  ASSERT_EQ(in.waiting.size(), 3u);
  EXPECT_EQ(in.waiting[0].affinity_terms, 1);
  EXPECT_EQ(in.waiting[0].gate_index, 0);
}

TEST_F(QueueStateTest, AForgedOrCopiedTicketDoesNotWait) {
  FillSlots();
  state_.OnPod(Json(WaitingJson("x", "lab-eve", "v1.1800000000.00ff", clock_.Now())));
  ClaimDecision d = Wait("lab-bob", "b1");
  // bob's ticket on a pod of another name, or another namespace.
  state_.OnPod(Json(WaitingJson("b2", "lab-bob", d.ticket, clock_.Now())));
  state_.OnPod(Json(WaitingJson("b1", "lab-eve", d.ticket, clock_.Now())));
  // ... or on a pod of the same name created long after the ticket.
  state_.OnPodDeleted("lab-bob", "b1");
  clock_.Advance(absl::Minutes(10));
  state_.OnPod(Json(WaitingJson("b1", "lab-bob", d.ticket, clock_.Now())));
  EXPECT_TRUE(state_.Snapshot().waiting.empty());
}

TEST_F(QueueStateTest, NewcomersGetInLineWhileOthersWait) {
  // A slot is free, but bob already waits (the pass has not handed it yet): alice waits too.
  auto first = state_.Reserve(Query("adm-1"));
  ASSERT_TRUE(first.ok() && !first->queued);
  ASSERT_TRUE(state_.Reserve(Query("adm-2")).ok());
  Wait("lab-bob", "b1");
  state_.AbandonClaim(first->record.id);  // a slot is free again
  auto r = state_.Reserve(ClaimQuery{"gpu", "x1", "lab-alice", "a9", "", "adm-9", false});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->queued);
}

TEST_F(QueueStateTest, HandOverClaimsOnceAndTheGuestBindsIt) {
  FillSlots();
  Wait("lab-bob", "b1");
  PlannerInput in = state_.Snapshot();
  ASSERT_EQ(in.waiting.size(), 1u);
  Handover h{in.waiting[0], "gpu", "x1", "node-a", {}};
  auto d = state_.HandOver(h);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->record.ns, "lab-bob");
  EXPECT_EQ(d->spec.node_affinity.back().values[0], "node-a");
  EXPECT_EQ(state_.HandOver(h).status().code(), absl::StatusCode::kFailedPrecondition);
  in = state_.Snapshot();
  EXPECT_TRUE(in.waiting.empty());  // handed: no longer in line
  EXPECT_EQ(in.claims.size(), 3u);

  // The patched pod (gate gone, claim signed for its uid) is a guest, though it is older than
  // its claim, and binds the claim.
  clock_.Advance(absl::Minutes(5));
  state_.OnPod(Json(WaitingJson("b1", "lab-bob", "t", clock_.Now() - absl::Minutes(5),
                                d->record.id, "node-a", d->record.signature)));
  in = state_.Snapshot();
  EXPECT_EQ(in.claims.size(), 2u);
  EXPECT_EQ(Guests(in), 1);
}

TEST_F(QueueStateTest, AGivenBackHandoverWaitsAgain) {
  FillSlots();
  Wait("lab-bob", "b1");
  auto d = state_.HandOver({state_.Snapshot().waiting[0], "gpu", "x1", "node-a", {}});
  ASSERT_TRUE(d.ok());
  state_.AbandonClaim(d->record.id);  // the patch failed
  EXPECT_EQ(state_.Snapshot().waiting.size(), 1u);
}

TEST_F(QueueStateTest, AHandoverSignatureFitsOnlyItsPod) {
  FillSlots();
  Wait("lab-bob", "b1");
  auto d = state_.HandOver({state_.Snapshot().waiting[0], "gpu", "x1", "node-a", {}});
  ASSERT_TRUE(d.ok());
  // The same annotations on another pod (another uid) make no guest.
  state_.OnPod(Json(WaitingJson("b2", "lab-bob", "t", clock_.Now(), d->record.id, "node-a",
                                d->record.signature)));
  EXPECT_EQ(Guests(state_.Snapshot()), 0);
}

}  // namespace
}  // namespace labkube::scheduler
