#include "lib/kube/rest_client.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/status.h"
#include "lib/status_macros.h"

namespace labkube::kube {
namespace {

constexpr char kJson[] = "application/json";
using Params = std::vector<std::pair<std::string, std::string>>;

std::string VerbAndPath(const HttpRequest& r) {
  return absl::StrCat(r.method, " ", r.path.substr(0, r.path.find('?')));
}

HttpRequest Request(std::string method, std::string path, const Params& params = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path) + QueryString(params);
  return r;
}

// The namespace/name checks of the header comment.
absl::Status CheckTarget(const Resource& resource, std::string_view ns, std::string_view name,
                         std::string_view verb) {
  if (resource.namespaced && ns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(verb), " ", resource.plural,
                                                   ": namespace required (", resource.kind,
                                                   " is namespaced)"));
  }
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(verb), " ", resource.plural, ": name required"));
  }
  return absl::OkStatus();
}

std::string ObjectPath(const Resource& resource, std::string_view ns, std::string_view name,
                       std::string_view subresource) {
  std::string path = resource.Path(ns, name);
  if (!subresource.empty()) absl::StrAppend(&path, "/", ToAbsl(subresource));
  return path;
}

std::string DryRun(bool dry_run) { return dry_run ? "All" : ""; }

std::string DeleteBody(const DeleteOptions& o) {
  rapidjson::Document doc = json::NewObject("v1", "DeleteOptions", "", "");
  doc.RemoveMember("metadata");
  if (o.grace_period_seconds) json::SetInt(doc, {"gracePeriodSeconds"}, *o.grace_period_seconds);
  if (!o.propagation_policy.empty()) {
    json::SetString(doc, {"propagationPolicy"}, o.propagation_policy);
  }
  if (!o.precondition_uid.empty())
    json::SetString(doc, {"preconditions", "uid"}, o.precondition_uid);
  if (!o.precondition_resource_version.empty()) {
    json::SetString(doc, {"preconditions", "resourceVersion"}, o.precondition_resource_version);
  }
  if (o.dry_run) {
    rapidjson::Value all(rapidjson::kArrayType);
    all.PushBack("All", doc.GetAllocator());
    json::SetPath(doc, {"dryRun"}, std::move(all), doc.GetAllocator());
  }
  return json::ToString(doc);
}

// Splits a watch stream into newline-delimited JSON events and delivers them.
class WatchDecoder {
 public:
  WatchDecoder(const WatchCallback& on_event, const WatchOptions& options, std::string context)
      : on_event_(on_event), options_(options), context_(std::move(context)) {}

  // Returns false to stop the stream (callback said so, an ERROR event, or a bad event).
  bool Feed(std::string_view chunk) {
    if (options_.should_stop && options_.should_stop()) return false;
    if (chunk.empty()) return true;  // heartbeat
    size_t start = 0;
    if (!pending_.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        pending_.append(chunk);
        return true;
      }
      pending_.append(chunk.substr(0, nl));
      std::string line = std::move(pending_);
      pending_.clear();
      if (!Deliver(line)) return false;
      start = nl + 1;
    }
    while (start < chunk.size()) {
      size_t nl = chunk.find('\n', start);
      if (nl == std::string_view::npos) {
        pending_.assign(chunk.substr(start));
        return true;
      }
      if (!Deliver(chunk.substr(start, nl - start))) return false;
      start = nl + 1;
    }
    return true;
  }

  // At the end of the stream: a last event without its newline.
  void Finish() {
    if (result_.ok() && !stopped_ && !pending_.empty()) Deliver(pending_);
  }

  const absl::Status& result() const { return result_; }

 private:
  bool Deliver(std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
    auto doc = json::Parse(line);
    if (!doc.ok()) {
      result_ = absl::InternalError(
          absl::StrCat(context_, ": malformed watch event: ", doc.status().message()));
      return false;
    }
    std::string_view type = json::GetString(*doc, {"type"});
    WatchEvent event{WatchEventType::kError, rapidjson::Document()};
    if (type == "ADDED")
      event.type = WatchEventType::kAdded;
    else if (type == "MODIFIED")
      event.type = WatchEventType::kModified;
    else if (type == "DELETED")
      event.type = WatchEventType::kDeleted;
    else if (type == "BOOKMARK")
      event.type = WatchEventType::kBookmark;
    else if (type != "ERROR") {
      result_ = absl::InternalError(
          absl::StrCat(context_, ": unknown watch event type \"", ToAbsl(type), "\""));
      return false;
    }
    auto it = doc->FindMember("object");
    if (it == doc->MemberEnd() || !it->value.IsObject()) {
      result_ = absl::InternalError(absl::StrCat(context_, ": watch event without object"));
      return false;
    }
    // Make the object the root of the parsed document, without copying it.
    rapidjson::Value object(std::move(it->value));
    static_cast<rapidjson::Value&>(*doc) = object;
    event.object = std::move(*doc);
    if (event.type == WatchEventType::kError) {
      result_ = StatusFromObject(event.object, context_);
      if (result_.ok()) result_ = absl::UnknownError(absl::StrCat(context_, ": ERROR event"));
    }
    bool more = on_event_(std::move(event));
    if (!result_.ok()) return false;
    if (!more) stopped_ = true;
    return more;
  }

  const WatchCallback& on_event_;
  const WatchOptions& options_;
  const std::string context_;
  std::string pending_;
  absl::Status result_;
  bool stopped_ = false;
};

}  // namespace

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string QueryString(const Params& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    absl::StrAppend(&out, out.empty() ? "?" : "&", key, "=", UrlEncode(value));
  }
  return out;
}

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
    case PatchType::kMergePatch:
      return "application/merge-patch+json";
    case PatchType::kStrategicMergePatch:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/json";
}

