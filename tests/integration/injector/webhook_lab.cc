#include "tests/integration/injector/webhook_lab.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using rapidjson::Value;

constexpr char kWebhookManifest[] = "k8s/injector/webhook.yaml";

std::string Str(const Value& v, json::Path path) { return std::string(json::GetString(v, path)); }

std::string TmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string OpenSsl() {
  for (const char* p : {"/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "openssl";
}

absl::Status Run(const std::vector<std::string>& argv) {
  absl::StatusOr<CommandResult> r = RunCommand(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(argv, " "), " exited ", r->exit_code, ": ", r->output));
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> StringMap(const Value* m) {
  std::map<std::string, std::string> out;
  if (m == nullptr || !m->IsObject()) return out;
  for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
    if (it->value.IsString()) out[std::string(json::View(it->name))] = json::View(it->value);
  }
  return out;
}

}  // namespace

absl::StatusOr<ServingCerts> MakeServingCerts(const std::string& dir) {
  std::filesystem::create_directories(dir);
  ServingCerts c{dir + "/ca.crt", dir + "/tls.crt", dir + "/tls.key"};
  std::string ca_key = dir + "/ca.key", csr = dir + "/tls.csr", ext = dir + "/san.ext";
  std::string openssl = OpenSsl();
  absl::Status s = Run({openssl,
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-nodes",
                        "-days",
                        "2",
                        "-subj",
                        "/CN=labkube-it-injector-ca",
                        "-addext",
                        "basicConstraints=critical,CA:TRUE",
                        "-addext",
                        "keyUsage=critical,keyCertSign,cRLSign",
                        "-keyout",
                        ca_key,
                        "-out",
                        c.ca_file});
  if (!s.ok()) return s;
  s = Run({openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-subj", "/CN=127.0.0.1", "-keyout", c.key_file, "-out", csr});
  if (!s.ok()) return s;
  std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                        "extendedKeyUsage=serverAuth\n"
                        "keyUsage=critical,digitalSignature,keyEncipherment\n";
  s = Run({openssl, "x509", "-req", "-in", csr, "-CA", c.ca_file, "-CAkey", ca_key,
           "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", c.cert_file});
  if (!s.ok()) return s;
  return c;
}

std::string WriteTestFile(const std::string& name, const std::string& text) {
  std::string path = absl::StrCat(TmpDir(), "/", UniqueName(name));
  std::ofstream(path) << text;
  return path;
}

CommandResult RunKubectl(const std::vector<std::string>& args, absl::Duration timeout) {
  absl::StatusOr<std::string> kubeconfig = Kubeconfig();
  std::vector<std::string> argv{KubectlPath(),
                                absl::StrCat("--kubeconfig=", kubeconfig.value_or(""))};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> r = RunCommand(argv, timeout);
  if (!r.ok()) return CommandResult{-1, r.status().ToString()};
  return *r;
}

std::string GuestPodYaml(const std::string& ns, const std::string& name, const std::string& group,
                         const std::string& type) {
  constexpr char kTemplate[] = R"(apiVersion: v1
kind: Pod
metadata:
  name: $NAME
  namespace: $NS
  labels:
    labkube.io/pod-role: guest
    labkube.io/machine-group: $GROUP
    labkube.io/machine-type: $TYPE
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: main
      image: $IMAGE
)";
  return absl::StrReplaceAll(
      kTemplate,
      {{"$NAME", name}, {"$NS", ns}, {"$GROUP", group}, {"$TYPE", type}, {"$IMAGE", kPauseImage}});
}

std::map<std::string, std::string> Labels(const Value& obj) {
  return StringMap(json::Find(obj, {"metadata", "labels"}));
}

std::map<std::string, std::string> Annotations(const Value& obj) {
  return StringMap(json::Find(obj, {"metadata", "annotations"}));
}

// --- Fixture -----------------------------------------------------------------------------------

void WebhookLabTest::SetUp() {
  auto client = ClusterClient();
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = std::move(*client);
  ASSERT_NO_FATAL_FAILURE(RefuseSharedLab());
  ASSERT_NO_FATAL_FAILURE(DeleteLeftovers());
  ASSERT_NO_FATAL_FAILURE(RefuseForeignWebhooks());
  auto certs = MakeServingCerts(absl::StrCat(TmpDir(), "/pki"));
  ASSERT_TRUE(certs.ok()) << certs.status();
  certs_ = *certs;
}

void WebhookLabTest::TearDown() {
  if (client_ == nullptr) return;
  DeleteWebhook();
  for (const std::string& ns : namespaces_) DeleteNamespace(ns);
  namespaces_.clear();
}

// The shared lab of `./dev.sh up` (the default state folder) runs its own injector webhook.
void WebhookLabTest::RefuseSharedLab() {
  std::string cache = std::getenv("LABKUBE_CACHE") != nullptr ? std::getenv("LABKUBE_CACHE") : "";
  if (cache.empty() && std::getenv("HOME") != nullptr) {
    cache = absl::StrCat(std::getenv("HOME"), "/.cache/labkube");
  }
  std::error_code ec;
  auto shared = std::filesystem::weakly_canonical(absl::StrCat(cache, "/state/kubeconfig"), ec);
  auto ours = std::filesystem::weakly_canonical(*Kubeconfig(), ec);
  ASSERT_NE(ours, shared) << "LABKUBE_KUBECONFIG is the kubeconfig of the shared local lab ("
                          << shared
                          << "). Run these tests against a cluster of their own: "
                             "LABKUBE_STATE=/tmp/lk/inj-state tests/cluster/cluster.sh up, then "
                             "pass that cluster's LABKUBE_KUBECONFIG (cluster.sh env).";
}

// Another registration of the injector (e.g. `tools/services.sh up`) would be called for our
// guest pods as well.
void WebhookLabTest::RefuseForeignWebhooks() {
  auto list = client_->List(res::MutatingWebhookConfigurations(), "", {});
  ASSERT_TRUE(list.ok()) << list.status();
  for (const Value& config : list->items().GetArray()) {
    const Value* hooks = json::Find(config, {"webhooks"});
    if (hooks == nullptr || !hooks->IsArray()) continue;
    for (const Value& hook : hooks->GetArray()) {
      ASSERT_NE(Str(hook, {"name"}), kWebhookName)
          << "MutatingWebhookConfiguration " << Str(config, {"metadata", "name"})
          << " already registers " << kWebhookName
          << " on this cluster; run these tests against a cluster of their own.";
    }
  }
}

// What crashed runs left: their webhook configurations first, then their namespaces.
void WebhookLabTest::DeleteLeftovers() {
  kube::ListOptions ours;
  ours.label_selector = absl::StrCat(kItLabel, "=", kItValue);
  auto hooks = client_->List(res::MutatingWebhookConfigurations(), "", ours);
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  for (const Value& h : hooks->items().GetArray()) {
    ASSERT_TRUE(DeleteObject(*client_, res::MutatingWebhookConfigurations(), "",
                             Str(h, {"metadata", "name"}))
                    .ok());
  }
  auto namespaces = client_->List(res::Namespaces(), "", ours);
  ASSERT_TRUE(namespaces.ok()) << namespaces.status();
  for (const Value& ns : namespaces->items().GetArray()) {
    if (json::Find(ns, {"metadata", "deletionTimestamp"}) == nullptr) {
      DeleteNamespace(Str(ns, {"metadata", "name"}));
    }
  }
}

void WebhookLabTest::RegisterWebhook(int port) {
  // The manifest as JSON (parsed by kubectl, not sent anywhere).
  auto manifest =
      Kubectl({"create", "--dry-run=client", "-o", "json", "-f", Runfile(kWebhookManifest)});
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto doc = json::Parse(*manifest);
  ASSERT_TRUE(doc.ok()) << doc.status();
  Value* hooks = &(*doc)["webhooks"];
  ASSERT_TRUE(hooks->IsArray() && hooks->Size() == 1) << *manifest;
  auto& a = doc->GetAllocator();
  std::string name = UniqueName("it-injector");
  json::SetString(*doc, {"metadata", "name"}, name);
  json::SetString(*doc, {"metadata", "labels", kItLabel}, kItValue);
  Value client_config(rapidjson::kObjectType);
  client_config.AddMember(
      "url", json::String(absl::StrCat("https://127.0.0.1:", port, "/mutate-pods"), a), a);
  client_config.AddMember("caBundle", json::String(absl::Base64Escape(ReadFile(certs_.ca_file)), a),
                          a);
  json::Set((*hooks)[0], "clientConfig", std::move(client_config), a);
  webhook_ = name;  // before creating: TearDown deletes it whatever happens next
  auto created = client_->Create(res::MutatingWebhookConfigurations(), "", *doc);
  ASSERT_TRUE(created.ok()) << created.status();
}

void WebhookLabTest::DeleteWebhook() {
  if (webhook_.empty()) return;
  absl::Status s = DeleteObject(*client_, res::MutatingWebhookConfigurations(), "", webhook_);
  EXPECT_TRUE(s.ok()) << "could not delete webhook configuration " << webhook_ << ": " << s;
  if (s.ok()) webhook_.clear();
}

::testing::AssertionResult WebhookLabTest::WaitWebhookActive(
    const std::string& ns, const std::string& group, const std::string& type,
    const std::function<bool(const CommandResult&)>& answered, absl::Duration timeout) {
  std::string probe = WriteTestFile("probe.yaml", GuestPodYaml(ns, "webhook-probe", group, type));
  CommandResult last;
  bool ok = WaitFor(
      [&] {
        last = RunKubectl({"create", "--dry-run=server", "-o", "json", "-f", probe});
        return answered(last);
      },
      timeout, absl::Milliseconds(250));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "webhook " << webhook_ << " never answered a probe; last "
                                       << "kubectl exit " << last.exit_code << ": " << last.output;
}

std::string WebhookLabTest::CreateNamespace(const std::string& prefix, bool enabled) {
  std::string name = UniqueName(prefix);
  rapidjson::Document ns = json::NewObject("v1", "Namespace", "", name);
  json::SetString(ns, {"metadata", "labels", kItLabel}, kItValue);
  if (enabled) json::SetString(ns, {"metadata", "labels", kEnableLabel}, "enabled");
  auto created = client_->Create(res::Namespaces(), "", ns);
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return name;
  namespaces_.push_back(name);
  EXPECT_TRUE(WaitFor([&] { return client_->Get(res::ServiceAccounts(), name, "default").ok(); },
                      absl::Seconds(30)))
      << "namespace " << name << " got no default ServiceAccount";
  return name;
}

void WebhookLabTest::DeleteNamespace(const std::string& ns) {
  auto pods = client_->List(res::Pods(), ns, {});
  if (pods.ok()) {
    for (const Value& p : pods->items().GetArray()) {
      DeleteObject(*client_, res::Pods(), ns, Str(p, {"metadata", "name"}), 0).IgnoreError();
    }
  }
  EXPECT_TRUE(DeleteObject(*client_, res::Namespaces(), "", ns).ok()) << ns;
}

CommandResult WebhookLabTest::KubectlCreate(const std::string& yaml,
                                            const std::vector<std::string>& extra) {
  std::vector<std::string> args{"create", "-o", "json", "-f", WriteTestFile("create.yaml", yaml)};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunKubectl(args);
}

rapidjson::Document WebhookLabTest::CreatedObject(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Warnings (stderr) may surround the JSON object on the shared output.
  size_t begin = r.output.find('{'), end = r.output.rfind('}');
  if (r.exit_code != 0 || begin == std::string::npos || end == std::string::npos) {
    return rapidjson::Document();
  }
  auto doc = json::Parse(std::string_view(r.output).substr(begin, end - begin + 1));
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << r.output;
  return doc.ok() ? std::move(*doc) : rapidjson::Document();
}

absl::StatusOr<rapidjson::Document> WebhookLabTest::GetPod(const std::string& ns,
                                                           const std::string& name) {
  return client_->Get(res::Pods(), ns, name);
}

}  // namespace labkube::it
