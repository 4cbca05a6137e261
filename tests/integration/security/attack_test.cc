// Attacks on slots, tried against the real control plane: the real kube-apiserver (with labkube's
// guest-integrity ValidatingAdmissionPolicy, k8s/policy/), the real injector and scheduler
// binaries, kube-scheduler and kwok (injector_lab.h). The attacker is a lab member: a
// ServiceAccount bound to labkube-member in its namespace, with its own kubeconfig, as labkube's
// kubeconfigs are. Each test records what it tried, what should have happened and what did; the
// table is printed at the end (and kept as attacks.txt in the test outputs).
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "gtest/gtest.h"
#include "lib/kube/config.h"
#include "lib/kube/json.h"
#include "grpcpp/grpcpp.h"
#include "absl/time/clock.h"
#include "tests/integration/injector/injector_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;

struct Row {
  std::string attack, expected, happened;
  bool held;
};

std::vector<Row>& Rows() {
  static auto* rows = new std::vector<Row>();
  return *rows;
}

// Prints the table after the last test.
class AttackTable : public ::testing::Environment {
 public:
  void TearDown() override {
    std::string table = absl::StrFormat("\n%-58s | %-40s | %s\n", "attack", "expected", "happened");
    absl::StrAppend(&table, std::string(140, '-'), "\n");
    for (const Row& r : Rows()) {
      absl::StrAppendFormat(&table, "%-58s | %-40s | %s%s\n", r.attack, r.expected,
                            r.held ? "" : "BREACH: ", r.happened);
    }
    std::printf("%s", table.c_str());
    std::ofstream(OutputDir() + "/attacks.txt") << table;
  }
};
[[maybe_unused]] ::testing::Environment* const kTable =
    ::testing::AddGlobalTestEnvironment(new AttackTable);

// kubectl's answer, for the table: the refusal's own words.
std::string Gist(const CommandResult& r) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    if (!line.empty() && !absl::StartsWith(line, "Warning:")) {
      out = std::string(line);
      break;
    }
  }
  for (const char* from : {"denied the request: ", "denied request: ", "is forbidden: ", "): "}) {
    if (size_t at = out.rfind(from); at != std::string::npos) {
      out = out.substr(at + strlen(from));
      break;
    }
  }
  if (out.size() > 90) out = out.substr(0, 87) + "...";
  return r.exit_code == 0 ? absl::StrCat("accepted: ", out) : absl::StrCat("refused: ", out);
}

