#include "services/injector/admission.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using rapidjson::Value;

constexpr size_t kMaxUidBytes = 253;
// Pods nest about 20 levels (managedFields included); deeper input is refused before parsing,
// so no recursive step (parse, copy, serialise) can exhaust the stack.
constexpr int kMaxDepth = 100;

// The deepest nesting of arrays/objects in JSON text (brackets inside strings do not count).
int NestingDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    char c = *p++;
    if (c == '"') {  // skip the string: to the next quote after an even run of backslashes
      while (true) {
        const char* quote = static_cast<const char*>(std::memchr(p, '"', end - p));
        if (quote == nullptr) return max_depth;  // unterminated: the parser says so
        const char* run = quote;
        while (run > p && run[-1] == '\\') --run;
        p = quote + 1;
        if ((quote - run) % 2 == 0) break;
      }
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// `s` for an error message: at most 64 bytes, printable ASCII only, in quotes.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

// A short description of what a JSON value is, for messages.
std::string_view TypeName(const Value* v) {
  if (v == nullptr) return "missing";
  switch (v->GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "unknown";
}

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " ", ToAbsl(problem)));
}

// Optional string member: absent or null gives "", another type is an error.
absl::StatusOr<std::string> OptionalString(const Value& parent, std::string_view key,
                                           std::string_view field) {
  const Value* v = json::FindMember(parent, key);
  if (v == nullptr || v->IsNull()) return std::string();
  if (!v->IsString()) {
    return Invalid(field, absl::StrCat("is ", ToAbsl(TypeName(v)), ", not a string"));
  }
  return std::string(json::View(*v));
}

// Optional object member: nullptr when absent or null; an error when of another type.
absl::StatusOr<const Value*> OptionalObject(const Value& parent, std::string_view key,
                                            std::string_view field) {
  const Value* v = json::FindMember(parent, key);
  if (v == nullptr || v->IsNull()) return nullptr;
  if (!v->IsObject()) {
    return Invalid(field, absl::StrCat("is ", ToAbsl(TypeName(v)), ", not an object"));
  }
  return v;
}

