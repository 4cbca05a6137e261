// The queue against the real control plane (issue 12): guests that find no free slot are
// admitted gated by the real injector and handed their slots by the real scheduler as guests
// end, in the documented order (docs/queue.md), on the freed node; kube-scheduler and kwok run
// them. Throughout, the slots held never exceed the type's maximum.
#include <algorithm>
#include <map>
#include <thread>
#include <tuple>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "tests/integration/harness.h"
#include "tests/integration/injector/injector_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using rapidjson::Value;

std::string Str(const Value& v, json::Path path) { return std::string(json::GetString(v, path)); }

bool Gated(const Value& pod) {
  const Value* gates = json::Find(pod, {"spec", "schedulingGates"});
  if (gates == nullptr || !gates->IsArray()) return false;
  for (const Value& g : gates->GetArray()) {
    if (Str(g, {"name"}) == "labkube.io/queue") return true;
  }
  return false;
}

struct PodState {
  std::string key;  // ns/name
  std::string phase;
  std::string node;
  bool gated = false;
  bool claimed = false;
};

class QueueTest : public InjectorLabTest {
 protected:
  // Guest ns/name of kType; returns the stored pod (with what the webhook patched).
  rapidjson::Document Guest(const std::string& ns, const std::string& name) {
    return CreatedObject(KubectlCreate(GuestPodYaml(ns, name, group_, kType)));
  }

  // Every live guest of the test's namespaces, by ns/name; also checks that the guests holding
  // a claim and the scheduler's reserved + used never exceed the type's maximum.
  std::map<std::string, PodState> Guests() {
    std::map<std::string, PodState> out;
    int claimed = 0;
    for (const std::string& ns : namespaces_) {
      kube::ListOptions o;
      o.label_selector = absl::StrCat("labkube.io/machine-type=", kType);
      auto pods = client_->List(res::Pods(), ns, o);
      if (!pods.ok()) continue;
      for (const Value& p : pods->items().GetArray()) {
        if (json::Find(p, {"metadata", "deletionTimestamp"}) != nullptr) continue;
        PodState s{absl::StrCat(ns, "/", Str(p, {"metadata", "name"})), Str(p, {"status", "phase"}),
                   Str(p, {"spec", "nodeName"}), Gated(p),
                   !Annotations(p)["labkube.io/claim"].empty()};
        claimed += s.claimed;
        out[s.key] = s;
      }
    }
    EXPECT_LE(claimed, kTypeSlots) << "more guests hold a slot than the type has";
    if (auto u = GetUsage(); u.ok()) {
      EXPECT_LE(u->reserved + u->used, kTypeSlots) << "reserved + used above the maximum";
    }
    return out;
  }

  // Waits until exactly `running` (ns/name) run and `waiting` are gated.
  ::testing::AssertionResult WaitQueue(std::set<std::string> running,
                                       std::set<std::string> waiting) {
    std::map<std::string, PodState> last;
    bool ok = WaitFor(
        [&] {
          last = Guests();
          std::set<std::string> r, w;
          for (const auto& [key, s] : last) {
            if (s.gated && !s.claimed) w.insert(key);
            if (s.phase == "Running" && s.claimed && !s.gated) r.insert(key);
          }
          return r == running && w == waiting;
        },
        kConverge, absl::Milliseconds(200));
    if (ok) return ::testing::AssertionSuccess();
    auto failure = ::testing::AssertionFailure() << "queue never settled; last:";
    for (const auto& [key, s] : last) {
      failure << " " << key << "(" << s.phase << (s.gated ? ",gated" : "")
              << (s.claimed ? ",claimed" : "") << ")";
    }
    return failure;
  }

  std::string Member(const std::string& prefix) {
    std::string ns = CreateNamespace(prefix, /*enabled=*/true);
    namespaces_.push_back(ns);
    return ns;
  }

