#include "services/injector/admission.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "services/injector/testing/testdata.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using testing::kTestdata;
using testing::ListTestFiles;
using testing::ParseJson;
using testing::ReadTestFile;

std::string Admission(const std::string& name) {
  return ReadTestFile(std::string(kTestdata) + "/admission/" + name);
}

TEST(ParseAdmissionReviewTest, ReadsADeploymentPod) {
  ParsedReview parsed = ParseAdmissionReview(Admission("guest_deployment_pod.json"));
  ASSERT_TRUE(parsed.request.ok()) << parsed.request.status();
  const AdmissionRequest& r = *parsed.request;
  EXPECT_EQ(parsed.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(r.uid, parsed.uid);
  EXPECT_EQ(r.kind.group, "");
  EXPECT_EQ(r.kind.version, "v1");
  EXPECT_EQ(r.kind.kind, "Pod");
  EXPECT_EQ(r.resource, "pods");
  EXPECT_EQ(r.sub_resource, "");
  EXPECT_EQ(r.operation, "CREATE");
  EXPECT_EQ(r.ns, "team-a");
  EXPECT_EQ(r.name, "");
  EXPECT_FALSE(r.dry_run);
  EXPECT_TRUE(r.IsPod());
  EXPECT_EQ(json::GetString(r.object, {"metadata", "generateName"}), "train-5c9d8b7f6-");
}

TEST(ParseAdmissionReviewTest, ReadsDryRunNameAndSubresource) {
  ParsedReview dry = ParseAdmissionReview(Admission("guest_dry_run.json"));
  ASSERT_TRUE(dry.request.ok()) << dry.request.status();
  EXPECT_TRUE(dry.request->dry_run);
  EXPECT_EQ(dry.request->name, "probe");
  ParsedReview status = ParseAdmissionReview(Admission("guest_status_update.json"));
  ASSERT_TRUE(status.request.ok()) << status.request.status();
  EXPECT_EQ(status.request->sub_resource, "status");
  EXPECT_FALSE(status.request->IsPod());
  ParsedReview deleted = ParseAdmissionReview(Admission("guest_delete.json"));
  ASSERT_TRUE(deleted.request.ok()) << deleted.request.status();
  EXPECT_TRUE(deleted.request->object.IsNull());
  EXPECT_FALSE(deleted.request->IsPod());
  ParsedReview deployment = ParseAdmissionReview(Admission("deployment_create.json"));
  ASSERT_TRUE(deployment.request.ok()) << deployment.request.status();
  EXPECT_EQ(deployment.request->kind.kind, "Deployment");
  EXPECT_FALSE(deployment.request->IsPod());
}

// Every review under testdata/admission (including captures dropped there later) parses.
TEST(ParseAdmissionReviewTest, EveryValidReviewParses) {
  for (const std::string& file : ListTestFiles(std::string(kTestdata) + "/admission")) {
    std::string body = ReadTestFile(file);
    ParsedReview parsed = ParseAdmissionReview(body);
    EXPECT_TRUE(parsed.request.ok()) << file << ": " << parsed.request.status();
    EXPECT_EQ(parsed.uid, json::GetString(ParseJson(body), {"request", "uid"})) << file;
  }
}

// Every file under testdata/bad is refused with kInvalidArgument; the uid is still read when the
// body carries one.
TEST(ParseAdmissionReviewTest, EveryBadReviewIsRefusedAndKeepsTheUid) {
  for (const std::string& file : ListTestFiles(std::string(kTestdata) + "/bad")) {
    std::string body = ReadTestFile(file);
    ParsedReview parsed = ParseAdmissionReview(body);
    ASSERT_FALSE(parsed.request.ok()) << file;
    EXPECT_EQ(parsed.request.status().code(), absl::StatusCode::kInvalidArgument) << file;
    EXPECT_FALSE(parsed.request.status().message().empty()) << file;
    auto doc = json::Parse(body);
    std::string uid = doc.ok() ? std::string(json::GetString(*doc, {"request", "uid"})) : "";
    EXPECT_EQ(parsed.uid, uid) << file;
  }
}

TEST(ParseAdmissionReviewTest, MessagesSayWhatIsWrong) {
  auto message = [](const std::string& name) {
    ParsedReview p = ParseAdmissionReview(ReadTestFile(std::string(kTestdata) + "/bad/" + name));
    return std::string(p.request.status().message());
  };
  EXPECT_NE(message("v1beta1.json").find("apiVersion must be admission.k8s.io/v1"),
            std::string::npos);
  EXPECT_NE(message("wrong_kind.json").find("kind must be AdmissionReview"), std::string::npos);
  EXPECT_NE(message("truncated.json").find("not a JSON AdmissionReview"), std::string::npos);
  EXPECT_NE(message("object_not_pod.json").find("request.object is not a Pod: kind is \"Service\""),
            std::string::npos);
  EXPECT_NE(message("missing_uid.json").find("request.uid"), std::string::npos);
  EXPECT_NE(message("no_containers.json").find("spec.containers"), std::string::npos);
  EXPECT_NE(message("label_not_string.json").find("labkube.io/machine-type"), std::string::npos);
  EXPECT_NE(message("create_without_object.json").find("request.object is missing"),
            std::string::npos);
}

TEST(ParseAdmissionReviewTest, RefusesDeepNestingWithoutRecursing) {
  std::string deep = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                     R"("request":{"uid":"u","x":)";
  deep += std::string(1'000'000, '[');
  ParsedReview parsed = ParseAdmissionReview(deep);
  ASSERT_FALSE(parsed.request.ok());
  EXPECT_NE(parsed.request.status().message().find("deeper than"), std::string::npos);
  // Brackets inside strings do not count.
  std::string quoted = Admission("guest_minimal.json");
  quoted.insert(quoted.find("\"notebook\""), "\"" + std::string(500, '[') + "\\\"\", \"x\": ");
  EXPECT_TRUE(ParseAdmissionReview(quoted).request.ok()) << quoted;
  // A string ending in an escaped backslash ends there: the brackets after it count.
  std::string after = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                      R"("request":{"uid":"u","s":"a\\","x":)";
  after += std::string(200, '[');
  ParsedReview deep_after = ParseAdmissionReview(after);
  ASSERT_FALSE(deep_after.request.ok());
  EXPECT_NE(deep_after.request.status().message().find("deeper than"), std::string::npos);
}

TEST(CheckPodShapeTest, AcceptsPodsAndNamesTheBadField) {
  EXPECT_TRUE(CheckPodShape(ParseJson(R"({"spec":{"containers":[{"name":"a"}]}})")).ok());
  EXPECT_TRUE(
      CheckPodShape(ParseJson(R"({"metadata":null,"spec":{"containers":[{"name":"a"}]}})")).ok());
  struct Case {
    const char* pod;
    const char* field;
  } cases[] = {
      {R"([])", "not a JSON object"},
      {R"({"kind":"Node","spec":{"containers":[{"name":"a"}]}})", "kind"},
      {R"({"spec":{"containers":[{"name":"a"}]},"metadata":[]})", "metadata"},
      {R"({"spec":{"containers":[{"name":"a"}]},"metadata":{"name":1}})", "metadata.name"},
      {R"({"spec":{"containers":[{"name":"a"}]},"metadata":{"annotations":{"x":1}}})",
       "metadata.annotations"},
      {R"({"metadata":{}})", "spec"},
      {R"({"spec":{"containers":{}}})", "spec.containers"},
      {R"({"spec":{"containers":[1]}})", "spec.containers[0]"},
      {R"({"spec":{"containers":[{"name":""}]}})", "spec.containers[0].name"},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckPodShape(ParseJson(c.pod));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.pod;
    EXPECT_NE(s.message().find(c.field), std::string::npos) << c.pod << ": " << s;
  }
}

TEST(AdmissionReviewResponseTest, AllowedWithPatch) {
  std::string patch = R"([{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}])";
  rapidjson::Document doc =
      ParseJson(AdmissionReviewResponse("uid-1", {.allowed = true, .patch = patch}));
  EXPECT_EQ(json::GetString(doc, {"apiVersion"}), "admission.k8s.io/v1");
  EXPECT_EQ(json::GetString(doc, {"kind"}), "AdmissionReview");
  EXPECT_EQ(json::GetString(doc, {"response", "uid"}), "uid-1");
  EXPECT_TRUE(json::GetBool(doc, {"response", "allowed"}));
  EXPECT_EQ(json::GetString(doc, {"response", "patchType"}), "JSONPatch");
  std::string decoded;
  ASSERT_TRUE(
      absl::Base64Unescape(std::string(json::GetString(doc, {"response", "patch"})), &decoded));
  EXPECT_EQ(decoded, patch);
  EXPECT_EQ(json::Find(doc, {"response", "status"}), nullptr);
}

TEST(AdmissionReviewResponseTest, AllowedUnchangedHasNoPatch) {
  rapidjson::Document doc = ParseJson(AdmissionReviewResponse("u", {}));
  EXPECT_TRUE(json::GetBool(doc, {"response", "allowed"}));
  EXPECT_EQ(json::Find(doc, {"response", "patch"}), nullptr);
  EXPECT_EQ(json::Find(doc, {"response", "patchType"}), nullptr);
}

TEST(AdmissionReviewResponseTest, DenialCarriesCodeReasonAndEscapedMessage) {
  std::string message = "labkube: \"a100\" has no free slot\n(line two)";
  rapidjson::Document doc = ParseJson(AdmissionReviewResponse(
      "u-2", {.allowed = false, .code = 429, .message = message, .patch = "[]"}));
  EXPECT_FALSE(json::GetBool(doc, {"response", "allowed"}, true));
  EXPECT_EQ(json::GetInt(doc, {"response", "status", "code"}), 429);
  EXPECT_EQ(json::GetString(doc, {"response", "status", "reason"}), "TooManyRequests");
  EXPECT_EQ(json::GetString(doc, {"response", "status", "status"}), "Failure");
  EXPECT_EQ(json::GetString(doc, {"response", "status", "message"}), message);
  EXPECT_EQ(json::Find(doc, {"response", "patch"}), nullptr);  // never patch a denial
  // A denial without a code still gets a 4xx one.
  doc = ParseJson(AdmissionReviewResponse("u", {.allowed = false, .message = "no"}));
  EXPECT_EQ(json::GetInt(doc, {"response", "status", "code"}), 400);
}

TEST(StatusReasonForTest, MapsCommonCodes) {
  EXPECT_EQ(StatusReasonFor(404), "NotFound");
  EXPECT_EQ(StatusReasonFor(409), "Conflict");
  EXPECT_EQ(StatusReasonFor(413), "RequestEntityTooLarge");
  EXPECT_EQ(StatusReasonFor(503), "ServiceUnavailable");
  EXPECT_EQ(StatusReasonFor(599), "InternalError");
  EXPECT_EQ(StatusReasonFor(418), "BadRequest");
}

}  // namespace
}  // namespace labkube::injector
