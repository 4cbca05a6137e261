#include "lib/kube/status.h"

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"

namespace labkube::kube {
namespace {

constexpr size_t kMaxQuotedBody = 300;

std::string_view ReasonPhrase(long code) {
  switch (code) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// Status reasons that imply an HTTP code, for Status objects without one.
long CodeForReason(std::string_view reason) {
  if (reason == "NotFound") return 404;
  if (reason == "AlreadyExists" || reason == "Conflict") return 409;
  if (reason == "Gone" || reason == "Expired") return 410;
  if (reason == "Invalid") return 422;
  if (reason == "BadRequest") return 400;
  if (reason == "Unauthorized") return 401;
  if (reason == "Forbidden") return 403;
  if (reason == "TooManyRequests") return 429;
  if (reason == "Timeout") return 504;
  if (reason == "ServiceUnavailable") return 503;
  if (reason == "InternalError") return 500;
  return 500;
}

absl::Status Build(absl::StatusCode code, long http_code, std::string_view reason,
                   std::string_view message, std::string_view context) {
  if (reason.empty()) reason = ReasonPhrase(http_code);
  std::string text(context);
  if (!text.empty()) text += ": ";
  absl::StrAppend(&text, http_code);
  if (!reason.empty()) absl::StrAppend(&text, " ", ToAbsl(reason));
  if (!message.empty()) absl::StrAppend(&text, ": ", ToAbsl(message));
  return absl::Status(code, text);
}

}  // namespace

absl::StatusCode CodeForHttp(long http_code, std::string_view reason, std::string_view verb) {
  if (http_code >= 200 && http_code < 300) return absl::StatusCode::kOk;
  switch (http_code) {
    case 400:
    case 406:
    case 413:
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
      return absl::StatusCode::kUnimplemented;
    case 408:
      return absl::StatusCode::kDeadlineExceeded;
    case 409:
      if (reason == "AlreadyExists") return absl::StatusCode::kAlreadyExists;
      if (reason.empty() && verb == "POST") return absl::StatusCode::kAlreadyExists;
      return absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      break;
  }
  if (http_code >= 500 && http_code < 600) return absl::StatusCode::kUnavailable;
  return absl::StatusCode::kUnknown;
}

absl::Status StatusFromObject(const rapidjson::Value& status, std::string_view context) {
  if (json::GetString(status, {"status"}) == "Success") return absl::OkStatus();
  std::string_view reason = json::GetString(status, {"reason"});
  long code = static_cast<long>(json::GetInt(status, {"code"}, 0));
  if (code == 0) code = CodeForReason(reason);
  std::string_view message = json::GetString(status, {"message"});
  std::string_view verb = context.substr(0, context.find(' '));
  absl::StatusCode c = CodeForHttp(code, reason, verb);
  if (c == absl::StatusCode::kOk) c = absl::StatusCode::kUnknown;  // an error Status with 2xx
  return Build(c, code, reason, message, context);
}

absl::Status ToStatus(long http_code, std::string_view body, std::string_view verb_and_path) {
  if (http_code >= 200 && http_code < 300) return absl::OkStatus();
  std::string_view verb = verb_and_path.substr(0, verb_and_path.find(' '));
  auto doc = json::Parse(body);
  if (doc.ok() && json::GetString(*doc, {"kind"}) == "Status") {
    std::string_view reason = json::GetString(*doc, {"reason"});
    return Build(CodeForHttp(http_code, reason, verb), http_code, reason,
                 json::GetString(*doc, {"message"}), verb_and_path);
  }
  std::string quoted(ToStd(absl::StripAsciiWhitespace(ToAbsl(body.substr(0, kMaxQuotedBody)))));
  if (body.size() > kMaxQuotedBody) quoted += "...";
  return Build(CodeForHttp(http_code, "", verb), http_code, "", quoted, verb_and_path);
}

}  // namespace labkube::kube
