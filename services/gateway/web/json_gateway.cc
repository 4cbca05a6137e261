#include "services/gateway/web/json_gateway.h"

#include <grpcpp/client_context.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "lib/contract.h"
#include "lib/grpc_status.h"
#include "lib/kube/absl_compat.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::gateway::web {
namespace {

namespace pb = ::google::protobuf;

// How long the browser waits before it asks for the next event.
constexpr int kRetryMs = 250;

const pb::ServiceDescriptor& Service() {
  static const pb::ServiceDescriptor* service =
      pb::DescriptorPool::generated_pool()->FindServiceByName(gw::Gateway::service_full_name());
  return *service;
}

bool IsSessionMethod(const std::string& name) {
  return name == "Login" || name == "Refresh" || name == "Logout";
}

std::string MethodPath(const pb::MethodDescriptor& m) {
  return absl::StrCat("/", m.service()->full_name(), "/", m.name());
}

absl::Status ToBuffer(const pb::Message& m, grpc::ByteBuffer& out) {
  bool own = false;
  grpc::Status s = grpc::SerializationTraits<pb::Message>::Serialize(m, &out, &own);
  return FromGrpcStatus(s);
}

// `who`'s metadata on a call to the gateway.
void AddMetadata(const PageCall& who, grpc::ClientContext& context) {
  if (!who.authorization.empty()) context.AddMetadata("authorization", who.authorization);
  if (!who.client_address.empty()) {
    context.AddMetadata(contract::kWebClientAddressMetadata, who.client_address);
  }
}

absl::Status FromBuffer(grpc::ByteBuffer& in, pb::Message& m) {
  return FromGrpcStatus(grpc::SerializationTraits<pb::Message>::Deserialize(&in, &m));
}

std::unique_ptr<pb::Message> NewMessage(const pb::Descriptor* type) {
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

std::string Event(std::string_view name, std::string_view id, std::string_view data) {
  std::string out = absl::StrCat("retry: ", kRetryMs, "\n");
  if (!name.empty()) absl::StrAppend(&out, "event: ", ToAbsl(name), "\n");
  if (!id.empty()) absl::StrAppend(&out, "id: ", ToAbsl(id), "\n");
  absl::StrAppend(&out, "data: ", ToAbsl(data), "\n\n");
  return out;
}

// Clears, recursively, the fields that change with time alone.
void ClearClockFields(pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->name() == "age_seconds") {
      r->ClearField(&m, f);
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          ClearClockFields(*r->MutableRepeatedMessage(&m, f, i));
        }
      } else {
        ClearClockFields(*r->MutableMessage(&m, f));
      }
    }
  }
}

}  // namespace

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ErrorJson(const absl::Status& status) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const std::string code = absl::StatusCodeToString(status.code());
  const std::string message(status.message());
  w.StartObject();
  w.Key("code");
  w.String(code.data(), code.size());
  w.Key("message");
  w.String(message.data(), message.size());
  w.EndObject();
  return buffer.GetString();
}

JsonReply ErrorReply(const absl::Status& status) {
  return JsonReply{HttpStatusFor(status.code()), ErrorJson(status), status.code()};
}

std::string ToJson(const pb::Message& message) {
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!pb::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

absl::Status FromJson(std::string_view json, pb::Message& request) {
  if (json.empty()) json = "{}";
  pb::util::JsonParseOptions options;
  auto s = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), &request,
                                         options);
  if (s.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "request body: ", std::string(s.message()), ": send ", request.GetDescriptor()->name(),
      " in Protobuf's JSON mapping (e.g. {\"name\": \"ws1\"})"));
}

std::string ParamsToJson(const std::multimap<std::string, std::string>& params) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [key, value] : params) {
    w.Key(key.data(), key.size());
    w.String(value.data(), value.size());
  }
  w.EndObject();
  return buffer.GetString();
}

std::vector<std::string> PageMethods() {
  std::vector<std::string> out;
  for (int i = 0; i < Service().method_count(); ++i) {
    const pb::MethodDescriptor* m = Service().method(i);
    if (m->client_streaming() || m->server_streaming() || IsSessionMethod(m->name())) continue;
    out.push_back(m->name());
  }
  return out;
}

