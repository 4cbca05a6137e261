#include "lib/kube/pod_list_decoder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/kube/client.h"
#include "lib/kube/json.h"
#include "lib/kube/types.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace labkube::kube {
namespace {

// A field added to one of these structs must be decoded in pod_list_decoder.cc (as in types.cc)
// and dumped by Dump() below; these sizes are there to make that hard to forget.
static_assert(sizeof(Pod) == 704 && sizeof(ObjectMeta) == 320 && sizeof(OwnerReference) == 136 &&
                  sizeof(Container) == 160 && sizeof(Toleration) == 144 && sizeof(Condition) == 128,
              "a field was added to types.h: decode it in pod_list_decoder.cc, dump it here");

// ---- Every field of a Pod as text, one "path=value" line each, to compare two decoders. ----

std::string Quote(const std::string& s) { return absl::StrCat("\"", absl::CHexEscape(s), "\""); }

std::string Text(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

void DumpMap(std::string& out, const std::string& path, const StringMap& m) {
  absl::StrAppend(&out, path, ".size=", m.size(), "\n");
  for (const auto& [k, v] : m) absl::StrAppend(&out, path, "[", Quote(k), "]=", Quote(v), "\n");
}

void DumpMeta(std::string& out, const ObjectMeta& m) {
  absl::StrAppend(&out, "name=", Quote(m.name), "\nnamespace=", Quote(m.namespace_),
                  "\nuid=", Quote(m.uid), "\nresourceVersion=", Quote(m.resource_version),
                  "\ngeneration=", m.generation, "\n");
  DumpMap(out, "labels", m.labels);
  DumpMap(out, "annotations", m.annotations);
  for (const OwnerReference& o : m.owner_references) {
    absl::StrAppend(&out, "ownerReference=", Quote(o.api_version), ",", Quote(o.kind), ",",
                    Quote(o.name), ",", Quote(o.uid), ",", o.controller, ",",
                    o.block_owner_deletion, "\n");
  }
  for (const std::string& f : m.finalizers) absl::StrAppend(&out, "finalizer=", Quote(f), "\n");
  absl::StrAppend(&out, "creationTimestamp=", Text(m.creation_timestamp), "\ndeletionTimestamp=",
                  m.deletion_timestamp ? Text(*m.deletion_timestamp) : "none", "\n");
}

void DumpContainers(std::string& out, const std::string& path, const std::vector<Container>& cs) {
  absl::StrAppend(&out, path, ".size=", cs.size(), "\n");
  for (size_t i = 0; i < cs.size(); ++i) {
    std::string at = absl::StrCat(path, "[", i, "]");
    absl::StrAppend(&out, at, ".name=", Quote(cs[i].name), "\n", at, ".image=", Quote(cs[i].image),
                    "\n");
    DumpMap(out, at + ".requests", cs[i].requests);
    DumpMap(out, at + ".limits", cs[i].limits);
  }
}

std::string Dump(const Pod& p) {
  std::string out;
  DumpMeta(out, p.metadata);
  absl::StrAppend(&out, "nodeName=", Quote(p.node_name),
                  "\nschedulerName=", Quote(p.scheduler_name),
                  "\npriorityClassName=", Quote(p.priority_class_name),
                  "\npriority=", p.priority ? absl::StrCat(*p.priority) : "none", "\n");
  DumpContainers(out, "containers", p.containers);
  DumpContainers(out, "initContainers", p.init_containers);
  DumpMap(out, "nodeSelector", p.node_selector);
  for (const Toleration& t : p.tolerations) {
    absl::StrAppend(&out, "toleration=", Quote(t.key), ",", Quote(t.operator_), ",", Quote(t.value),
                    ",", Quote(t.effect), ",",
                    t.toleration_seconds ? absl::StrCat(*t.toleration_seconds) : "none", "\n");
  }
  absl::StrAppend(&out, "hasAffinity=", p.has_affinity, "\nphase=", Quote(p.phase),
                  "\npodIP=", Quote(p.pod_ip), "\nreason=", Quote(p.reason),
                  "\nmessage=", Quote(p.message), "\n");
  for (const Condition& c : p.conditions) {
    absl::StrAppend(&out, "condition=", Quote(c.type), ",", Quote(c.status), ",", Quote(c.reason),
                    ",", Quote(c.message), "\n");
  }
  return out;
}

// ---- The two decoders. ----

// The existing path: RapidJSON document, then Decode<Pod> per item.
absl::StatusOr<std::vector<Pod>> RapidJsonPods(std::string_view body) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.status();
  ObjectList list;
  list.doc = std::move(*doc);
  return DecodeList<Pod>(list);
}

std::string List(const std::vector<std::string>& items) {
  return absl::StrCat(R"({"kind":"PodList","apiVersion":"v1",)",
                      R"("metadata":{"resourceVersion":"4242","continue":"next-page"},"items":[)",
                      absl::StrJoin(items, ","), "]}");
}

// Both decoders accept `body` and give the same Pods; returns how many.
size_t ExpectSamePods(const std::string& body) {
  auto want = RapidJsonPods(body);
  EXPECT_TRUE(want.ok()) << want.status();
  auto got = DecodePodList(body);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!want.ok() || !got.ok()) return 0;
  EXPECT_EQ(got->items.size(), want->size());
  for (size_t i = 0; i < got->items.size() && i < want->size(); ++i) {
    EXPECT_EQ(Dump(got->items[i]), Dump((*want)[i])) << "items[" << i << "]";
  }
  return got->items.size();
}