absl::Status CheckStringMap(const Value& metadata, std::string_view key) {
  std::string field = absl::StrCat("metadata.", ToAbsl(key));
  absl::StatusOr<const Value*> map = OptionalObject(metadata, key, field);
  if (!map.ok()) return map.status();
  if (*map == nullptr) return absl::OkStatus();
  for (const auto& m : (*map)->GetObject()) {
    if (!m.value.IsString()) {
      return Invalid(absl::StrCat(field, "[", Quote(json::View(m.name)), "]"), "is not a string");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMetadata(const Value& pod) {
  absl::StatusOr<const Value*> metadata = OptionalObject(pod, "metadata", "metadata");
  if (!metadata.ok()) return metadata.status();
  if (*metadata == nullptr) return absl::OkStatus();
  for (std::string_view key : {"name", "generateName", "namespace"}) {
    absl::StatusOr<std::string> s =
        OptionalString(**metadata, key, absl::StrCat("metadata.", ToAbsl(key)));
    if (!s.ok()) return s.status();
  }
  if (absl::Status s = CheckStringMap(**metadata, "labels"); !s.ok()) return s;
  return CheckStringMap(**metadata, "annotations");
}

absl::Status CheckContainers(const Value& spec) {
  const Value* containers = json::FindMember(spec, "containers");
  if (containers == nullptr || !containers->IsArray() || containers->Empty()) {
    return Invalid("spec.containers", "must be a non-empty array");
  }
  for (rapidjson::SizeType i = 0; i < containers->Size(); ++i) {
    const Value& c = (*containers)[i];
    std::string field = absl::StrCat("spec.containers[", i, "]");
    if (!c.IsObject()) return Invalid(field, "is not an object");
    const Value* name = json::FindMember(c, "name");
    if (name == nullptr || !name->IsString() || name->GetStringLength() == 0) {
      return Invalid(absl::StrCat(field, ".name"), "must be a non-empty string");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GroupVersionKind> ReadKind(const Value& request) {
  absl::StatusOr<const Value*> kind = OptionalObject(request, "kind", "request.kind");
  if (!kind.ok()) return kind.status();
  if (*kind == nullptr) return Invalid("request.kind", "is missing");
  GroupVersionKind gvk;
  std::pair<std::string_view, std::string*> fields[] = {
      {"group", &gvk.group}, {"version", &gvk.version}, {"kind", &gvk.kind}};
  for (auto& [key, out] : fields) {
    absl::StatusOr<std::string> s =
        OptionalString(**kind, key, absl::StrCat("request.kind.", ToAbsl(key)));
    if (!s.ok()) return s.status();
    *out = std::move(*s);
  }
  if (gvk.kind.empty()) return Invalid("request.kind.kind", "is missing");
  return gvk;
}

absl::Status ReadStrings(const Value& request, AdmissionRequest& out) {
  std::pair<std::string_view, std::string*> fields[] = {{"subResource", &out.sub_resource},
                                                        {"operation", &out.operation},
                                                        {"namespace", &out.ns},
                                                        {"name", &out.name}};
  for (auto& [key, target] : fields) {
    absl::StatusOr<std::string> s =
        OptionalString(request, key, absl::StrCat("request.", ToAbsl(key)));
    if (!s.ok()) return s.status();
    *target = std::move(*s);
  }
  if (out.operation.empty()) return Invalid("request.operation", "is missing");
  absl::StatusOr<const Value*> resource = OptionalObject(request, "resource", "request.resource");
  if (!resource.ok()) return resource.status();
  if (*resource != nullptr) {
    absl::StatusOr<std::string> r =
        OptionalString(**resource, "resource", "request.resource.resource");
    if (!r.ok()) return r.status();
    out.resource = std::move(*r);
  }
  return absl::OkStatus();
}

absl::Status ReadObject(const Value& request, AdmissionRequest& out) {
  const Value* dry_run = json::FindMember(request, "dryRun");
  if (dry_run != nullptr && !dry_run->IsNull()) {
    if (!dry_run->IsBool()) return Invalid("request.dryRun", "is not a boolean");
    out.dry_run = dry_run->GetBool();
  }
  // The object stays where it was parsed; ParseAdmissionReview moves it into `out` (no copy).
  const Value* object = json::FindMember(request, "object");
  bool pod_resource = out.kind.group.empty() && out.kind.kind == "Pod" && out.sub_resource.empty();
  if (!pod_resource || object == nullptr || object->IsNull()) {
    if (pod_resource && out.operation == "CREATE") return Invalid("request.object", "is missing");
    return absl::OkStatus();
  }
  if (absl::Status s = CheckPodShape(*object); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request.object is not a Pod: ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<AdmissionRequest> ReadReview(const Value& doc, const std::string& uid) {
  std::string_view api_version = json::GetString(doc, {"apiVersion"});
  if (api_version != kAdmissionApiVersion) {
    return Invalid("apiVersion", absl::StrCat("must be ", kAdmissionApiVersion, " (got ",
                                              Quote(api_version), ")"));
  }
  std::string_view kind = json::GetString(doc, {"kind"});
  if (kind != kAdmissionKind) {
    return Invalid("kind", absl::StrCat("must be ", kAdmissionKind, " (got ", Quote(kind), ")"));
  }
  absl::StatusOr<const Value*> request = OptionalObject(doc, "request", "request");
  if (!request.ok()) return request.status();
  if (*request == nullptr) return Invalid("request", "is missing");
  if (uid.empty()) return Invalid("request.uid", "must be a non-empty string");
  if (uid.size() > kMaxUidBytes) return Invalid("request.uid", "is too long");
  AdmissionRequest out;
  out.uid = uid;
  absl::StatusOr<GroupVersionKind> gvk = ReadKind(**request);
  if (!gvk.ok()) return gvk.status();
  out.kind = std::move(*gvk);
  if (absl::Status s = ReadStrings(**request, out); !s.ok()) return s;
  if (absl::Status s = ReadObject(**request, out); !s.ok()) return s;
  return out;
}

}  // namespace

bool AdmissionRequest::IsPod() const {
  return kind.group.empty() && kind.kind == "Pod" && (resource.empty() || resource == "pods") &&
         sub_resource.empty() && object.IsObject();
}

absl::Status CheckPodShape(const rapidjson::Value& pod) {
  if (!pod.IsObject()) return absl::InvalidArgumentError("it is not a JSON object");
  const Value* kind = json::FindMember(pod, "kind");
  if (kind != nullptr && !(kind->IsString() && json::View(*kind) == "Pod")) {
    return Invalid("kind", absl::StrCat("is ",
                                        kind->IsString() ? Quote(json::View(*kind))
                                                         : std::string(TypeName(kind)),
                                        ", not \"Pod\""));
  }
  if (absl::Status s = CheckMetadata(pod); !s.ok()) return s;
  absl::StatusOr<const Value*> spec = OptionalObject(pod, "spec", "spec");
  if (!spec.ok()) return spec.status();
  if (*spec == nullptr) return Invalid("spec", "is missing");
  return CheckContainers(**spec);
}

ParsedReview ParseAdmissionReview(std::string_view body) {
  ParsedReview out{.uid = "", .request = absl::UnknownError("unread")};
  if (NestingDepth(body) > kMaxDepth) {
    out.request = absl::InvalidArgumentError(
        absl::StrCat("the body nests JSON deeper than ", kMaxDepth, " levels"));
    return out;
  }
  absl::StatusOr<rapidjson::Document> doc = json::Parse(body);
  if (!doc.ok()) {
    out.request = absl::InvalidArgumentError(
        absl::StrCat("the body is not a JSON AdmissionReview: ", doc.status().message()));
    return out;
  }
  if (!doc->IsObject()) {
    out.request = absl::InvalidArgumentError("the body is not a JSON object (AdmissionReview)");
    return out;
  }
  const Value* request = json::FindMember(*doc, "request");
  if (request != nullptr) out.uid = std::string(json::GetString(*request, {"uid"}));
  out.request = ReadReview(*doc, out.uid);
  if (!out.request.ok()) return out;
  // request.object becomes the root of the parsed document, which then is the request's
  // object: the pod is not copied (the rest of the review stays unused in the same pool).
  auto req = doc->FindMember("request");  // an object: ReadReview checked it
  auto object = req->value.FindMember("object");
  if (object != req->value.MemberEnd()) {
    Value root(std::move(object->value));
    static_cast<Value&>(*doc) = root;
    out.request->object = std::move(*doc);
  }
  return out;
}

std::string_view StatusReasonFor(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return code >= 500 ? "InternalError" : "BadRequest";
  }
}

std::string AdmissionReviewResponse(std::string_view uid, const AdmissionResult& result) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("apiVersion");
  str(kAdmissionApiVersion);
  w.Key("kind");
  str(kAdmissionKind);
  w.Key("response");
  w.StartObject();
  w.Key("uid");
  str(uid);
  w.Key("allowed");
  w.Bool(result.allowed);
  if (result.allowed && !result.patch.empty()) {
    w.Key("patchType");
    str("JSONPatch");
    w.Key("patch");
    str(absl::Base64Escape(ToAbsl(result.patch)));
  }
  if (!result.warnings.empty()) {
    w.Key("warnings");
    w.StartArray();
    for (const std::string& warning : result.warnings) str(warning);
    w.EndArray();
  }
  if (!result.allowed) {
    int code = result.code >= 400 ? result.code : 400;
    w.Key("status");
    w.StartObject();
    w.Key("status");
    str("Failure");
    w.Key("code");
    w.Int(code);
    w.Key("reason");
    str(StatusReasonFor(code));
    w.Key("message");
    str(result.message);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace labkube::injector