class AttackTest : public InjectorLabTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InjectorLabTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(MakeMember());
    absl::StatusOr<api::MachineType> a = Availability();
    ASSERT_TRUE(a.ok() && a->ready_nodes_size() > 0) << (a.ok() ? a->DebugString() : a.status().ToString());
    gpu_node_ = a->ready_nodes(0);
    ASSERT_TRUE(WaitUsage({kTypeSlots, 0}));
    reservations_ = ReservationPods();
  }

  // ServiceAccount "mallory" in ns_, bound to labkube-member there, and a kubeconfig with its
  // token (no client certificate: the API server must see mallory, not the admin).
  void MakeMember() {
    auto roles = Kubectl({"apply", "-f", Runfile("k8s/authenticator/member-roles.yaml"), "-f",
                          Runfile("k8s/authenticator/rbac.yaml"), "-f",
                          Runfile("k8s/authenticator/scope-policy.yaml")});
    ASSERT_TRUE(roles.ok()) << roles.status();
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"create", "serviceaccount", "mallory", "-n", ns_},
             {"create", "rolebinding", "mallory", "-n", ns_, "--clusterrole=labkube-member",
              absl::StrCat("--serviceaccount=", ns_, ":mallory")}}) {
      auto r = Kubectl(args);
      ASSERT_TRUE(r.ok()) << r.status();
    }
    // ns_ is mallory's lab namespace, as the authenticator makes them.
    auto owned = Kubectl({"label", "namespace", ns_, "labkube.io/user=mallory", "--overwrite"});
    ASSERT_TRUE(owned.ok()) << owned.status();
    auto token = Kubectl({"create", "token", "mallory", "-n", ns_, "--duration=1h"});
    ASSERT_TRUE(token.ok()) << token.status();
    auto admin = kube::LoadKubeconfig(*Kubeconfig());
    ASSERT_TRUE(admin.ok()) << admin.status();
    std::string ca = WriteTestFile("cluster-ca.crt", admin->ca_pem);
    member_kubeconfig_ = WriteTestFile(
        "mallory.kubeconfig",
        absl::StrCat("apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: ",
                     admin->server, "\n    certificate-authority: ", ca,
                     "\nusers:\n- name: mallory\n  user:\n    token: ",
                     absl::StripAsciiWhitespace(*token), "\ncontexts:\n- name: lab\n  context:\n",
                     "    cluster: lab\n    user: mallory\n    namespace: ", ns_,
                     "\ncurrent-context: lab\n"));
    CommandResult who = AsMember({"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"});
    ASSERT_EQ(who.output, absl::StrCat("system:serviceaccount:", ns_, ":mallory")) << who.output;
  }

  CommandResult AsMember(std::vector<std::string> args) {
    std::vector<std::string> argv{KubectlPath(), absl::StrCat("--kubeconfig=", member_kubeconfig_)};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    return r.ok() ? *r : CommandResult{-1, r.status().ToString()};
  }

  CommandResult MemberCreate(const std::string& name, const std::string& yaml) {
    return AsMember({"create", "-o", "json", "-f", WriteTestFile(name + ".yaml", yaml)});
  }

  // A pod manifest in ns_: `labels` and `annotations` as YAML flow maps, then spec lines.
  std::string PodYaml(const std::string& name, const std::string& labels,
                      const std::string& annotations, const std::string& spec) {
    return absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ", name,
                        "\n  namespace: ", ns_, "\n  labels: ", labels,
                        "\n  annotations: ", annotations,
                        "\nspec:\n  terminationGracePeriodSeconds: 0\n", spec);
  }

  std::string GuestLabels() {
    return absl::StrCat("{labkube.io/pod-role: guest, labkube.io/machine-group: ", group_,
                        ", labkube.io/machine-type: ", kType, "}");
  }

  std::string Pause() { return absl::StrCat("  containers:\n  - {name: main, image: ", kPauseImage, "}\n"); }

  // Records the attempt; `held` = the door stayed shut.
  void Record(const std::string& attack, const std::string& expected, const std::string& happened,
              bool held) {
    Rows().push_back({attack, expected, happened, held});
    EXPECT_TRUE(held) << attack << ": expected " << expected << ", got " << happened;
  }

  // The slots are as SetUp found them: same usage, the same reservation pods.
  ::testing::AssertionResult SlotsUntouched(Usage want = {kTypeSlots, 0}) {
    ::testing::AssertionResult stays = StaysUsage(want, absl::Seconds(3));
    if (!stays) return stays;
    if (ReservationPods() != reservations_) {
      return ::testing::AssertionFailure() << "reservation pods changed";
    }
    return ::testing::AssertionSuccess();
  }

  // A real guest of kType admitted for the member; its pod.
  rapidjson::Document AdmitGuest(const std::string& name) {
    CommandResult r = MemberCreate(name, PodYaml(name, GuestLabels(), "{}", Pause()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return CreatedObject(r);
  }

  std::string gpu_node_;
  std::string member_kubeconfig_;
  std::vector<std::string> reservations_;
};

TEST_F(AttackTest, ClaimAnnotationsOnAnOrdinaryPod) {
  CommandResult r = MemberCreate(
      "fake", PodYaml("fake", "{app: x}",
                      absl::StrCat("{labkube.io/claim: c-fake, labkube.io/node: ", gpu_node_, "}"),
                      absl::StrCat("  nodeSelector: {kubernetes.io/hostname: ", gpu_node_, "}\n",
                                   Pause())));
  bool held = r.exit_code != 0 && absl::StrContains(r.output, "only labkube puts the annotations");
  Record("ordinary pod with a made-up labkube.io/claim", "refused by the policy", Gist(r), held);
  EXPECT_TRUE(SlotsUntouched());
}

TEST_F(AttackTest, RelabelAnOrdinaryPodAsAGuest) {
  CommandResult made = MemberCreate("plain", PodYaml("plain", "{app: x}", "{}", Pause()));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  CommandResult label = AsMember({"label", "pod", "plain", "labkube.io/pod-role=guest",
                                  absl::StrCat("labkube.io/machine-group=", group_),
                                  absl::StrCat("labkube.io/machine-type=", kType)});
  Record("kubectl label an ordinary pod as a guest", "refused by the policy", Gist(label),
         label.exit_code != 0 && absl::StrContains(label.output, "cannot be added, changed"));
  CommandResult annotate = AsMember({"annotate", "pod", "plain", "labkube.io/claim=c-1-00000000"});
  Record("kubectl annotate an ordinary pod with a claim", "refused by the policy", Gist(annotate),
         annotate.exit_code != 0 && absl::StrContains(annotate.output, "annotations of a pod"));
  EXPECT_TRUE(SlotsUntouched());
}

TEST_F(AttackTest, ChangeARealGuestsTypeOrDropItsClaim) {
  AdmitGuest("g1");
  ASSERT_TRUE(WaitUsage({kTypeSlots - 1, 1}));
  CommandResult relabel = AsMember(
      {"label", "pod", "g1", "--overwrite", "labkube.io/machine-type=rtx3090-x2"});
  Record("relabel a running guest to another type", "refused by the policy", Gist(relabel),
         relabel.exit_code != 0);
  CommandResult drop = AsMember({"annotate", "pod", "g1", "labkube.io/claim-"});
  Record("remove a running guest's claim annotation", "refused by the policy", Gist(drop),
         drop.exit_code != 0);
  EXPECT_TRUE(StaysUsage({kTypeSlots - 1, 1}, absl::Seconds(3)));
}

TEST_F(AttackTest, CopyAGuestsClaimOntoANewGuest) {
  rapidjson::Document g1 = AdmitGuest("g1");
  ASSERT_TRUE(WaitUsage({kTypeSlots - 1, 1}));
  std::map<std::string, std::string> a = Annotations(g1);
  std::string copied = absl::StrCat("{labkube.io/claim: ", a["labkube.io/claim"],
                                    ", labkube.io/node: ", a["labkube.io/node"],
                                    ", labkube.io/claim-signature: '", a["labkube.io/claim-signature"], "'}");
  CommandResult r = MemberCreate("g2", PodYaml("g2", GuestLabels(), copied, Pause()));
  Record("new guest carrying another guest's signed claim", "refused by the webhook (409)",
         Gist(r), r.exit_code != 0 && absl::StrContains(r.output, "did not give to this pod"));
  EXPECT_TRUE(StaysUsage({kTypeSlots - 1, 1}, absl::Seconds(3)));
}

// The scheduler's own check, behind the policy: in kube-system (outside the policy and the
// webhook, where only admins create pods) a pod labelled as a guest, bound to a GPU node, with a
// made-up claim and a real guest's signature. Before claims were signed, the scheduler counted
// such a pod as used and deleted a reservation pod for it.
TEST_F(AttackTest, AForgedGuestThatSkippedTheWebhookHoldsNoSlot) {
  rapidjson::Document g1 = AdmitGuest("g1");
  ASSERT_TRUE(WaitUsage({kTypeSlots - 1, 1}));
  reservations_ = ReservationPods();
  std::string sig = Annotations(g1)["labkube.io/claim-signature"];
  std::string name = UniqueName("forged");
  std::string yaml = absl::StrCat(
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ", name, "\n  namespace: kube-system\n",
      "  labels: ", GuestLabels(), "\n  annotations: {labkube.io/claim: c-9-forged, ",
      "labkube.io/node: ", gpu_node_, ", labkube.io/claim-signature: '", sig, "'}\n",
      "spec:\n  terminationGracePeriodSeconds: 0\n  nodeName: ", gpu_node_, "\n",
      "  tolerations: [{operator: Exists}]\n", Pause());
  CommandResult r = RunKubectl({"create", "-f", WriteTestFile("forged.yaml", yaml)});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  bool untouched = SlotsUntouched({kTypeSlots - 1, 1});
  Record("forged guest bound to a GPU node, webhook skipped", "scheduler counts no slot for it",
         untouched ? "usage and reservation pods unchanged" : "the scheduler counted it", untouched);
  RunKubectl({"delete", "pod", "-n", "kube-system", name, "--grace-period=0", "--wait=false"});
}

TEST_F(AttackTest, NodeNameOnAGpuNode) {
  CommandResult r = MemberCreate(
      "direct", PodYaml("direct", "{app: x}", "{}", absl::StrCat("  nodeName: ", gpu_node_, "\n", Pause())));
  Record("pod with spec.nodeName on a GPU node", "refused by the policy", Gist(r),
         r.exit_code != 0 && absl::StrContains(r.output, "spec.nodeName"));
  EXPECT_TRUE(SlotsUntouched());
}

TEST_F(AttackTest, TolerateLabkubesTaints) {
  for (const std::string& toleration :
       {absl::StrCat("{key: labkube.io/", kType, ", operator: Exists}"), std::string("{operator: Exists}")}) {
    std::string name = UniqueName("tol");
    CommandResult r = MemberCreate(
        name, PodYaml(name, "{app: x}", "{}",
                      absl::StrCat("  tolerations: [", toleration, "]\n  nodeSelector: ",
                                   "{kubernetes.io/hostname: ", gpu_node_, "}\n", Pause())));
    Record(absl::StrCat("ordinary pod tolerating ", toleration), "refused by the policy", Gist(r),
           r.exit_code != 0 && absl::StrContains(r.output, "tolerations of labkube's taints"));
  }
  EXPECT_TRUE(SlotsUntouched());
}

TEST_F(AttackTest, ASidecarAskingForMoreThanTheSlot) {
  CommandResult r = MemberCreate(
      "greedy", PodYaml("greedy", GuestLabels(), "{}",
                        absl::StrCat(Pause(), "  - {name: miner, image: ", kPauseImage,
                                     ", resources: {requests: {cpu: '20', memory: 100Gi}}}\n")));
  Record("guest with a sidecar asking 20 cpu / 100Gi (slot: 4 / 16Gi)", "refused by the webhook",
         Gist(r), r.exit_code != 0 && absl::StrContains(r.output, "leaves nothing"));
  // Its claim was made before the pod was judged; the injector gives it back at once (Release),
  // so the slot is locked again well before the claim's TTL (10 s) would have ended it.
  ::testing::AssertionResult back = WaitUsage({kTypeSlots, 0}, kType, absl::Seconds(6));
  Record("a guest refused after its claim (the sidecar above)", "claim given back, slot re-locked < 6 s",
         back ? "re-locked" : absl::StrCat("still held: ", back.message()), back);
}

TEST_F(AttackTest, TwoContainersOf7Ei) {
  CommandResult r = MemberCreate(
      "huge", PodYaml("huge", GuestLabels(), "{}",
                      absl::StrCat("  containers:\n  - {name: main, image: ", kPauseImage,
                                   ", resources: {requests: {memory: 7Ei}}}\n",
                                   "  - {name: side, image: ", kPauseImage,
                                   ", resources: {requests: {memory: 7Ei}}}\n")));
  bool alive = InjectorGet("/healthz").first == 200;
  Record("guest with two containers of memory: 7Ei", "refused, no overflow, injector alive",
         absl::StrCat(Gist(r), alive ? "" : " (injector died)"), r.exit_code != 0 && alive);
  EXPECT_TRUE(WaitUsage({kTypeSlots, 0}, kType, absl::Seconds(30)));
}

TEST_F(AttackTest, PublishOnAnotherMembersPath) {
  for (const auto& [name, rule] : std::vector<std::pair<std::string, std::string>>{
           {"steal", "paths: [{path: /alice/nb/, pathType: Prefix, backend: {service: {name: x, port: {number: 80}}}}]"},
           {"regex", "paths: [{path: /mallory/.*, pathType: ImplementationSpecific, backend: {service: {name: x, port: {number: 80}}}}]"}}) {
    CommandResult r = MemberCreate(
        name, absl::StrCat("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ", name,
                           ", namespace: ", ns_, "}\nspec:\n  rules:\n  - http:\n      ", rule, "\n"));
    Record(absl::StrCat("Ingress on another member's path (", name, ")"), "refused by the policy",
           Gist(r), r.exit_code != 0 && absl::StrContains(r.output, "may only serve paths under /mallory/"));
  }
  CommandResult own = MemberCreate(
      "own", absl::StrCat("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: own, namespace: ",
                          ns_, "}\nspec:\n  rules:\n  - http:\n      paths: [{path: /mallory/nb/, ",
                          "pathType: Prefix, backend: {service: {name: x, port: {number: 80}}}}]\n"));
  EXPECT_EQ(own.exit_code, 0) << "a member's own path is allowed: " << own.output;
}

TEST_F(AttackTest, ServiceWithExternalIPs) {
  CommandResult r = MemberCreate(
      "mitm", absl::StrCat("apiVersion: v1\nkind: Service\nmetadata: {name: mitm, namespace: ", ns_,
                           "}\nspec:\n  ports: [{port: 443}]\n  externalIPs: [10.96.0.1]\n"));
  Record("Service with externalIPs (traffic capture)", "refused by the policy", Gist(r),
         r.exit_code != 0 && absl::StrContains(r.output, "externalIPs"));
}

// A stolen authenticator token: RBAC lets the authenticator mint ServiceAccount tokens and
// delete namespaces cluster-wide (member namespaces are made at run time); its scope policy
// keeps it to members' objects.
TEST_F(AttackTest, AStolenAuthenticatorTokenStaysInMembersNamespaces) {
  const std::string as = "--as=system:serviceaccount:labkube-system:labkube-authenticator";
  CommandResult token = RunKubectl({as, "create", "token", "default", "-n", "kube-system"});
  Record("authenticator identity mints a kube-system token", "refused by its scope policy",
         Gist(token), token.exit_code != 0 && absl::StrContains(token.output, "issues tokens only"));
  std::string victim = CreateNamespace("victim", /*enabled=*/false);
  CommandResult del = RunKubectl({as, "delete", "namespace", victim, "--wait=false"});
  Record("authenticator identity deletes a non-member namespace", "refused by its scope policy",
         Gist(del), del.exit_code != 0 && absl::StrContains(del.output, "only members' namespaces"));
  CommandResult own = RunKubectl({as, "create", "token", "mallory", "-n", ns_});
  EXPECT_EQ(own.exit_code, 0) << "a member's token is still allowed: " << own.output;
}

// Fairness, not a door: an admin caps what one member may hold (Machine spec.maxPerMember).
TEST_F(AttackTest, AMemberOverItsCapIsRefusedWithTheCap) {
  auto patched = Kubectl({"patch", "machine", group_, "--type=merge", "-p",
                          R"({"spec":{"maxPerMember":1}})"});
  ASSERT_TRUE(patched.ok()) << patched.status();
  // The scheduler sees the new spec a moment later: the first guest may race it.
  AdmitGuest("g1");
  ASSERT_TRUE(WaitUsage({kTypeSlots - 1, 1}));
  CommandResult second;
  bool refused = WaitFor(
      [&] {
        second = MemberCreate("g2", PodYaml("g2", GuestLabels(), "{}", Pause()));
        if (second.exit_code == 0) RunKubectl({"delete", "pod", "-n", ns_, "g2", "--grace-period=0"});
        return second.exit_code != 0;
      },
      absl::Seconds(20), absl::Milliseconds(500));
  Record("a second slot beyond the member's cap of 1", "refused, naming the cap and what it holds",
         Gist(second), refused && absl::StrContains(second.output, "holds 1 slot of group") &&
                           absl::StrContains(second.output, "maxPerMember 1"));
}

// Idle watch streams took one scheduler thread each until none was left for Claim. Now one caller
// gets 16 at most, and the scheduler keeps answering everyone else.
TEST_F(AttackTest, IdleWatchStreamsCannotStarveTheScheduler) {
  auto stub = api::Scheduler::NewStub(
      grpc::CreateChannel(scheduler_->grpc_target(), grpc::InsecureChannelCredentials()));
  constexpr int kStreams = 64;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<api::ListMachineTypesResponse>>> readers;
  int opened = 0, refused = 0;
  std::string refusal;
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    readers.push_back(stub->WatchAvailability(contexts.back().get(), api::ListMachineTypesRequest()));
    api::ListMachineTypesResponse first;
    if (readers.back()->Read(&first)) {
      ++opened;
      continue;
    }
    grpc::Status s = readers.back()->Finish();
    refused += s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    refusal = s.error_message();
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  api::ListMachineTypesResponse list;
  grpc::Status answered = stub->ListMachineTypes(&ctx, api::ListMachineTypesRequest(), &list);
  for (auto& c : contexts) c->TryCancel();
  for (int i = 0; i < kStreams; ++i) {
    if (i < opened) readers[i]->Finish();
  }
  Record(absl::StrCat(kStreams, " idle WatchAvailability streams from one caller"),
         "16 served, the rest refused, calls still answered",
         absl::StrCat(opened, " served, ", refused, " refused (", refusal.substr(0, 40),
                      "...), ListMachineTypes ", answered.ok() ? "answered" : answered.error_message()),
         opened == 16 && refused == kStreams - 16 && answered.ok());
}

// Any pod could POST a made-up AdmissionReview to the webhook and have the scheduler claim a slot
// for it. The injector now answers only the API server's client certificate.
TEST_F(AttackTest, AReviewThatDoesNotComeFromTheApiServer) {
  std::string review = absl::StrCat(
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"forged-1",)",
      R"("kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},)",
      R"("namespace":")", ns_, R"(","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod",)",
      R"("metadata":{"name":"forged","namespace":")", ns_, R"(","labels":{"labkube.io/pod-role":"guest",)",
      R"("labkube.io/machine-group":")", group_, R"(","labkube.io/machine-type":")", kType,
      R"("}},"spec":{"containers":[{"name":"main","image":"x"}]}}}})");
  std::string body = WriteTestFile("forged-review.json", review);
  absl::StatusOr<CommandResult> r = RunCommand(
      {"/usr/bin/curl", "-sS", "-o", "/dev/stdout", "-w", "\n%{http_code}", "--cacert",
       certs().ca_file, "-H", "Content-Type: application/json", "--data-binary",
       absl::StrCat("@", body), absl::StrCat("https://127.0.0.1:", injector_port_, "/mutate-pods")});
  ASSERT_TRUE(r.ok()) << r.status();
  bool refused = absl::EndsWith(absl::StripTrailingAsciiWhitespace(r->output), "403");
  Record("a pod POSTs a made-up AdmissionReview to the webhook", "403, no slot claimed",
         refused ? "403 (not the API server's certificate)" : absl::StrCat("answered: ", r->output),
         refused);
  EXPECT_TRUE(SlotsUntouched());
}