// Both decoders reject the list of `items` with the same message; returns it.
std::string SameError(const std::vector<std::string>& items) {
  std::string body = List(items);
  auto want = RapidJsonPods(body);
  auto got = DecodePodList(body);
  EXPECT_FALSE(want.ok()) << body;
  EXPECT_FALSE(got.ok()) << body;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(), want.status().message()) << body;
  return std::string(got.status().message());
}

// ---- Pods captured from the real API server (services/injector/testdata). ----

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// services/injector/testdata/admission, a data dependency (runfiles; the test runs in them).
std::filesystem::path CapturesDir() { return "services/injector/testdata/admission"; }

std::string Pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return buffer.GetString();
}

// The request.object of every captured AdmissionReview (captured-*.json), as JSON text (pretty
// or compact), sorted by file name.
std::vector<std::string> CapturedPods(bool pretty) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(CapturesDir(), error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("captured-", 0) == 0 && entry.path().extension() == ".json") {
      files.push_back(entry.path().string());
    }
  }
  EXPECT_FALSE(error) << CapturesDir() << ": " << error.message();
  std::sort(files.begin(), files.end());
  std::vector<std::string> pods;
  for (const std::string& file : files) {
    auto doc = json::Parse(ReadFile(file));
    EXPECT_TRUE(doc.ok()) << file << ": " << doc.status();
    const rapidjson::Value* pod = doc.ok() ? json::Find(*doc, {"request", "object"}) : nullptr;
    EXPECT_TRUE(pod != nullptr && pod->IsObject()) << file;
    if (pod != nullptr) pods.push_back(pretty ? Pretty(*pod) : json::ToString(*pod));
  }
  return pods;
}

TEST(PodListDecoderTest, CapturedPodsAsRapidJson) {
  for (bool pretty : {false, true}) {
    std::vector<std::string> pods = CapturedPods(pretty);
    ASSERT_GE(pods.size(), 3u);  // a Deployment's pod, a dry run, a multi-container pod
    std::string body = List(pods);
    EXPECT_EQ(ExpectSamePods(body), pods.size());
    auto list = DecodePodList(body);
    ASSERT_TRUE(list.ok()) << list.status();
    EXPECT_EQ(list->resource_version, "4242");
    EXPECT_EQ(list->continue_token, "next-page");
    const Pod& multi = list->items[2];  // captured-multi-container-pod: not only empty values
    EXPECT_EQ(multi.metadata.name, "multi");
    EXPECT_EQ(multi.containers.at(1).requests.at("ephemeral-storage"), "10Gi");
    EXPECT_EQ(multi.tolerations.at(2).toleration_seconds, 300);
    EXPECT_TRUE(multi.has_affinity && multi.priority == 0 && multi.init_containers.size() == 1);
  }
}

