#include "lib/kube/compact_object.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::kube {
namespace {

std::string Dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  v.Accept(writer);
  return out.GetString();
}

rapidjson::Document ParseOk(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return std::move(doc).value();
}

// A pod as the API server lists it, managedFields included.
constexpr char kPod[] = R"({"metadata":{"name":"guest-with-a-long-name","namespace":"alice",
  "uid":"0f9e8d7c-6b5a-4321-9876-fedcba987654","labels":{"labkube.io/pod-role":"guest"},
  "managedFields":[{"manager":"kube-scheduler","operation":"Update","fieldsV1":{"f:status":{}}}]},
  "spec":{"nodeName":"gpu-node-1","containers":[{"name":"main","image":"jupyter/base:latest",
  "env":[{"name":"A","value":"a long value that nobody reads"}],
  "resources":{"requests":{"cpu":"8","memory":"32Gi"}}},{"name":"sidecar","image":"busybox",
  "resources":{"requests":{"cpu":"100m"}}}],"volumes":[{"name":"data","emptyDir":{}}]},
  "status":{"phase":"Running","podIP":"10.0.0.7","conditions":[{"type":"Ready","status":"True"}]}})";

TEST(CompactObjectTest, AnEmptyMaskKeepsEverythingButManagedFields) {
  rapidjson::Document pod = ParseOk(kPod);
  ObjectPtr copy = CompactCopy(pod, FieldMask());
  EXPECT_EQ(json::Find(*copy, {"metadata", "managedFields"}), nullptr);
  pod["metadata"].RemoveMember("managedFields");
  EXPECT_EQ(Dump(*copy), Dump(pod));
}

TEST(CompactObjectTest, KeepsOnlyTheMaskedPathsThroughArrays) {
  rapidjson::Document pod = ParseOk(kPod);
  FieldMask mask;
  mask.Keep({"spec", "nodeName"})
      .Keep({"spec", "containers", "resources"})
      .Keep({"status", "phase"});
  ObjectPtr copy = CompactCopy(pod, mask);
  EXPECT_EQ(Dump((*copy)["spec"]),
            R"({"nodeName":"gpu-node-1","containers":[{"resources":{"requests":{"cpu":"8",)"
            R"("memory":"32Gi"}}},{"resources":{"requests":{"cpu":"100m"}}}]})");
  EXPECT_EQ(Dump((*copy)["status"]), R"({"phase":"Running"})");
  // metadata is always kept whole (labels, annotations, uid), without managedFields.
  EXPECT_EQ(json::GetString(*copy, {"metadata", "uid"}), "0f9e8d7c-6b5a-4321-9876-fedcba987654");
  EXPECT_EQ(json::GetString(*copy, {"metadata", "labels", "labkube.io/pod-role"}), "guest");
  EXPECT_EQ(json::Find(*copy, {"metadata", "managedFields"}), nullptr);
}

TEST(CompactObjectTest, ValuesOfAnUnexpectedTypeAreKeptWhole) {
  rapidjson::Document pod = ParseOk(R"({"metadata":{"name":"p"},"spec":"not an object",
    "status":{"phase":7}})");
  FieldMask mask;
  mask.Keep({"spec", "nodeName"}).Keep({"status", "phase", "deeper"});
  ObjectPtr copy = CompactCopy(pod, mask);
  EXPECT_EQ(Dump(*copy),
            R"({"metadata":{"name":"p"},"spec":"not an object","status":{"phase":7}})");
}

TEST(CompactObjectTest, OneAllocationExactlyAsLargeAsTheCopy) {
  rapidjson::Document pod = ParseOk(kPod);
  for (const FieldMask& mask : {FieldMask(), FieldMask().Keep({"spec", "nodeName"})}) {
    ObjectPtr copy = CompactCopy(pod, mask);
    auto& pool = const_cast<rapidjson::Document&>(*copy).GetAllocator();
    EXPECT_EQ(pool.Size(), pool.Capacity()) << Dump(*copy);
    EXPECT_EQ(pool.Size(), CompactSize(pod, mask));
  }
  // The whole pod's copy is far below the 64 KiB a default Document reserves.
  EXPECT_LT(CompactSize(pod, FieldMask()), 2048u);
}

TEST(CompactObjectTest, CopiesEveryStringSoTheSourceMayGo) {
  ObjectPtr copy;
  {
    rapidjson::Document source(rapidjson::kObjectType);
    static const std::string kName = "a-name-longer-than-the-inline-limit";
    rapidjson::Value metadata(rapidjson::kObjectType);
    // A reference string (not owned by the source document).
    metadata.AddMember("name", rapidjson::StringRef(kName.c_str()), source.GetAllocator());
    source.AddMember("metadata", metadata, source.GetAllocator());
    copy = CompactCopy(source, FieldMask());
  }
  EXPECT_NE(json::GetString(*copy, {"metadata", "name"}).data(), nullptr);
  EXPECT_EQ(json::GetString(*copy, {"metadata", "name"}), "a-name-longer-than-the-inline-limit");
}

TEST(CompactObjectTest, AddsKindAndApiVersionOnlyWhenAbsent) {
  rapidjson::Document item = ParseOk(R"({"metadata":{"name":"n"}})");
  ObjectPtr copy = CompactCopy(item, FieldMask(), "Machine", "labkube.io/v1alpha1");
  EXPECT_EQ(json::GetString(*copy, {"kind"}), "Machine");
  EXPECT_EQ(json::GetString(*copy, {"apiVersion"}), "labkube.io/v1alpha1");
  rapidjson::Document full = ParseOk(R"({"kind":"Pod","apiVersion":"v1","metadata":{}})");
  copy = CompactCopy(full, FieldMask(), "Machine", "labkube.io/v1alpha1");
  EXPECT_EQ(Dump(*copy), R"({"kind":"Pod","apiVersion":"v1","metadata":{}})");
}

}  // namespace
}  // namespace labkube::kube