absl::StatusOr<std::unique_ptr<RestClient>> RestClient::Create(const ClusterConfig& config,
                                                               TransportOptions options) {
  LK_ASSIGN_OR_RETURN(auto transport, CurlTransport::Create(config, std::move(options)));
  return std::make_unique<RestClient>(std::move(transport));
}

RestClient::RestClient(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

absl::StatusOr<std::string> RestClient::Send(HttpRequest request) {
  LK_ASSIGN_OR_RETURN(HttpResponse response, transport_->Do(request));
  LK_RETURN_IF_ERROR(ToStatus(response.status, response.body, VerbAndPath(request)));
  return std::move(response.body);
}

absl::StatusOr<rapidjson::Document> RestClient::SendJson(HttpRequest request) {
  std::string context = VerbAndPath(request);
  LK_ASSIGN_OR_RETURN(std::string body, Send(std::move(request)));
  auto doc = json::Parse(body);
  if (!doc.ok()) {
    return absl::InternalError(
        absl::StrCat(context, ": response is not JSON: ", doc.status().message()));
  }
  return std::move(*doc);
}

absl::StatusOr<rapidjson::Document> RestClient::Get(const Resource& resource, std::string_view ns,
                                                    std::string_view name) {
  LK_RETURN_IF_ERROR(CheckTarget(resource, ns, name, "GET"));
  return SendJson(Request("GET", resource.Path(ns, name)));
}

absl::StatusOr<ObjectList> RestClient::List(const Resource& resource, std::string_view ns,
                                            const ListOptions& o) {
  HttpRequest request =
      Request("GET", resource.Path(ns),
              {{"labelSelector", o.label_selector},
               {"fieldSelector", o.field_selector},
               {"limit", o.limit > 0 ? std::to_string(o.limit) : ""},
               {"continue", o.continue_token},
               {"resourceVersion", o.continue_token.empty() ? o.resource_version : ""}});
  ObjectList list;
  LK_ASSIGN_OR_RETURN(list.doc, SendJson(std::move(request)));
  list.resource_version = std::string(json::GetString(list.doc, {"metadata", "resourceVersion"}));
  list.continue_token = std::string(json::GetString(list.doc, {"metadata", "continue"}));
  return list;
}

absl::StatusOr<rapidjson::Document> RestClient::Create(const Resource& resource,
                                                       std::string_view ns,
                                                       const rapidjson::Value& object,
                                                       const WriteOptions& o) {
  if (resource.namespaced && ns.empty()) ns = json::GetString(object, {"metadata", "namespace"});
  if (resource.namespaced && ns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "POST ", resource.plural, ": namespace required (", resource.kind, " is namespaced)"));
  }
  HttpRequest request = Request("POST", resource.Path(ns),
                                {{"fieldManager", o.field_manager}, {"dryRun", DryRun(o.dry_run)}});
  request.body = json::ToString(object);
  request.content_type = kJson;
  return SendJson(std::move(request));
}