  void Delete(const std::string& ns, const std::string& name) {
    auto s = client_->Delete(res::Pods(), ns, name, {});
    ASSERT_TRUE(s.ok()) << s;
  }

  // The messages of pod ns/name's events with `reason`, joined.
  std::string EventsOf(const std::string& ns, const std::string& name, const std::string& reason) {
    kube::ListOptions o;
    o.field_selector = absl::StrCat("involvedObject.name=", name, ",reason=", reason);
    auto events = client_->List(res::Events(), ns, o);
    std::string out;
    if (!events.ok()) return out;
    for (const Value& e : events->items().GetArray()) absl::StrAppend(&out, Str(e, {"message"}), ";");
    return out;
  }

  // Patches the test's Machine (JSON patch) and waits until the scheduler has seen it.
  void PatchMachine(const std::string& patch) {
    CommandResult out = RunKubectl({"patch", "machine", group_, "--type=json", "-p", patch});
    ASSERT_EQ(out.exit_code, 0) << out.output;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto m = client_->Get(res::Machines(), "", group_);
          return m.ok() && json::GetInt(*m, {"status", "observedGeneration"}) ==
                               json::GetInt(*m, {"metadata", "generation"});
        },
        kConverge));
  }

  // The pod that should get the next slot by the documented order (docs/queue.md): of the
  // waiting pods, the one whose namespace holds the fewest slots, then the oldest, then by
  // namespace and name — once the running guest `leaving` (ns/name) is gone.
  std::string NextByTheRule(const std::string& leaving) {
    std::map<std::string, int> held;
    std::vector<std::tuple<int, std::string, std::string, std::string>> candidates;
    std::map<std::string, std::string> created;
    for (const std::string& ns : namespaces_) {
      auto pods = client_->List(res::Pods(), ns, {});
      if (!pods.ok()) continue;
      for (const Value& p : pods->items().GetArray()) {
        if (json::Find(p, {"metadata", "deletionTimestamp"}) != nullptr) continue;
        std::string name = Str(p, {"metadata", "name"});
        if (ns + "/" + name == leaving) continue;
        if (!Annotations(p)["labkube.io/claim"].empty()) ++held[ns];
        if (Gated(p)) created[ns + "/" + name] = Str(p, {"metadata", "creationTimestamp"});
      }
    }
    for (const auto& [key, when] : created) {
      std::string ns = key.substr(0, key.find('/'));
      candidates.emplace_back(held[ns], when, ns, key);
    }
    if (candidates.empty()) return "";
    std::sort(candidates.begin(), candidates.end());
    return std::get<3>(candidates.front());
  }

  int Waiting() {
    auto t = Availability();
    return t.ok() ? t->usage().waiting() : -1;
  }

  std::vector<std::string> namespaces_;
};

