// Captures the AdmissionReview bodies the real kube-apiserver POSTs to the webhook of
// k8s/injector/webhook.yaml, for services/injector/testdata/admission (the injector's unit tests
// run every file there). A small HTTPS server in the test stands in for the injector: it keeps
// each body and allows the pod unchanged. Captured: a Deployment's pod (generateName, owner
// reference, set by the ReplicaSet controller), a multi-container pod with init containers,
// existing affinity and tolerations, and a server-side dry run.
//
// The bodies are written to $LABKUBE_CAPTURE_DIR when set (e.g. the testdata folder:
// --test_env=LABKUBE_CAPTURE_DIR=$PWD/services/injector/testdata/admission), else to the test
// outputs, as captured-*.json (pretty-printed). The test checks that the API server sends what
// the injector relies on (admission.k8s.io/v1, CREATE of pods, dryRun, ?timeout=10s) and that
// the injector's parser reads every body.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "lib/http_server.h"
#include "lib/kube/json.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "services/injector/admission.h"
#include "tests/integration/injector/webhook_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
using rapidjson::Value;

constexpr char kGroup[] = "gpu-machines";
constexpr char kCaptureType[] = "rtx3090-x1";

struct Captured {
  std::string body;
  std::string timeout;  // the ?timeout= query parameter
  rapidjson::Document doc;
};

class CaptureServer {
 public:
  HttpResponse Handle(const HttpRequest& r) {
    Captured c{std::string(r.body), r.Param("timeout"), rapidjson::Document()};
    auto doc = json::Parse(r.body);
    std::string uid;
    if (doc.ok()) {
      uid = json::GetString(*doc, {"request", "uid"});
      c.doc = std::move(*doc);
    }
    {
      absl::MutexLock lock(&mu_);
      captured_.push_back(std::move(c));
    }
    rapidjson::Document answer = json::NewObject("admission.k8s.io/v1", "AdmissionReview", "", "");
    answer.RemoveMember("metadata");
    json::SetString(answer, {"response", "uid"}, uid);
    json::SetBool(answer, {"response", "allowed"}, true);
    return HttpResponse{200, "application/json", json::ToString(answer)};
  }

  // The first capture whose request.object has this name (or generateName prefix), if any.
  bool Find(const std::string& name, bool generate, Captured* out) {
    absl::MutexLock lock(&mu_);
    for (Captured& c : captured_) {
      if (!c.doc.IsObject()) continue;
      std::string_view field = generate ? "generateName" : "name";
      std::string_view got = json::GetString(c.doc, {"request", "object", "metadata", field});
      if (generate ? got.starts_with(name) : got == name) {
        *out = Captured{c.body, c.timeout, json::Copy(c.doc)};
        return true;
      }
    }
    return false;
  }

 private:
  absl::Mutex mu_;
  std::vector<Captured> captured_ ABSL_GUARDED_BY(mu_);
};

std::string Pretty(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string CaptureDir() {
  const char* dir = std::getenv("LABKUBE_CAPTURE_DIR");
  return dir != nullptr && *dir != '\0' ? dir : OutputDir();
}

constexpr char kDeploymentYaml[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: train, namespace: $NS, labels: {app: train}}
spec:
  replicas: 1
  selector: {matchLabels: {app: train}}
  template:
    metadata:
      labels:
        app: train
        labkube.io/pod-role: guest
        labkube.io/machine-group: $GROUP
        labkube.io/machine-type: $TYPE
        labkube.io/injecting-container: trainer
      annotations: {example.com/owner: vision}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: logger
          image: registry.k8s.io/pause:3.10
          resources: {requests: {cpu: 100m, memory: 64Mi}}
        - name: trainer
          image: registry.k8s.io/pause:3.10
          env: [{name: EPOCHS, value: "10"}]
)";

std::string DeploymentYaml(const std::string& ns) {
  return absl::StrReplaceAll(kDeploymentYaml,
                             {{"$NS", ns}, {"$GROUP", kGroup}, {"$TYPE", kCaptureType}});
}

constexpr char kMultiContainerPodYaml[] = R"(apiVersion: v1
kind: Pod
metadata:
  name: multi
  namespace: $NS
  labels:
    app: multi
    labkube.io/pod-role: guest
    labkube.io/machine-group: $GROUP
    labkube.io/machine-type: $TYPE
    labkube.io/injecting-container: worker
  annotations: {example.com/team: vision}
