// JsonGateway: the page's JSON API, one to one onto the gateway's own gRPC service. A request
// names a Gateway method; its body is the request message in Protobuf's JSON mapping
// (google::protobuf::util::JsonStringToMessage: lowerCamelCase or proto field names, enum
// names); it is sent as that message over a gRPC channel to the gateway itself (the gRPC
// server's in-process channel in production), with the session's access token as the same
// `authorization: Bearer` metadata labctl sends (and the browser's address: PageCall), so the
// gateway's own handler runs: the same
// field checks, identity check (TokenReview), member resolution, call limits, metrics, log line
// and error mapping. Nothing here decides anything about the request. Answers come back as JSON
// (MessageToJsonString, fields with default values included); errors as
// {"code": "NOT_FOUND", "message": "<the gateway's message, unchanged>"} with the HTTP status
// of google.rpc's mapping (HttpStatusFor).
//
// Which methods: every unary method of the service except the session ones (Login, Refresh,
// Logout: their tokens must never reach the page's script; WebServer handles them), so a new
// method is on the page's API with no code here. Streams: WatchEvent turns one message of a
// Watch* method into a server-sent event.
//
// Ownership: shares the channel. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_WEB_JSON_GATEWAY_H_
#define LABKUBE_SERVICES_GATEWAY_WEB_JSON_GATEWAY_H_

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"

namespace labkube::gateway::web {

namespace gw = ::labkube::gateway::v1alpha1;

struct JsonReply {
  int http_status = 200;
  std::string body;  // JSON
  absl::StatusCode code = absl::StatusCode::kOk;
};

// google.rpc.Code -> HTTP status (google/rpc/code.proto's table).
int HttpStatusFor(absl::StatusCode code);
// {"code": "...", "message": "..."}.
std::string ErrorJson(const absl::Status& status);
JsonReply ErrorReply(const absl::Status& status);

// `message` as JSON (Protobuf's mapping, default values printed); `request` from JSON ("" = {}).
std::string ToJson(const google::protobuf::Message& message);
// kInvalidArgument "request body: ...: send <Type> in Protobuf's JSON mapping".
absl::Status FromJson(std::string_view json, google::protobuf::Message& request);
// Query parameters as a JSON object of strings (for GET requests such as server-sent events).
std::string ParamsToJson(const std::multimap<std::string, std::string>& params);

// The Gateway's unary methods the page may call by name (all but Login, Refresh, Logout).
std::vector<std::string> PageMethods();
// The Gateway's server-streaming methods (WatchMachineTypes, WatchWorkspace).
std::vector<std::string> WatchMethods();

// Who a page call is for, sent with it as gRPC metadata.
struct PageCall {
  std::string authorization = "";  // "Bearer <token>", or "" (sign-in, refresh, logout)
  // The IP address of the browser's HTTP connection (HttpRequest::remote_addr), sent as
  // contract::kWebClientAddressMetadata: the gateway forwards it to the authenticator for its
  // per-address lockout instead of its own. "" = none.
  std::string client_address = "";
};

class JsonGateway {
 public:
  JsonGateway(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  // Calls `method` with `request` for `who`.
  absl::Status Invoke(std::string_view method, const google::protobuf::Message& request,
                      google::protobuf::Message& response, const PageCall& who);
  // A PageMethods() call with a JSON body.
  JsonReply Call(std::string_view method, std::string_view json, const PageCall& who);

  // One server-sent event of Watch method `method` (request from `json`): the first message
  // whose id differs from `last_id` ("id: ...\ndata: <json>"), else after `hold` a comment only
  // (the browser reconnects with the same Last-Event-ID). "event: end" when the stream ended,
  // "event: failure" with ErrorJson when it failed. Every answer starts with "retry: <ms>".
  // The id is a hash of the message without fields that change with time alone (age_seconds).
  std::string WatchEvent(std::string_view method, std::string_view json, const PageCall& who,
                         std::string_view last_id, absl::Duration hold,
                         absl::StatusCode* code = nullptr);

 private:
  const google::protobuf::MethodDescriptor* Find(std::string_view method) const;

  std::shared_ptr<grpc::Channel> channel_;
  const absl::Duration timeout_;
};

// The event id of `message` (see WatchEvent).
std::string EventId(const google::protobuf::Message& message);

}  // namespace labkube::gateway::web

#endif  // LABKUBE_SERVICES_GATEWAY_WEB_JSON_GATEWAY_H_