std::vector<std::string> WatchMethods() {
  std::vector<std::string> out;
  for (int i = 0; i < Service().method_count(); ++i) {
    const pb::MethodDescriptor* m = Service().method(i);
    if (m->server_streaming() && !m->client_streaming()) out.push_back(m->name());
  }
  return out;
}

std::string EventId(const pb::Message& message) {
  std::unique_ptr<pb::Message> copy(message.New());
  copy->CopyFrom(message);
  ClearClockFields(*copy);
  std::string bytes;
  copy->SerializeToString(&bytes);  // deterministic enough: no maps in streamed messages
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 12));
}

JsonGateway::JsonGateway(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : channel_(std::move(channel)), timeout_(timeout) {}

const pb::MethodDescriptor* JsonGateway::Find(std::string_view method) const {
  return Service().FindMethodByName(std::string(method));
}

absl::Status JsonGateway::Invoke(std::string_view method, const pb::Message& request,
                                 pb::Message& response, const PageCall& who) {
  const pb::MethodDescriptor* m = Find(method);
  if (m == nullptr || m->server_streaming() || m->client_streaming()) {
    return absl::NotFoundError(absl::StrCat("no unary Gateway method ", ToAbsl(method)));
  }
  const std::string path = MethodPath(*m);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  AddMetadata(who, context);
  grpc::ByteBuffer in, out;
  absl::Status s = ToBuffer(request, in);
  if (!s.ok()) return s;
  grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel_.get(), rpc, &context, in, &out);
  if (!status.ok()) return FromGrpcStatus(status);
  return FromBuffer(out, response);
}

JsonReply JsonGateway::Call(std::string_view method, std::string_view json, const PageCall& who) {
  const pb::MethodDescriptor* m = Find(method);
  if (m == nullptr || m->server_streaming() || IsSessionMethod(m->name())) {
    return ErrorReply(absl::NotFoundError(
        absl::StrCat("no method ", ToAbsl(method), " on the page's API")));
  }
  std::unique_ptr<pb::Message> request = NewMessage(m->input_type());
  std::unique_ptr<pb::Message> response = NewMessage(m->output_type());
  absl::Status s = FromJson(json, *request);
  if (s.ok()) s = Invoke(method, *request, *response, who);
  if (!s.ok()) return ErrorReply(s);
  return JsonReply{200, ToJson(*response)};
}

std::string JsonGateway::WatchEvent(std::string_view method, std::string_view json,
                                    const PageCall& who, std::string_view last_id,
                                    absl::Duration hold, absl::StatusCode* code) {
  auto fail = [&](const absl::Status& s) {
    if (code != nullptr) *code = s.code();
    return Event("failure", "", ErrorJson(s));
  };
  if (code != nullptr) *code = absl::StatusCode::kOk;
  const pb::MethodDescriptor* m = Find(method);
  if (m == nullptr || !m->server_streaming() || m->client_streaming()) {
    return fail(absl::NotFoundError(absl::StrCat("no Watch method ", ToAbsl(method))));
  }
  std::unique_ptr<pb::Message> request = NewMessage(m->input_type());
  std::unique_ptr<pb::Message> message = NewMessage(m->output_type());
  grpc::ByteBuffer in;
  absl::Status s = FromJson(json, *request);
  if (s.ok()) s = ToBuffer(*request, in);
  if (!s.ok()) return fail(s);
  const std::string path = MethodPath(*m);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + hold));
  AddMetadata(who, context);
  grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING);
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(channel_.get(), rpc,
                                                                    &context, in));
  grpc::ByteBuffer buffer;
  while (reader->Read(&buffer)) {
    message->Clear();
    if (absl::Status parsed = FromBuffer(buffer, *message); !parsed.ok()) return fail(parsed);
    std::string id = EventId(*message);
    if (id == last_id) continue;
    context.TryCancel();
    reader->Finish().ok();
    return Event("", id, ToJson(*message));
  }
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::StrCat("retry: ", kRetryMs, "\n: nothing new\n\n");
  }
  if (!status.ok()) return fail(FromGrpcStatus(status));
  return Event("end", "", "{}");
}

}  // namespace labkube::gateway::web