// ---- Synthetic Pods: every field absent, null or of each accepted shape, in any order. ----

// Alternatives for one field: "" leaves it out; %d is the pod's number.
struct Field {
  const char* key;
  std::vector<const char*> values;
};

const char kContainers[] =
    R"([{"name":"main","image":"r/m:%d","env":[{"name":"A","value":"1"}],)"
    R"("resources":{"requests":{"cpu":"500m","memory":1.5,"nvidia.com/gpu":1,"x":1e2,)"
    R"("big":18446744073709551615,"neg":-3,"tiny":1e-400,"z":-0},"limits":null}},)"
    R"({"name":"side","resources":{}},{"resources":null},{},)"
    R"({"resources":{"limits":{"cpu":"1","cpu":"2"},"requests":{}},"n\u0061me":"escaped-key"}])";

const std::vector<Field> kMeta = {
    {"name", {"", "null", R"("pod-%d")", R"("caf\u00e9-%d \ud83d\ude00")"}},
    {"namespace", {"", "null", R"("team-a")", R"("")"}},
    {"uid", {"", R"("uid-%d")", "null"}},
    {"resourceVersion", {"", R"("%d")"}},
    {"generation", {"", "null", "0", "-0", "%d", "9223372036854775807", "-9223372036854775808"}},
    {"labels", {"", "null", "{}", R"({"b":"%d","a":"","b":"dup"})", R"({"k\"q\\":"v\n\t"})"}},
    {"annotations", {"", R"({"last-applied":"{\"apiVersion\":\"v1\"}"})", "null"}},
    {"finalizers", {"", "null", "[]", R"(["a","b\u0000c"])"}},
    {"creationTimestamp",
     {"", "null", R"("2024-05-01T10:00:00Z")", R"("2024-02-30T23:59:60Z")",
      R"("2024-05-01T10:00:00.123456789+05:30")"}},
    {"deletionTimestamp", {"", "null", R"("2024-05-01T11:30:15.5+02:00")"}},
    {"ownerReferences",
     {"", "null", "[]",
      R"([{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r","uid":"u","controller":true,)"
      R"("blockOwnerDeletion":false},{"controller":null}])"}},
    {"managedFields", {"", R"([{"manager":"kubectl","fieldsV1":{"f:spec":{}}}])"}},
};
const std::vector<Field> kSpec = {
    {"nodeName", {"", "null", R"("node-%d")"}},
    {"schedulerName", {"", R"("default-scheduler")", "null"}},
    {"priorityClassName", {"", R"("high")"}},
    {"priority", {"", "null", "0", "-5", "2147483647", "4294967297", "%d"}},
    {"containers", {"", "null", "[]", kContainers}},
    {"initContainers", {"", R"([{"name":"init","resources":{"requests":{"cpu":"1"}}}])", "[]"}},
    {"nodeSelector", {"", "null", R"({"pool":"a100","pool":"v100"})"}},
    {"affinity", {"", "null", "{}", R"({"nodeAffinity":{}})"}},
    {"tolerations",
     {"", "null", "[]",
      R"([{"key":"k","operator":"Exists","effect":"NoSchedule","tolerationSeconds":-1},)"
      R"({"tolerationSeconds":null,"value":"v"},{}])"}},
    {"volumes", {"", R"([{"name":"v","projected":{"sources":[{"x":[1,2.5,true,null]}]}}])"}},
};
const std::vector<Field> kStatus = {
    {"phase", {"", R"("Running")", "null"}},
    {"podIP", {"", R"("10.0.%d.7")"}},
    {"reason", {"", R"("Evicted")"}},
    {"message", {"", R"("The node was low on resource: memory. \u00e9")"}},
    {"conditions",
     {"", "null", "[]",
      R"([{"type":"Ready","status":"True","reason":null,"message":"m"},{"type":"X"}])"}},
    {"qosClass", {"", R"("Burstable")"}},
};

