// `kubectl apply -k` a second time changes nothing, and `kubectl delete -k` removes everything
// labkube made (after `kubectl delete machines --all`, docs/install.md): checked by listing
// every kind labkube writes for its labels and names. Destroys the install: run it last
// (`./dev.sh test` does), with LABKUBE_KUBECONFIG, KUBECTL and LABKUBE_KUSTOMIZATION (the
// overlay directory the lab was installed from; `eval "$(tools/lab.sh env)"`).
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace labkube::it {
namespace {

std::string Kustomization() {
  const char* k = std::getenv("LABKUBE_KUSTOMIZATION");
  return k != nullptr ? k : "";
}

CommandResult KubectlRun(const std::vector<std::string>& args, absl::Duration timeout = absl::Seconds(180)) {
  absl::StatusOr<std::string> kubeconfig = Kubeconfig();
  std::vector<std::string> argv = {KubectlPath(), "--kubeconfig", kubeconfig.ok() ? *kubeconfig : ""};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> r = RunCommand(argv, timeout);
  return r.ok() ? *r : CommandResult{-1, r.status().ToString()};
}

TEST(UninstallTest, ApplyTwiceChangesNothingAndDeleteLeavesNothing) {
  if (Kustomization().empty() || !Kubeconfig().ok()) {
    GTEST_SKIP() << "needs the in-cluster lab: eval \"$(tools/lab.sh env)\"";
  }
  CommandResult diff = KubectlRun({"diff", "-k", Kustomization()});
  EXPECT_EQ(diff.exit_code, 0) << "the installed objects differ from the manifests:\n"
                               << diff.output;
  CommandResult again = KubectlRun({"apply", "-k", Kustomization()});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  // kubectl reports every PodDisruptionBudget as "configured" (its selector's patch strategy is
  // "replace", so it is always sent) although nothing changes; the diff above is the proof.
  for (absl::string_view line : absl::StrSplit(again.output, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "poddisruptionbudget.policy/")) continue;
    EXPECT_TRUE(absl::EndsWith(line, " unchanged")) << "a second apply changed: " << line;
  }

  // The documented order: Machines first, while the scheduler runs, so it takes its labels and
  // taints off the nodes; then delete -k (which would not hang either way: no finalizers).
  CommandResult machines = KubectlRun({"delete", "machines", "--all", "--wait", "--timeout=60s"});
  EXPECT_EQ(machines.exit_code, 0) << machines.output;
  std::string marks;
  EXPECT_TRUE(WaitFor([&] {
    CommandResult nodes = KubectlRun({"get", "nodes", "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.metadata.labels} {.spec.taints}{\"\\n\"}{end}"});
    marks.clear();
    for (absl::string_view line : absl::StrSplit(nodes.output, '\n', absl::SkipEmpty())) {
      std::string l(line);
      absl::StrReplaceAll({{"labkube.io/system-node", ""}}, &l);
      if (absl::StrContains(l, "labkube.io/")) marks += std::string(line) + "\n";
    }
    return nodes.exit_code == 0 && marks.empty();
  }, absl::Seconds(60))) << "nodes still carry labkube's marks:\n" << marks;
  CommandResult del = KubectlRun({"delete", "-k", Kustomization(), "--wait", "--timeout=180s"}, absl::Seconds(240));
  EXPECT_EQ(del.exit_code, 0) << del.output;

  // Everything labkube made: by its part-of label, and by name where objects carry none.
  const std::string kinds =
      "namespaces,clusterroles,clusterrolebindings,mutatingwebhookconfigurations,"
      "validatingadmissionpolicies,validatingadmissionpolicybindings,priorityclasses,"
      "customresourcedefinitions";
  CommandResult left = KubectlRun({"get", kinds, "-l", "app.kubernetes.io/part-of=labkube", "-o", "name"});
  EXPECT_EQ(left.exit_code, 0) << left.output;
  EXPECT_EQ(absl::StripAsciiWhitespace(left.output), "") << "left after delete -k:\n" << left.output;
  CommandResult named = KubectlRun({"get", kinds, "-o", "name"});
  // labkube's names: labkube-*, the Machine CRD. (Not labkube:coredns, the local lab's cluster
  // DNS, nor CRDs of other tests under test.labkube.io.)
  for (absl::string_view line : absl::StrSplit(named.output, '\n', absl::SkipEmpty())) {
    absl::string_view name = line.substr(line.find('/') + 1);
    EXPECT_FALSE(absl::StartsWith(name, "labkube-") || name == "machines.labkube.io")
        << "left after delete -k: " << line;
  }
  CommandResult ns = KubectlRun({"get", "namespace", "labkube-system", "-o", "name"});
  EXPECT_NE(ns.exit_code, 0) << "labkube-system still exists: " << ns.output;
}

}  // namespace
}  // namespace labkube::it