// A claim whose pod never appears (here: the API server refuses the create with AlreadyExists
// after the webhook claimed a slot for it) is released within the claim TTL (10 s), not held.
TEST_F(AttackTest, AClaimWhosePodIsNeverCreatedIsReleased) {
  AdmitGuest("g1");
  ASSERT_TRUE(WaitUsage({kTypeSlots - 1, 1}));
  CommandResult again = MemberCreate("g1-again", PodYaml("g1", GuestLabels(), "{}", Pause()));
  ASSERT_NE(again.exit_code, 0) << again.output;
  ASSERT_TRUE(absl::StrContains(again.output, "AlreadyExists") ||
              absl::StrContains(again.output, "already exists"))
      << again.output;
  // The claim for the refused pod holds the second slot for a moment, then gives it back.
  ::testing::AssertionResult held = WaitUsage({0, kTypeSlots}, kType, absl::Seconds(10));
  ::testing::AssertionResult back =
      held ? WaitUsage({kTypeSlots - 1, 1}, kType, absl::Seconds(20)) : held;
  Record("create an existing guest's name again (AlreadyExists)", "its claim released within 20 s",
         !held ? absl::StrCat("the claim was never seen: ", held.message())
         : back ? "released"
                : absl::StrCat("still held after 20 s: ", back.message()),
         back);
}