absl::StatusOr<rapidjson::Document> RestClient::Update(const Resource& resource,
                                                       std::string_view ns, std::string_view name,
                                                       const rapidjson::Value& object,
                                                       std::string_view subresource,
                                                       const WriteOptions& o) {
  LK_RETURN_IF_ERROR(CheckTarget(resource, ns, name, "PUT"));
  HttpRequest request = Request("PUT", ObjectPath(resource, ns, name, subresource),
                                {{"fieldManager", o.field_manager}, {"dryRun", DryRun(o.dry_run)}});
  request.body = json::ToString(object);
  request.content_type = kJson;
  return SendJson(std::move(request));
}

absl::StatusOr<rapidjson::Document> RestClient::Patch(const Resource& resource, std::string_view ns,
                                                      std::string_view name, PatchType type,
                                                      std::string_view patch,
                                                      const PatchOptions& o) {
  LK_RETURN_IF_ERROR(CheckTarget(resource, ns, name, "PATCH"));
  if (type == PatchType::kApply && o.field_manager.empty()) {
    return absl::InvalidArgumentError("server-side apply needs PatchOptions::field_manager");
  }
  HttpRequest request = Request("PATCH", ObjectPath(resource, ns, name, o.subresource),
                                {{"fieldManager", o.field_manager},
                                 {"force", type == PatchType::kApply && o.force ? "true" : ""},
                                 {"dryRun", DryRun(o.dry_run)}});
  request.body = std::string(patch);
  request.content_type = std::string(PatchContentType(type));
  request.idempotent = type != PatchType::kJsonPatch;  // JSON patch ops may not repeat safely
  return SendJson(std::move(request));
}

absl::Status RestClient::Delete(const Resource& resource, std::string_view ns,
                                std::string_view name, const DeleteOptions& o) {
  LK_RETURN_IF_ERROR(CheckTarget(resource, ns, name, "DELETE"));
  HttpRequest request = Request("DELETE", resource.Path(ns, name));
  request.body = DeleteBody(o);
  request.content_type = kJson;
  return Send(std::move(request)).status();
}

absl::StatusOr<rapidjson::Document> RestClient::CreateSubresource(const Resource& resource,
                                                                  std::string_view ns,
                                                                  std::string_view name,
                                                                  std::string_view subresource,
                                                                  const rapidjson::Value& body) {
  LK_RETURN_IF_ERROR(CheckTarget(resource, ns, name, "POST"));
  if (subresource.empty()) return absl::InvalidArgumentError("subresource required");
  HttpRequest request = Request("POST", ObjectPath(resource, ns, name, subresource));
  request.body = json::ToString(body);
  request.content_type = kJson;
  return SendJson(std::move(request));
}

absl::Status RestClient::Watch(const Resource& resource, std::string_view ns, const WatchOptions& o,
                               const WatchCallback& on_event) {
  bool bounded = o.timeout > absl::ZeroDuration() && o.timeout != absl::InfiniteDuration();
  int64_t seconds = bounded ? std::max<int64_t>(1, absl::ToInt64Seconds(o.timeout)) : 0;
  HttpRequest request = Request("GET", resource.Path(ns),
                                {{"watch", "1"},
                                 {"resourceVersion", o.resource_version},
                                 {"allowWatchBookmarks", o.allow_bookmarks ? "true" : ""},
                                 {"timeoutSeconds", bounded ? std::to_string(seconds) : ""},
                                 {"labelSelector", o.label_selector},
                                 {"fieldSelector", o.field_selector}});
  // The server ends the watch after timeoutSeconds; the client deadline is only a backstop.
  request.timeout = bounded ? absl::Seconds(seconds) + absl::Seconds(30) : absl::InfiniteDuration();
  WatchDecoder decoder(on_event, o, "WATCH " + resource.Path(ns));
  absl::Status s =
      transport_->Stream(request, [&](std::string_view chunk) { return decoder.Feed(chunk); });
  if (!decoder.result().ok()) return decoder.result();
  LK_RETURN_IF_ERROR(s);
  decoder.Finish();
  return decoder.result();
}

}  // namespace labkube::kube