TEST_F(QueueTest, AFullTypeQueuesAndEachFreedSlotGoesToTheNextInLineOnItsNode) {
  std::string a = Member("it-q-a"), b = Member("it-q-b");
  ASSERT_TRUE(Guest(a, "a1").IsObject());
  ASSERT_TRUE(Guest(a, "a2").IsObject());
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, {}));
  // The type is full: the next guests are admitted, gated, with the type's resources, and told.
  CommandResult third = KubectlCreate(GuestPodYaml(a, "a3", group_, kType));
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_TRUE(absl::StrContains(third.output, "waits in line (1st now)")) << third.output;
  rapidjson::Document a3 = CreatedObject(third);
  ASSERT_TRUE(a3.IsObject());
  EXPECT_TRUE(Gated(a3));
  EXPECT_FALSE(Annotations(a3)["labkube.io/queue-ticket"].empty());
  EXPECT_EQ(Str(a3["spec"]["containers"][0], {"resources", "limits", "nvidia.com/gpu"}), "1");
  ASSERT_TRUE(Guest(b, "b1").IsObject());  // after a3, but b holds nothing: b1 goes first
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, {a + "/a3", b + "/b1"}));
  EXPECT_TRUE(WaitFor([&] { return Waiting() == 2; }, kConverge)) << Waiting();

  // A member cannot let its own pod out of line.
  CommandResult out = RunKubectl({"-n", a, "patch", "pod", "a3", "--type=json", "-p",
                                  R"([{"op":"remove","path":"/spec/schedulingGates/0"}])"});
  EXPECT_NE(out.exit_code, 0) << out.output;
  EXPECT_TRUE(absl::StrContains(out.output, "labkube.io/queue is labkube's")) << out.output;

  std::string freed = Guests()[a + "/a1"].node;
  Delete(a, "a1");
  ASSERT_TRUE(WaitQueue({a + "/a2", b + "/b1"}, {a + "/a3"}));
  EXPECT_EQ(Guests()[b + "/b1"].node, freed) << "b1 runs on the node whose slot it was handed";
  Delete(a, "a2");
  ASSERT_TRUE(WaitQueue({b + "/b1", a + "/a3"}, {}));
  EXPECT_TRUE(WaitFor([&] { return Waiting() == 0; }, kConverge)) << Waiting();
  // What `kubectl describe pod` shows: queued with its place, then the slot handed over.
  EXPECT_TRUE(WaitFor([&] { return !EventsOf(b, "b1", "Queued").empty(); }, kConverge));
  EXPECT_TRUE(absl::StrContains(EventsOf(b, "b1", "Queued"), "1st in line"))
      << EventsOf(b, "b1", "Queued");
  EXPECT_TRUE(WaitFor([&] { return !EventsOf(b, "b1", "SlotHandedOver").empty(); }, kConverge));
  EXPECT_TRUE(absl::StrContains(EventsOf(b, "b1", "SlotHandedOver"), "on node " + freed))
      << EventsOf(b, "b1", "SlotHandedOver");
}

TEST_F(QueueTest, FairnessAWaitingPodDeletedAndALeaderKilled) {
  std::string a = Member("it-q-a"), b = Member("it-q-b");
  ASSERT_TRUE(Guest(a, "a1").IsObject());
  ASSERT_TRUE(Guest(a, "a2").IsObject());
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, {}));
  std::set<std::string> waiting;
  for (int i = 3; i <= 7; ++i) {  // a waits with five, b with one (the newest)
    ASSERT_TRUE(Guest(a, absl::StrCat("a", i)).IsObject());
    waiting.insert(absl::StrCat(a, "/a", i));
  }
  ASSERT_TRUE(Guest(b, "b1").IsObject());
  waiting.insert(b + "/b1");
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, waiting));
  // A waiting pod deleted leaves the line.
  Delete(a, "a7");
  waiting.erase(a + "/a7");
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, waiting));
  EXPECT_TRUE(WaitFor([&] { return Waiting() == 5; }, kConverge)) << Waiting();

  // The leader dies while they wait; the new one rebuilds the line from the pods.
  KillScheduler();
  RestartScheduler();
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, waiting));
  Delete(a, "a1");  // b holds none, a one: b1 is next although a's pods came first
  waiting.erase(b + "/b1");
  ASSERT_TRUE(WaitQueue({a + "/a2", b + "/b1"}, waiting));
  Delete(a, "a2");  // a holds none now, b one: a's oldest
  waiting.erase(a + "/a3");
  ASSERT_TRUE(WaitQueue({b + "/b1", a + "/a3"}, waiting));
}