// The queue's doors (docs/queue.md): a member whose guest waits in line tries to let it out
// early, to change what it waits for, or to jump the line with a copied or made-up ticket.
TEST_F(AttackTest, JumpTheQueue) {
  AdmitGuest("g1");
  AdmitGuest("g2");
  ASSERT_TRUE(WaitUsage({0, kTypeSlots}));
  CommandResult waits = MemberCreate("w1", PodYaml("w1", GuestLabels(), "{}", Pause()));
  ASSERT_EQ(waits.exit_code, 0) << waits.output;
  rapidjson::Document w1 = CreatedObject(waits);
  ASSERT_TRUE(w1.IsObject());
  std::string ticket = Annotations(w1)["labkube.io/queue-ticket"];
  ASSERT_FALSE(ticket.empty());

  CommandResult ungate = AsMember({"patch", "pod", "w1", "--type=json", "-p",
                                   R"([{"op":"remove","path":"/spec/schedulingGates/0"}])"});
  Record("remove the labkube.io/queue gate of one's waiting pod", "refused by the policy",
         Gist(ungate), ungate.exit_code != 0);
  CommandResult retype = AsMember({"annotate", "pod", "w1", "--overwrite",
                                   "labkube.io/waiting=other/type"});
  Record("change a waiting pod's labkube.io/ annotations", "refused by the policy", Gist(retype),
         retype.exit_code != 0);
  // The ticket copied onto a pod that skips the webhook's queue (another name: it does not match).
  std::string copied = absl::StrCat("{labkube.io/queue-ticket: '", ticket, "'}");
  CommandResult copy = MemberCreate(
      "w2", PodYaml("w2", GuestLabels(), copied,
                    absl::StrCat("  schedulingGates: [{name: labkube.io/queue}]\n", Pause())));
  rapidjson::Document w2 = copy.exit_code == 0 ? CreatedObject(copy) : rapidjson::Document();
  bool reissued = w2.IsObject() && Annotations(w2)["labkube.io/queue-ticket"] != ticket;
  Record("a new guest carrying another pod's queue ticket", "the webhook issues its own ticket",
         copy.exit_code != 0 ? Gist(copy)
         : reissued          ? "accepted with a ticket of its own (waits behind w1)"
                             : "accepted with the copied ticket",
         copy.exit_code != 0 || reissued);
  // Whatever happened above, the slots are still held by g1 and g2 only, and w1 still waits.
  bool still = StaysUsage({0, kTypeSlots}, absl::Seconds(3));
  auto now = client_->Get(kube::resources::Pods(), ns_, "w1");
  bool gated = now.ok() && json::Find(*now, {"spec", "schedulingGates"}) != nullptr &&
               Annotations(*now)["labkube.io/claim"].empty();
  Record("after the attempts above", "no slot taken; w1 still in line",
         still && gated ? "slots held by g1, g2; w1 waits" : "a slot moved", still && gated);
}

}  // namespace
}  // namespace labkube::it