spec:
  terminationGracePeriodSeconds: 0
  initContainers:
    - name: fetch-data
      image: registry.k8s.io/pause:3.10
      resources: {requests: {cpu: 500m, memory: 256Mi}}
  containers:
    - name: sidecar
      image: registry.k8s.io/pause:3.10
      resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
    - name: worker
      image: registry.k8s.io/pause:3.10
      resources:
        requests: {cpu: "2", memory: 4Gi, ephemeral-storage: 10Gi}
        limits: {ephemeral-storage: 20Gi}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
          - matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]
            matchFields: [{key: metadata.name, operator: NotIn, values: [cpu-a]}]
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 10
          preference:
            matchExpressions: [{key: nvidia.com/gpu.family, operator: In, values: [ampere]}]
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 50
          podAffinityTerm:
            topologyKey: kubernetes.io/hostname
            labelSelector: {matchLabels: {app: multi}}
  tolerations:
    - {key: example.com/dedicated, operator: Equal, value: research, effect: NoSchedule}
    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 60}
)";

std::string MultiContainerPodYaml(const std::string& ns) {
  return absl::StrReplaceAll(kMultiContainerPodYaml,
                             {{"$NS", ns}, {"$GROUP", kGroup}, {"$TYPE", kCaptureType}});
}

using CaptureTest = WebhookLabTest;

TEST_F(CaptureTest, CapturesRealAdmissionReviews) {
  CaptureServer capture;
  HttpServerOptions o;
  o.address = "127.0.0.1";
  o.tls_cert_file = certs().cert_file;
  o.tls_key_file = certs().key_file;
  o.max_body_bytes = 3 << 20;
  auto server = HttpServer::Create(o);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Handle("POST", "/mutate-pods",
                    [&](const HttpRequest& r) { return capture.Handle(r); });
  ASSERT_TRUE((*server)->Start().ok());

  std::string ns = CreateNamespace("it-capture", /*enabled=*/true);
  ASSERT_NO_FATAL_FAILURE(RegisterWebhook((*server)->port()));
  Captured probe;
  ASSERT_TRUE(WaitWebhookActive(ns, kGroup, kCaptureType, [&](const CommandResult& r) {
    return r.exit_code == 0 && capture.Find("webhook-probe", false, &probe);
  }));

  CommandResult deployment = KubectlCreate(DeploymentYaml(ns));
  ASSERT_EQ(deployment.exit_code, 0) << deployment.output;
  CommandResult multi = KubectlCreate(MultiContainerPodYaml(ns));
  ASSERT_EQ(multi.exit_code, 0) << multi.output;
  CommandResult dry =
      KubectlCreate(GuestPodYaml(ns, "dry-run", kGroup, kCaptureType), {"--dry-run=server"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;

  struct Want {
    std::string file, name;
    bool generate, dry_run;
  } wants[] = {{"captured-deployment-pod.json", "train-", true, false},
               {"captured-multi-container-pod.json", "multi", false, false},
               {"captured-dry-run.json", "dry-run", false, true}};
  for (const Want& w : wants) {
    SCOPED_TRACE(w.file);
    Captured c;
    ASSERT_TRUE(WaitFor([&] { return capture.Find(w.name, w.generate, &c); }, absl::Seconds(30)))
        << "no review for " << w.name;
    std::string path = absl::StrCat(CaptureDir(), "/", w.file);
    std::ofstream(path) << Pretty(c.doc);
    std::cerr << "captured " << path << "\n";

    EXPECT_EQ(c.timeout, "10s") << "the webhook's timeoutSeconds is passed as ?timeout=";
    injector::ParsedReview parsed = injector::ParseAdmissionReview(c.body);
    ASSERT_TRUE(parsed.request.ok()) << parsed.request.status() << "\n" << c.body;
    const injector::AdmissionRequest& r = *parsed.request;
    EXPECT_EQ(json::GetString(c.doc, {"apiVersion"}), injector::kAdmissionApiVersion);
    EXPECT_EQ(r.operation, "CREATE");
    EXPECT_TRUE(r.IsPod());
    EXPECT_EQ(r.ns, ns);
    EXPECT_EQ(r.dry_run, w.dry_run);
    EXPECT_EQ(r.name, w.generate ? "" : w.name);
    // The pretty-printed file says the same.
    injector::ParsedReview reread = injector::ParseAdmissionReview(Pretty(c.doc));
    EXPECT_TRUE(reread.request.ok()) << reread.request.status();
  }
  Captured m;
  ASSERT_TRUE(capture.Find("multi", false, &m));
  EXPECT_NE(json::Find(m.doc, {"request", "object", "spec", "initContainers"}), nullptr);
  EXPECT_NE(json::Find(m.doc, {"request", "object", "spec", "affinity", "nodeAffinity"}), nullptr);
  Captured d;
  ASSERT_TRUE(capture.Find("train-", true, &d));
  EXPECT_NE(json::Find(d.doc, {"request", "object", "metadata", "ownerReferences"}), nullptr);

  DeleteWebhook();
  (*server)->Stop();
}

}  // namespace
}  // namespace labkube::it