// Object `fields` for pod `i`: each field's alternative picked by (i * prime) % count.
std::string Object(const std::vector<Field>& fields, int i) {
  std::vector<std::string> members;
  int prime = 7;
  for (const Field& f : fields) {
    const char* v = f.values[(i * prime + prime / 3) % f.values.size()];
    prime = prime * 3 % 101 + 2;
    if (*v == '\0') continue;
    std::string value = absl::StrReplaceAll(v, {{"%d", absl::StrCat(i)}});
    const char* colon = i % 4 == 1 ? "\" : " : i % 4 == 2 ? "\"\n\t:\r\n " : "\":";
    members.push_back(absl::StrCat("\"", f.key, colon, value));
  }
  if (i % 3 == 1) std::reverse(members.begin(), members.end());
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

std::string SyntheticPod(int i) {
  std::vector<std::string> parts = {R"("kind":"Pod")"};
  if (i % 11 != 3) parts.push_back(absl::StrCat(R"("metadata":)", Object(kMeta, i)));
  if (i % 13 != 5) parts.push_back(absl::StrCat(R"("spec":)", Object(kSpec, i)));
  if (i % 7 != 2) parts.push_back(absl::StrCat(R"("status":)", Object(kStatus, i)));
  if (i % 19 == 6) parts.push_back(R"("metadata":null)");
  if (i % 2 == 1) std::reverse(parts.begin(), parts.end());
  // Repeated keys: only the first occurrence counts.
  if (i % 17 == 4)
    parts.push_back(R"("spec":null,"metadata":{"name":"second"},"status":{"phase":"2nd"})");
  return absl::StrCat("{", absl::StrJoin(parts, ",\n  "), "}");
}

std::vector<std::string> SyntheticPods(int n) {
  std::vector<std::string> pods;
  for (int i = 0; i < n; ++i) pods.push_back(SyntheticPod(i));
  return pods;
}

TEST(PodListDecoderTest, SyntheticPodsAsRapidJson) {
  EXPECT_EQ(ExpectSamePods(List(SyntheticPods(500))), 500u);
  EXPECT_EQ(ExpectSamePods(R"({"items":[]})"), 0u);
  EXPECT_EQ(ExpectSamePods(R"({"items":[{}],"items":[{},{}]})"), 1u);  // first occurrence
}

TEST(PodListDecoderTest, SameFieldsAsTypesTest) {
  std::string pod = absl::StrCat(
      R"({"metadata":{"namespace":"team-a","labels":{"b":"1","a":"","b":"dup"}},)",
      R"("spec":{"containers":)", absl::StrReplaceAll(kContainers, {{"%d", "1"}}), "}}");
  EXPECT_EQ(ExpectSamePods(List({pod})), 1u);
  auto list = DecodePodList(List({pod}));
  ASSERT_TRUE(list.ok()) << list.status();
  const Pod& p = list->items[0];
  EXPECT_EQ(p.metadata.namespace_, "team-a");
  EXPECT_EQ(p.metadata.labels.at("b"), "1");  // the first of two "b"
  ASSERT_EQ(p.containers.size(), 5u);
  EXPECT_EQ(p.containers[0].requests.at("memory"), "1.5");
  EXPECT_EQ(p.containers[0].requests.at("x"), "100");
  EXPECT_EQ(p.containers[0].requests.at("nvidia.com/gpu"), "1");
  EXPECT_EQ(p.containers[4].name, "escaped-key");
  EXPECT_EQ(p.containers[4].limits.at("cpu"), "1");
}

// ---- Wrong types: the same message from both decoders. ----

// Pods with fields of the wrong type; several have more than one, in another order than
// types.cc checks them.
const char* const kWrongTypes[] = {
    R"({"metadata":{"name":"p","namespace":"n","labels":{"a":1}}})",
    R"({"spec":{"tolerations":[{"tolerationSeconds":"x"}]}})",
    R"({"spec":{"tolerations":[{"tolerationSeconds":1.5}]}})",
    R"({"spec":{"priority":9223372036854775808}})",
    R"({"spec":{"priority":-9223372036854775809}})",
    R"({"spec":{"containers":{}}})",
    R"({"spec":[]})",
    R"({"metadata":"x"})",
    R"({"status":5})",
    R"({"metadata":{"creationTimestamp":"yesterday"}})",
    R"({"metadata":{"creationTimestamp":"2024-13-01T10:00:00Z"}})",
    R"({"metadata":{"deletionTimestamp":5}})",
    R"({"status":{"conditions":[1]}})",
    R"({"status":{"conditions":[null]}})",
    R"({"metadata":{"finalizers":["a",1]}})",
    R"({"metadata":{"finalizers":"a"}})",
    R"({"metadata":{"ownerReferences":[{"controller":"yes"}]}})",
    R"({"metadata":{"generation":"1","name":"bad"}})",
    R"({"spec":{"affinity":[]}})",
    R"({"spec":{"nodeSelector":{"a":null}}})",
    R"({"spec":{"nodeSelector":{"a":1}}})",
    R"({"metadata":{"uid":1,"name":2,"labels":{"a":1}},"spec":{"nodeName":1}})",
    R"({"status":{"phase":1},"spec":{"nodeName":1},"metadata":{"namespace":"n","name":"p","uid":1}})",
    R"({"spec":{"containers":[{"resources":{"limits":{"cpu":[]},"requests":{"cpu":{}}}}]}})",
    R"({"spec":{"containers":[{"image":1,"name":2}],"nodeName":3}})",
    R"({"spec":{"containers":[{"resources":[]}]}})",
    R"({"metadata":{"name":1,"name":"ok"}})",
    R"({"metadata":{"labels":{"a\u0000b":1}}})",
    R"({"metadata":{"name":"a\u0000b","uid":1}})",
    R"({"metadata":{"namespace":"","name":"p","uid":1}})",
    R"({"metadata":{"namespace":"n"},"metadata":{"uid":1}})",
    "null",
    R"("pod")",
    "[]"};

TEST(PodListDecoderTest, WrongTypesAsRapidJson) {
  const std::string good = SyntheticPod(40);
  EXPECT_EQ(SameError({good, R"({"spec":{"containers":[{},{"resources":{"requests":{"cpu":true}}}]},
                                "metadata":{"name":"web-1","namespace":"team-a"}})"}),
            "items[1]: Pod team-a/web-1: spec.containers[1].resources.requests.cpu: must be a "
            "quantity");
  EXPECT_EQ(SameError({"5"}), "items[0]: Pod: not an object");
  for (const char* bad : kWrongTypes) {
    SameError({good, bad, "7"});
  }
}

// ---- Bad lists and malformed JSON: a clear error, never a crash. ----

void ExpectError(const std::string& body, const std::string& start) {
  auto got = DecodePodList(body);
  ASSERT_FALSE(got.ok()) << body;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message().substr(0, start.size()), start)
      << body << " -> " << got.status();
}

