#include "lib/kube/status.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::kube {
namespace {

using absl::StatusCode;

// Bodies as kube-apiserver sends them.
constexpr char kConflict[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("Operation cannot be fulfilled on configmaps \"cm\": the object has been modified; )"
    R"(please apply your changes to the latest version and try again","reason":"Conflict",)"
    R"("details":{"name":"cm","kind":"configmaps"},"code":409})";
constexpr char kAlreadyExists[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("configmaps \"cm\" already exists","reason":"AlreadyExists",)"
    R"("details":{"name":"cm","kind":"configmaps"},"code":409})";
constexpr char kNotFound[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("configmaps \"nope\" not found","reason":"NotFound",)"
    R"("details":{"name":"nope","kind":"configmaps"},"code":404})";
constexpr char kInvalid[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("ConfigMap \"BAD\" is invalid: metadata.name: Invalid value: \"BAD\": a lowercase )"
    R"(RFC 1123 subdomain must consist of lower case alphanumeric characters","reason":)"
    R"("Invalid","details":{"name":"BAD","kind":"ConfigMap","causes":[{"reason":)"
    R"("FieldValueInvalid","message":"Invalid value","field":"metadata.name"}]},"code":422})";
constexpr char kForbidden[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("configmaps is forbidden: User \"system:anonymous\" cannot list resource )"
    R"(\"configmaps\" in API group \"\" in the namespace \"default\"","reason":"Forbidden",)"
    R"("details":{"kind":"configmaps"},"code":403})";
constexpr char kUnauthorized[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Unauthorized","reason":"Unauthorized","code":401})";
constexpr char kTooMany[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("Too many requests, please try again later.","reason":"TooManyRequests",)"
    R"("details":{"retryAfterSeconds":1},"code":429})";
constexpr char kExpired[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("The provided continue parameter is too old to display a consistent list result.",)"
    R"("reason":"Expired","code":410})";
constexpr char kPrecondition[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("Operation cannot be fulfilled on ConfigMap \"p\": the UID in the precondition )"
    R"j((00000000-0000-0000-0000-000000000000) does not match the UID in record )j"
    R"j((a559ae23-aaee-4d52-8afe-9b52a57166f6). The object might have been deleted and then )j"
    R"(recreated","reason":"Conflict",)"
    R"("details":{"name":"cm","kind":"configmaps"},"code":409})";
constexpr char kTimeout[] =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
    R"("Timeout: request did not complete within requested timeout - context deadline )"
    R"(exceeded","reason":"Timeout","details":{},"code":504})";

TEST(StatusTest, Success) {
  EXPECT_TRUE(ToStatus(200, "{}", "GET /api").ok());
  EXPECT_TRUE(ToStatus(201, "", "POST /api").ok());
}

TEST(StatusTest, ConflictOnUpdateIsAborted) {
  absl::Status s = ToStatus(409, kConflict, "PUT /api/v1/namespaces/a/configmaps/cm");
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(s.message(),
            "PUT /api/v1/namespaces/a/configmaps/cm: 409 Conflict: Operation cannot be fulfilled "
            "on configmaps \"cm\": the object has been modified; please apply your changes to "
            "the latest version and try again");
}

TEST(StatusTest, AlreadyExistsOnCreate) {
  absl::Status s = ToStatus(409, kAlreadyExists, "POST /api/v1/namespaces/a/configmaps");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(),
            "POST /api/v1/namespaces/a/configmaps: 409 AlreadyExists: configmaps \"cm\" already "
            "exists");
  // Without a Status body the verb decides.
  EXPECT_EQ(ToStatus(409, "", "POST /x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ToStatus(409, "", "PATCH /x").code(), StatusCode::kAborted);
}

TEST(StatusTest, PreconditionMismatchOnDelete) {
  absl::Status s = ToStatus(409, kPrecondition, "DELETE /api/v1/namespaces/a/configmaps/cm");
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_NE(std::string(s.message()).find("the UID in the precondition"), std::string::npos);
}

TEST(StatusTest, Table) {
  struct Case {
    long code;
    const char* body;
    StatusCode want;
  };
  const Case cases[] = {
      {404, kNotFound, StatusCode::kNotFound},
      {422, kInvalid, StatusCode::kInvalidArgument},
      {400, "", StatusCode::kInvalidArgument},
      {403, kForbidden, StatusCode::kPermissionDenied},
      {401, kUnauthorized, StatusCode::kUnauthenticated},
      {429, kTooMany, StatusCode::kResourceExhausted},
      {410, kExpired, StatusCode::kOutOfRange},
      {500, "", StatusCode::kUnavailable},
      {503, "", StatusCode::kUnavailable},
      {504, kTimeout, StatusCode::kUnavailable},
      {408, "", StatusCode::kDeadlineExceeded},
      {418, "", StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    EXPECT_EQ(ToStatus(c.code, c.body, "GET /x").code(), c.want);
  }
}

TEST(StatusTest, MessageCarriesReason) {
  absl::Status s = ToStatus(422, kInvalid, "POST /api/v1/namespaces/a/configmaps");
  EXPECT_EQ(std::string(s.message())
                .rfind("POST /api/v1/namespaces/a/configmaps: 422 Invalid: "
                       "ConfigMap \"BAD\" is invalid",
                       0),
            0u);
}

TEST(StatusTest, NonStatusBodyIsQuotedAndTruncated) {
  absl::Status s = ToStatus(404, "404 page not found\n", "GET /apis/nope");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "GET /apis/nope: 404 Not Found: 404 page not found");
  std::string big(5000, 'x');
  absl::Status t = ToStatus(502, big, "GET /y");
  EXPECT_EQ(t.code(), StatusCode::kUnavailable);
  EXPECT_LT(t.message().size(), 400u);
  EXPECT_EQ(t.message().substr(t.message().size() - 3), "...");
}

TEST(StatusTest, FromWatchErrorObject) {
  auto doc = json::Parse(
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"j("message":"too old resource version: 1 (5000)","reason":"Expired","code":410})j");
  ASSERT_TRUE(doc.ok());
  absl::Status s = StatusFromObject(*doc, "WATCH /api/v1/configmaps");
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(),
            "WATCH /api/v1/configmaps: 410 Expired: too old resource version: 1 (5000)");
  // No code: the reason decides.
  auto nocode = json::Parse(R"({"kind":"Status","reason":"Gone","message":"m"})");
  ASSERT_TRUE(nocode.ok());
  EXPECT_EQ(StatusFromObject(*nocode, "WATCH /x").code(), StatusCode::kOutOfRange);
  auto ok = json::Parse(R"({"kind":"Status","status":"Success","code":200})");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(StatusFromObject(*ok, "DELETE /x").ok());
}

}  // namespace
}  // namespace labkube::kube