TEST_F(QueueTest, ABurstOfThreeTimesCapacityRunsCapacityAndHandsOnInTheDocumentedOrder) {
  std::vector<std::string> members = {Member("it-q-a"), Member("it-q-b"), Member("it-q-c")};
  std::vector<std::thread> burst;
  for (int i = 0; i < 3 * kTypeSlots; ++i) {
    burst.emplace_back([&, i] {
      KubectlCreate(GuestPodYaml(members[i % 3], absl::StrCat("p", i), group_, kType));
    });
  }
  for (std::thread& t : burst) t.join();
  auto count = [&](bool running) {
    int n = 0;
    for (const auto& [key, st] : Guests()) {
      n += running ? (st.phase == "Running" && st.claimed) : (st.gated && !st.claimed);
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return count(true) == kTypeSlots && count(false) == 2 * kTypeSlots; },
                      kConverge))
      << count(true) << " running, " << count(false) << " waiting";
  // Each time a running guest ends, the next to run is the one the rule names.
  for (int round = 0; round < 2 * kTypeSlots; ++round) {
    std::string victim;
    for (const auto& [key, st] : Guests()) {
      if (st.phase == "Running" && st.claimed) victim = key;
    }
    ASSERT_FALSE(victim.empty());
    std::string expected = NextByTheRule(victim);
    ASSERT_FALSE(expected.empty());
    Delete(victim.substr(0, victim.find('/')), victim.substr(victim.find('/') + 1));
    ASSERT_TRUE(WaitFor(
        [&] {
          auto all = Guests();
          return all.count(expected) > 0 && all[expected].phase == "Running" &&
                 all.count(victim) == 0;
        },
        kConverge))
        << "round " << round << ": " << expected << " did not get the slot " << victim << " freed";
    EXPECT_TRUE(StaysUsage({0, kTypeSlots}, absl::Milliseconds(500)));
  }
}

TEST_F(QueueTest, MaintenanceAndALoweredAvailableHoldTheLineUntilSlotsReturn) {
  std::string a = Member("it-q-a"), b = Member("it-q-b");
  ASSERT_TRUE(Guest(a, "a1").IsObject());
  ASSERT_TRUE(Guest(a, "a2").IsObject());
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, {}));
  ASSERT_TRUE(Guest(b, "b1").IsObject());
  ASSERT_TRUE(Guest(b, "b2").IsObject());
  ASSERT_TRUE(WaitQueue({a + "/a1", a + "/a2"}, {b + "/b1", b + "/b2"}));

  // available lowered to 1: a freed slot is not handed (one slot may exist, a2 holds it).
  ASSERT_NO_FATAL_FAILURE(PatchMachine(
      R"([{"op":"replace","path":"/spec/machineTypes/1/available","value":1}])"));
  Delete(a, "a1");
  ASSERT_TRUE(WaitQueue({a + "/a2"}, {b + "/b1", b + "/b2"}));
  EXPECT_FALSE(WaitFor([&] { return Guests()[b + "/b1"].claimed; }, absl::Seconds(3)))
      << "a slot was handed beyond available";
  // Both nodes of the type into maintenance, available back to 2: still nothing to hand.
  ASSERT_NO_FATAL_FAILURE(PatchMachine(
      R"([{"op":"replace","path":"/spec/machineTypes/1/available","value":2},)"
      R"({"op":"replace","path":"/spec/nodePool/0/mode","value":"maintenance"},)"
      R"({"op":"replace","path":"/spec/nodePool/1/mode","value":"maintenance"}])"));
  EXPECT_FALSE(WaitFor([&] { return Guests()[b + "/b1"].claimed; }, absl::Seconds(3)))
      << "a slot on a node in maintenance was handed";
  // The nodes return: the line moves again.
  ASSERT_NO_FATAL_FAILURE(PatchMachine(
      R"([{"op":"replace","path":"/spec/nodePool/0/mode","value":"ready"},)"
      R"({"op":"replace","path":"/spec/nodePool/1/mode","value":"ready"}])"));
  ASSERT_TRUE(WaitQueue({a + "/a2", b + "/b1"}, {b + "/b2"}));
}