TEST(PodListDecoderTest, BadLists) {
  for (const char* body : {"[]", "5", R"("x")", "null", "true"}) {
    ExpectError(body, "PodList: not an object");
  }
  ExpectError(R"({"items":{}})", "items: must be a list");
  ExpectError(R"({"items":5})", "items: must be a list");
  ExpectError(R"({"metadata":[]})", "metadata: must be an object");
  ExpectError(R"({"metadata":{"resourceVersion":5}})",
              "metadata.resourceVersion: must be a string");
  ExpectError(R"({"metadata":{"continue":true}})", "metadata.continue: must be a string");
  auto empty = DecodePodList(R"({"items":null,"metadata":null})");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->items.empty());
}

TEST(PodListDecoderTest, MalformedJson) {
  for (std::string body :
       {"", "   ", "{", R"({"items":[)", R"({"items":[}])",
        R"({"items":[{"metadata":{"name":tru}}]})", R"({"items":[{"spec":{"priority":1.5.5}}]})",
        R"({"items":[{"spec":{"priority":-}}]})", R"({"items":[]} junk)", R"({"items":[]} {})",
        R"({"items":[]}})", R"({"items":[{"metadata":{"name":"a\x"}}]})", R"({"items":[{"a" 1}]})",
        R"({"items":[{"metadata":{"name":"a)"
        "\x01"
        R"("}}]})",
        R"({"items":[{"metadata":{"name":"\ud800"}}]})", R"({"items":[{"status":{"phase":nul}}]})",
        R"({"items":[{"metadata":{"labels":{"a":"b",}}}]})",
        R"({"items":[{"spec":{"priority":1e400}}]})"}) {
    ExpectError(body, "invalid JSON");
    EXPECT_FALSE(json::Parse(body).ok()) << body;  // RapidJSON agrees
  }
  std::string body = List({SyntheticPod(40), SyntheticPod(41)});
  for (size_t n = 0; n < body.size(); ++n) {  // every truncation
    EXPECT_EQ(DecodePodList(body.substr(0, n)).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// The differences on malformed JSON that pod_list_decoder.h names: simdjson checks UTF-8
// everywhere (RapidJSON copies such bytes), but not the values it skips.
TEST(PodListDecoderTest, DocumentedDifferences) {
  std::string utf8 = R"({"items":[{"metadata":{"name":")"
                     "\xff\xfe"
                     R"("}}]})";
  ExpectError(utf8, "invalid JSON");
  EXPECT_TRUE(RapidJsonPods(utf8).ok());
  std::string skipped = R"({"items":[{"metadata":{"name":"a","managedFields":[1 2]}}]})";
  EXPECT_FALSE(json::Parse(skipped).ok());
  auto got = DecodePodList(skipped);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->items.at(0).metadata.name, "a");
}

