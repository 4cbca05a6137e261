// Tests of the value builder for written objects (objects.h).
#include "lib/kube/objects.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::kube {
namespace {

ObjectMeta Meta(std::string name) {
  ObjectMeta m;
  m.name = std::move(name);
  m.namespace_ = "lab-alice";
  return m;
}

TEST(BuilderTest, BuildsAManifestWithMetadata) {
  ObjectMeta meta = Meta("web");
  meta.labels = {{"app", "web"}};
  meta.annotations = {{"labkube.io/url", "https://x/"}};
  meta.owner_references.push_back({"apps/v1", "Deployment", "ws-web", "uid-1", true, false});
  meta.uid = "ignored";
  meta.resource_version = "42";
  Builder b;
  rapidjson::Value spec = b.Object({{"replicas", b.Int(2)},
                                    {"paused", b.Bool(false)},
                                    {"ports", b.Array({b.Object({{"port", b.Int(80)}})})}});
  absl::StatusOr<rapidjson::Document> d =
      b.Finish(b.Manifest("apps/v1", "Deployment", meta, {{"spec", std::move(spec)}}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(json::GetString(*d, {"apiVersion"}), "apps/v1");
  EXPECT_EQ(json::GetString(*d, {"kind"}), "Deployment");
  EXPECT_EQ(json::GetString(*d, {"metadata", "name"}), "web");
  EXPECT_EQ(json::GetString(*d, {"metadata", "namespace"}), "lab-alice");
  EXPECT_EQ(json::GetString(*d, {"metadata", "labels", "app"}), "web");
  EXPECT_EQ(json::GetString(*d, {"metadata", "annotations", "labkube.io/url"}), "https://x/");
  EXPECT_EQ(json::Find(*d, {"metadata", "uid"}), nullptr);
  EXPECT_EQ(json::Find(*d, {"metadata", "resourceVersion"}), nullptr);
  const rapidjson::Value& ref = (*d)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(json::GetString(ref, {"uid"}), "uid-1");
  EXPECT_TRUE(json::GetBool(ref, {"controller"}));
  EXPECT_FALSE(ref.HasMember("blockOwnerDeletion"));
  EXPECT_EQ(json::GetInt(*d, {"spec", "replicas"}), 2);
  EXPECT_FALSE(json::GetBool(*d, {"spec", "paused"}, true));
  EXPECT_EQ(json::GetInt((*d)["spec"]["ports"][0], {"port"}), 80);
}

TEST(BuilderTest, EmptyMetadataFieldsAreLeftOut) {
  Builder b;
  ObjectMeta meta;
  meta.name = "lab-alice";
  absl::StatusOr<rapidjson::Document> d = b.Finish(b.Manifest("v1", "Namespace", meta, {}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(json::ToString(*d),
            R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"lab-alice"}})");
}

// An object the API server names (a reservation pod): generateName instead of name.
TEST(BuilderTest, GenerateNameStandsInForTheName) {
  ObjectMeta meta = Meta("");
  meta.generate_name = "gpu-rtx3090-x2-";
  Builder b;
  absl::StatusOr<rapidjson::Document> d = b.Finish(b.Manifest("v1", "Pod", meta, {}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(json::ToString(*d),
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"gpu-rtx3090-x2-",)"
            R"("namespace":"lab-alice"}})");
  // The read model reads it back.
  absl::StatusOr<ObjectMeta> back = Decode<ObjectMeta>(*d);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->generate_name, "gpu-rtx3090-x2-");
  EXPECT_EQ(back->name, "");
}

TEST(BuilderTest, AddAndPushForOptionalParts) {
  Builder b;
  rapidjson::Value object = b.Object({});
  b.Add(object, "host", b.Str("h"));
  rapidjson::Value list = b.Array({});
  b.Push(list, b.Str("a"));
  b.Push(list, b.Null());
  b.Add(object, "list", std::move(list));
  absl::StatusOr<rapidjson::Document> d = b.Finish(std::move(object));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(json::ToString(*d), R"({"host":"h","list":["a",null]})");
}

TEST(BuilderTest, MistakesAreErrorsNamingTheObject) {
  {
    Builder b;
    rapidjson::Value spec = b.Object({{"type", b.Str("a")}, {"type", b.Str("b")}});
    absl::StatusOr<rapidjson::Document> d =
        b.Finish(b.Manifest("v1", "Service", Meta("web"), {{"spec", std::move(spec)}}));
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInternal);
    EXPECT_EQ(d.status().message(), "building Service web: duplicate key \"type\"");
  }
  {
    Builder b;
    absl::StatusOr<rapidjson::Document> d = b.Finish(b.Manifest("v1", "Secret", Meta(""), {}));
    EXPECT_EQ(d.status().message(),
              "building Secret (no name): metadata.name is required (or metadata.generateName "
              "for a name the API server makes)");
  }
  {
    Builder b;
    ObjectMeta meta = Meta("web-1");
    meta.generate_name = "web-";
    absl::StatusOr<rapidjson::Document> d = b.Finish(b.Manifest("v1", "Pod", meta, {}));
    EXPECT_EQ(d.status().message(),
              "building Pod web-1: metadata.name and metadata.generateName are both set; set "
              "only one");
  }
  {
    Builder b;
    ObjectMeta meta = Meta("");
    meta.generate_name = "gpu-x1-";
    absl::StatusOr<rapidjson::Document> d = b.Finish(b.Manifest("", "Pod", meta, {}));
    EXPECT_EQ(d.status().message(), "building Pod gpu-x1-(generated): apiVersion is required");
  }
  {
    Builder b;
    ObjectMeta meta = Meta("tok");
    meta.owner_references.push_back({"apps/v1", "Deployment", "ws-nb", "", true, false});
    absl::StatusOr<rapidjson::Document> d = b.Finish(b.Manifest("v1", "Secret", meta, {}));
    EXPECT_EQ(d.status().message(),
              "building Secret tok: metadata.ownerReferences[0].uid is required");
  }
  {
    Builder b;
    absl::StatusOr<rapidjson::Document> d =
        b.Finish(b.Manifest("v1", "ConfigMap", Meta("cm"), {{"metadata", b.Object({})}}));
    EXPECT_EQ(d.status().message(), "building ConfigMap cm: duplicate key \"metadata\"");
  }
  {
    Builder b;
    StringMap labels = {{"", "x"}};
    EXPECT_FALSE(b.Finish(b.Map(labels)).ok());
  }
}

// Whatever a string holds, it stays one string value: the text round-trips to the same values.
TEST(BuilderTest, HostileStringsStayStrings) {
  const std::string hostile = "x\"}],\"kind\":\"Pod\",\"a\":{\"b\\\\\n\t\x01\xc3\xa9 </script>";
  ObjectMeta meta = Meta(hostile);
  meta.labels = {{hostile, hostile}};
  Builder b;
  absl::StatusOr<rapidjson::Document> d =
      b.Finish(b.Manifest("v1", "ConfigMap", meta, {{"data", b.Object({{"k", b.Str(hostile)}})}}));
  ASSERT_TRUE(d.ok()) << d.status();
  const std::string text = json::ToString(*d);
  absl::StatusOr<rapidjson::Document> back = json::Parse(text);
  ASSERT_TRUE(back.ok()) << back.status() << " " << text;
  EXPECT_EQ(back->MemberCount(), 4u);
  EXPECT_EQ(json::GetString(*back, {"kind"}), "ConfigMap");
  EXPECT_EQ(json::GetString(*back, {"metadata", "name"}), hostile);
  EXPECT_EQ(json::GetString(*back, {"metadata", "labels", hostile}), hostile);
  EXPECT_EQ(json::GetString(*back, {"data", "k"}), hostile);
  EXPECT_EQ((*back)["data"].MemberCount(), 1u);
}

}  // namespace
}  // namespace labkube::kube