TEST_F(QueueTest, FiftyWaitWhileTheLeaderIsKilledNothingIsLostOrHandedTwice) {
  std::vector<std::string> members = {Member("it-q-a"), Member("it-q-b"), Member("it-q-c")};
  ASSERT_TRUE(Guest(members[0], "first").IsObject());
  ASSERT_TRUE(Guest(members[1], "second").IsObject());
  ASSERT_TRUE(WaitQueue({members[0] + "/first", members[1] + "/second"}, {}));
  constexpr int kWaiting = 50;
  std::vector<std::thread> writers;
  for (int w = 0; w < 5; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kWaiting; i += 5) {
        KubectlCreate(GuestPodYaml(members[i % 3], absl::StrCat("w", i), group_, kType));
      }
    });
  }
  for (std::thread& t : writers) t.join();
  auto gated = [&] {
    int n = 0;
    for (const auto& [key, st] : Guests()) n += st.gated && !st.claimed;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return gated() == kWaiting; }, kConverge)) << gated();
  ASSERT_TRUE(WaitFor([&] { return Waiting() == kWaiting; }, kConverge)) << Waiting();

  KillScheduler();
  RestartScheduler();
  EXPECT_TRUE(WaitFor([&] { return Waiting() == kWaiting; }, kConverge)) << Waiting();
  // The new leader hands the two slots as the rule says, one at a time.
  for (const std::string& leaving : {members[0] + "/first", members[1] + "/second"}) {
    std::string expected = NextByTheRule(leaving);
    Delete(leaving.substr(0, leaving.find('/')), leaving.substr(leaving.find('/') + 1));
    ASSERT_TRUE(WaitFor(
        [&] {
          auto all = Guests();
          return all.count(expected) > 0 && all[expected].phase == "Running";
        },
        kConverge))
        << expected << " did not get the slot " << leaving << " freed";
  }
  // Nothing lost, nothing twice: 48 wait, 2 run, each claim on one pod.
  std::map<std::string, PodState> all = Guests();
  int running = 0;
  for (const auto& [key, st] : all) running += st.claimed;
  EXPECT_EQ(running, kTypeSlots);
  EXPECT_EQ(gated(), kWaiting - kTypeSlots);
  EXPECT_EQ(static_cast<int>(all.size()), kWaiting);
}

TEST_F(QueueTest, ADeploymentLargerThanTheFreeSlotsWaitsInsteadOfFailing) {
  std::string ns = Member("it-q-d");
  std::string yaml = absl::StrCat(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: train, namespace: ", ns,
      "}\nspec:\n  replicas: ", kTypeSlots + 1,
      "\n  selector: {matchLabels: {app: train}}\n  template:\n    metadata:\n"
      "      labels: {app: train, labkube.io/pod-role: guest, labkube.io/machine-group: ",
      group_, ", labkube.io/machine-type: ", kType,
      "}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers: [{name: main, "
      "image: ",
      kPauseImage, "}]\n");
  ASSERT_EQ(KubectlCreate(yaml).exit_code, 0);
  auto counts = [&](int* running, int* gated) {
    *running = *gated = 0;
    for (const auto& [key, s] : Guests()) {
      *running += s.phase == "Running" && s.claimed;
      *gated += s.gated;
    }
  };
  int running = 0, gated = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        counts(&running, &gated);
        return running == kTypeSlots && gated == 1;
      },
      kConverge))
      << running << " running, " << gated << " waiting";
  // No FailedCreate loop: the ReplicaSet made every pod.
  kube::ListOptions o;
  o.field_selector = "involvedObject.kind=ReplicaSet,reason=FailedCreate";
  auto events = client_->List(res::Events(), ns, o);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->items().Size(), 0u);
  // One running replica ends: the waiting one takes its slot; the replacement waits.
  std::string victim;
  for (const auto& [key, s] : Guests()) {
    if (s.phase == "Running") victim = key.substr(key.find('/') + 1);
  }
  Delete(ns, victim);
  ASSERT_TRUE(WaitFor(
      [&] {
        counts(&running, &gated);
        return running == kTypeSlots && gated == 1 && Guests().count(ns + "/" + victim) == 0;
      },
      kConverge))
      << running << " running, " << gated << " waiting";
}

}  // namespace
}  // namespace labkube::it