// Whether the existing path's list-level leniency (see pod_list_decoder.h) is not involved.
bool PlainList(const rapidjson::Document& doc) {
  using V = rapidjson::Value;
  auto ok = [](const V* v, bool (V::*is)() const) {
    return v == nullptr || v->IsNull() || (v->*is)();
  };
  return doc.IsObject() && ok(json::FindMember(doc, "items"), &V::IsArray) &&
         ok(json::FindMember(doc, "metadata"), &V::IsObject) &&
         ok(json::Find(doc, {"metadata", "resourceVersion"}), &V::IsString) &&
         ok(json::Find(doc, {"metadata", "continue"}), &V::IsString);
}

// One byte replaced anywhere: whenever RapidJSON reads valid JSON, both decoders agree.
TEST(PodListDecoderTest, MutatedBodiesAgree) {
  const std::string body = List({SyntheticPod(40), SyntheticPod(3)});
  int compared = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    for (char c : std::string("\"{}[],:1 -.\\nx")) {
      std::string mutated = body;
      mutated[i] = c;
      auto doc = json::Parse(mutated);
      auto got = DecodePodList(mutated);  // must not crash, whatever it returns
      if (!doc.ok() || !PlainList(*doc)) continue;
      auto want = RapidJsonPods(mutated);
      ASSERT_EQ(got.ok(), want.ok()) << mutated << "\n" << got.status() << "\n" << want.status();
      ++compared;
      if (!want.ok()) {
        EXPECT_EQ(got.status().message(), want.status().message()) << mutated;
        continue;
      }
      ASSERT_EQ(got->items.size(), want->size());
      for (size_t p = 0; p < want->size(); ++p) EXPECT_EQ(Dump(got->items[p]), Dump((*want)[p]));
    }
  }
  EXPECT_GT(compared, 1000);
}

// A reused decoder; bodies with and without room for simdjson's padding.
TEST(PodListDecoderTest, ReusedDecoderInPlaceAndCopied) {
  PodListDecoder decoder;
  std::string big = List(SyntheticPods(200));
  std::string small = List({SyntheticPod(7)});
  auto first = decoder.Decode(big);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(decoder.Decode(R"({"items":[1]})").ok());
  auto second = decoder.Decode(small);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(Dump(second->items[0]), Dump(DecodePodList(small)->items[0]));
  big.reserve(big.size() + simdjson::SIMDJSON_PADDING);
  auto in_place = decoder.Decode(big, big.capacity());
  ASSERT_TRUE(in_place.ok()) << in_place.status();
  ASSERT_EQ(in_place->items.size(), first->items.size());
  for (size_t i = 0; i < first->items.size(); ++i) {
    EXPECT_EQ(Dump(in_place->items[i]), Dump(first->items[i]));
  }
}

}  // namespace
}  // namespace labkube::kube
