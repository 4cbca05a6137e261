// Tests of GrpcAuthForwarder against a fake authenticator over real gRPC, and the drift test
// that keeps the gateway's session and member messages wire-identical to the authenticator's
// (GrpcAuthForwarder forwards them by serializing one and parsing the bytes as the other).
//
// The drift test walks both protos' descriptors: every gateway method whose name the
// Authenticator service has too must take and return messages with the same fields (number,
// name, type, label, presence; message and enum types compared recursively). It fails, naming
// the field, when a field is added to, removed from or changed in one proto only.
#include "services/gateway/auth_forwarder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_context.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/grpc_server.h"

namespace labkube::gateway {
namespace {

namespace auth = ::labkube::auth::v1alpha1;
namespace pb = ::google::protobuf;

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// ---------------------------------------------------------------------------------------------
// Descriptor comparison

class WireComparison {
 public:
  // How `a` and `b` (and the messages and enums they use) differ, one line per difference.
  std::vector<std::string> Differences(const pb::Descriptor& a, const pb::Descriptor& b) {
    Compare(a, b, a.name());
    return differences_;
  }

 private:
  void Compare(const pb::Descriptor& a, const pb::Descriptor& b, const std::string& path) {
    if (&a == &b || !compared_.insert({&a, &b}).second) return;  // identical, or under way
    for (int i = 0; i < a.field_count(); ++i) {
      const pb::FieldDescriptor& fa = *a.field(i);
      const pb::FieldDescriptor* fb = b.FindFieldByNumber(fa.number());
      std::string where = absl::StrCat(path, ".", fa.name(), " (", fa.number(), ")");
      if (fb == nullptr) {
        Add(where, absl::StrCat("only in ", a.full_name()));
        continue;
      }
      CompareFields(fa, *fb, where);
    }
    for (int i = 0; i < b.field_count(); ++i) {
      const pb::FieldDescriptor& fb = *b.field(i);
      if (a.FindFieldByNumber(fb.number()) == nullptr) {
        Add(absl::StrCat(path, ".", fb.name(), " (", fb.number(), ")"),
            absl::StrCat("only in ", b.full_name()));
      }
    }
  }

  void CompareFields(const pb::FieldDescriptor& fa, const pb::FieldDescriptor& fb,
                     const std::string& where) {
    if (fa.name() != fb.name()) Add(where, absl::StrCat("named ", fa.name(), " vs ", fb.name()));
    if (fa.type() != fb.type()) {
      Add(where, absl::StrCat("type ", fa.type_name(), " vs ", fb.type_name()));
      return;
    }
    if (fa.label() != fb.label()) {
      Add(where, absl::StrCat("label ", LabelName(fa), " vs ", LabelName(fb)));
    }
    if (fa.has_presence() != fb.has_presence()) {
      Add(where, absl::StrCat("presence ", fa.has_presence(), " vs ", fb.has_presence()));
    }
    if (fa.is_map() != fb.is_map()) Add(where, "map vs not a map");
    if (fa.message_type() != nullptr) Compare(*fa.message_type(), *fb.message_type(), where);
    if (fa.enum_type() != nullptr) CompareEnums(*fa.enum_type(), *fb.enum_type(), where);
  }

  void CompareEnums(const pb::EnumDescriptor& a, const pb::EnumDescriptor& b,
                    const std::string& where) {
    if (&a == &b) return;
    for (int i = 0; i < a.value_count(); ++i) {
      const pb::EnumValueDescriptor* vb = b.FindValueByNumber(a.value(i)->number());
      if (vb == nullptr || vb->name() != a.value(i)->name()) {
        Add(where, absl::StrCat(a.full_name(), " value ", a.value(i)->name(), " = ",
                                a.value(i)->number(), " not in ", b.full_name()));
      }
    }
    for (int i = 0; i < b.value_count(); ++i) {
      const pb::EnumValueDescriptor* va = a.FindValueByNumber(b.value(i)->number());
      if (va == nullptr || va->name() != b.value(i)->name()) {
        Add(where, absl::StrCat(b.full_name(), " value ", b.value(i)->name(), " = ",
                                b.value(i)->number(), " not in ", a.full_name()));
      }
    }
  }

  static const char* LabelName(const pb::FieldDescriptor& f) {
    switch (f.label()) {
      case pb::FieldDescriptor::LABEL_OPTIONAL:
        return "optional";
      case pb::FieldDescriptor::LABEL_REQUIRED:
        return "required";
      case pb::FieldDescriptor::LABEL_REPEATED:
        return "repeated";
    }
    return "?";
  }

  void Add(const std::string& where, const std::string& what) {
    differences_.push_back(absl::StrCat(where, ": ", what));
  }

  std::set<std::pair<const pb::Descriptor*, const pb::Descriptor*>> compared_;
  std::vector<std::string> differences_;
};

std::vector<std::string> WireDifferences(const pb::Descriptor& a, const pb::Descriptor& b) {
  return WireComparison().Differences(a, b);
}

const pb::ServiceDescriptor& Service(const std::string& full_name) {
  const pb::ServiceDescriptor* service =
      pb::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  EXPECT_NE(service, nullptr) << full_name;
  return *service;
}

// The gateway methods that the Authenticator service has too (by name): what GrpcAuthForwarder
// forwards. Each with its differences in request and response.
std::map<std::string, std::vector<std::string>> DriftOfForwardedMethods(
    const pb::ServiceDescriptor& authenticator) {
  const pb::ServiceDescriptor& gateway = Service("labkube.gateway.v1alpha1.Gateway");
  std::map<std::string, std::vector<std::string>> drift;
  for (int i = 0; i < gateway.method_count(); ++i) {
    const pb::MethodDescriptor& g = *gateway.method(i);
    const pb::MethodDescriptor* a = authenticator.FindMethodByName(g.name());
    if (a == nullptr) continue;
    std::vector<std::string>& differences = drift[g.name()];
    for (std::string& d : WireDifferences(*g.input_type(), *a->input_type())) {
      differences.push_back(std::move(d));
    }
    for (std::string& d : WireDifferences(*g.output_type(), *a->output_type())) {
      differences.push_back(std::move(d));
    }
    if (g.client_streaming() != a->client_streaming() ||
        g.server_streaming() != a->server_streaming()) {
      differences.push_back("streaming differs");
    }
  }
  return drift;
}

TEST(AuthProtoDriftTest, ForwardedMessagesHaveTheAuthenticatorsFields) {
  std::map<std::string, std::vector<std::string>> drift =
      DriftOfForwardedMethods(Service("labkube.auth.v1alpha1.Authenticator"));
  std::vector<std::string> names;
  for (const auto& [name, differences] : drift) {
    names.push_back(name);
    EXPECT_THAT(differences, IsEmpty())
        << "labkube.gateway.v1alpha1.Gateway/" << name
        << " no longer matches the authenticator's; GrpcAuthForwarder forwards its messages as "
           "bytes, so make the two protos' fields the same (numbers, names, types):\n  "
        << absl::StrJoin(differences, "\n  ");
  }
  // Exactly the methods GrpcAuthForwarder forwards (a new one needs a forwarder and a test).
  EXPECT_THAT(names, UnorderedElementsAre("Login", "Refresh", "Logout", "CreateMember",
                                          "DeleteMember", "SetPassword", "ListMembers"));
}

// A copy of authenticator.proto, changed by `edit`, in a pool of its own.
class DriftedAuthenticator {
 public:
  explicit DriftedAuthenticator(const std::function<void(pb::FileDescriptorProto&)>& edit) {
    pb::FileDescriptorProto timestamp;
    pb::Timestamp::descriptor()->file()->CopyTo(&timestamp);
    EXPECT_NE(pool_.BuildFile(timestamp), nullptr);
    pb::FileDescriptorProto file;
    auth::LoginRequest::descriptor()->file()->CopyTo(&file);
    edit(file);
    file_ = pool_.BuildFile(file);
    EXPECT_NE(file_, nullptr);
  }

  // nullptr when the edited copy is not a valid proto file.
  const pb::ServiceDescriptor* service() const {
    return file_ == nullptr ? nullptr : file_->FindServiceByName("Authenticator");
  }

 private:
  pb::DescriptorPool pool_;
  const pb::FileDescriptor* file_ = nullptr;
};

pb::DescriptorProto& MessageIn(pb::FileDescriptorProto& file, const std::string& name) {
  for (pb::DescriptorProto& m : *file.mutable_message_type()) {
    if (m.name() == name) return m;
  }
  ADD_FAILURE() << "no message " << name;
  return *file.add_message_type();
}

pb::FieldDescriptorProto& FieldIn(pb::FileDescriptorProto& file, const std::string& message,
                                  const std::string& field) {
  for (pb::FieldDescriptorProto& f : *MessageIn(file, message).mutable_field()) {
    if (f.name() == field) return f;
  }
  ADD_FAILURE() << "no field " << message << "." << field;
  return *MessageIn(file, message).add_field();
}

std::string AllDrift(const DriftedAuthenticator& drifted) {
  if (drifted.service() == nullptr) return "(the edited copy does not build)";
  std::vector<std::string> all;
  for (const auto& [name, differences] : DriftOfForwardedMethods(*drifted.service())) {
    for (const std::string& d : differences) all.push_back(absl::StrCat(name, ": ", d));
  }
  return absl::StrJoin(all, "\n");
}

TEST(AuthProtoDriftTest, AnUnchangedCopyMatches) {
  DriftedAuthenticator same([](pb::FileDescriptorProto&) {});
  EXPECT_EQ(AllDrift(same), "");
}

TEST(AuthProtoDriftTest, ANewFieldOnOneSideIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    pb::FieldDescriptorProto& f = *MessageIn(file, "LoginResponse").add_field();
    f.set_name("added_by_this_test");
    f.set_number(1000);
    f.set_type(pb::FieldDescriptorProto::TYPE_STRING);
    f.set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
    f.set_json_name("addedByThisTest");
  });
  EXPECT_THAT(AllDrift(drifted),
              HasSubstr("Login: LoginResponse.added_by_this_test (1000): only in "
                        "labkube.auth.v1alpha1.LoginResponse"));
}

TEST(AuthProtoDriftTest, ARemovedFieldIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    auto& fields = *MessageIn(file, "RefreshRequest").mutable_field();
    fields.erase(std::remove_if(fields.begin(), fields.end(),
                                [](const auto& f) { return f.name() == "form"; }),
                 fields.end());
  });
  EXPECT_THAT(AllDrift(drifted), HasSubstr("Refresh: RefreshRequest.form (3): only in "
                                           "labkube.gateway.v1alpha1.RefreshRequest"));
}

TEST(AuthProtoDriftTest, ARenumberedFieldIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    FieldIn(file, "LogoutRequest", "refresh_token").set_number(1001);
  });
  std::string drift = AllDrift(drifted);
  EXPECT_THAT(drift, HasSubstr("Logout: LogoutRequest.refresh_token (1): only in"));
  EXPECT_THAT(drift, HasSubstr("Logout: LogoutRequest.refresh_token (1001): only in"));
}

TEST(AuthProtoDriftTest, ARenamedFieldIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    FieldIn(file, "DeleteMemberRequest", "delete_namespace").set_name("purge");
  });
  EXPECT_THAT(AllDrift(drifted),
              HasSubstr("DeleteMember: DeleteMemberRequest.delete_namespace (2): named "
                        "delete_namespace vs purge"));
}

TEST(AuthProtoDriftTest, AnotherTypeIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    FieldIn(file, "DeleteMemberResponse", "revoked_sessions")
        .set_type(pb::FieldDescriptorProto::TYPE_INT64);
  });
  EXPECT_THAT(AllDrift(drifted),
              HasSubstr("DeleteMember: DeleteMemberResponse.revoked_sessions (1): type int32 vs "
                        "int64"));
}

TEST(AuthProtoDriftTest, AnotherLabelIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    FieldIn(file, "SetPasswordRequest", "name").set_label(pb::FieldDescriptorProto::LABEL_REPEATED);
  });
  EXPECT_THAT(AllDrift(drifted),
              HasSubstr("SetPassword: SetPasswordRequest.name (1): label optional vs repeated"));
}

TEST(AuthProtoDriftTest, DriftInANestedMessageIsFound) {
  // Member is CreateMember's answer and, nested, every element of ListMembersResponse.
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    FieldIn(file, "Member", "active_sessions").set_type(pb::FieldDescriptorProto::TYPE_UINT32);
  });
  std::string drift = AllDrift(drifted);
  EXPECT_THAT(drift, HasSubstr("CreateMember: Member.active_sessions (7): type int32 vs uint32"));
  EXPECT_THAT(drift, HasSubstr("ListMembers: ListMembersResponse.members (1).active_sessions (7): "
                               "type int32 vs uint32"));
}

TEST(AuthProtoDriftTest, DriftInAMapIsFound) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    for (pb::DescriptorProto& entry :
         *MessageIn(file, "CreateMemberRequest").mutable_nested_type()) {
      entry.mutable_field(1)->set_type(pb::FieldDescriptorProto::TYPE_BYTES);  // value
    }
  });
  EXPECT_THAT(AllDrift(drifted),
              HasSubstr("CreateMember: CreateMemberRequest.quota (2).value (2): type string vs "
                        "bytes"));
}

TEST(AuthProtoDriftTest, ANewEnumValueIsDrift) {
  DriftedAuthenticator drifted([](pb::FileDescriptorProto& file) {
    for (pb::EnumDescriptorProto& e : *file.mutable_enum_type()) {
      if (e.name() != "KubeconfigForm") continue;
      pb::EnumValueDescriptorProto& v = *e.add_value();
      v.set_name("KUBECONFIG_FORM_OIDC");
      v.set_number(1000);
    }
  });
  std::string drift = AllDrift(drifted);
  EXPECT_THAT(drift, HasSubstr("Login: LoginRequest.form (3): labkube.auth.v1alpha1.KubeconfigForm "
                               "value KUBECONFIG_FORM_OIDC = 1000 not in "
                               "labkube.gateway.v1alpha1.KubeconfigForm"));
  EXPECT_THAT(drift, HasSubstr("Refresh: RefreshRequest.form (3)"));
}

// ---------------------------------------------------------------------------------------------
// Forwarding

// Sets every field of `m` (recursively, one element per repeated field or map) to a value that
// is not the default and depends only on the field's place, so that two messages with the same
// fields come out equal field for field.
void FillEveryField(pb::Message& m, int depth = 0) {
  const pb::Descriptor& d = *m.GetDescriptor();
  const pb::Reflection& r = *m.GetReflection();
  for (int i = 0; i < d.field_count(); ++i) {
    const pb::FieldDescriptor* f = d.field(i);
    const int n = f->number() + 10 * depth + 1;
    const std::string s = absl::StrCat(f->name(), "-", n);
    const bool repeated = f->is_repeated();
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_STRING:
        repeated ? r.AddString(&m, f, s) : r.SetString(&m, f, s);
        break;
      case pb::FieldDescriptor::CPPTYPE_INT32:
        repeated ? r.AddInt32(&m, f, n) : r.SetInt32(&m, f, n);
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        repeated ? r.AddInt64(&m, f, n) : r.SetInt64(&m, f, n);
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        repeated ? r.AddUInt32(&m, f, n) : r.SetUInt32(&m, f, n);
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        repeated ? r.AddUInt64(&m, f, n) : r.SetUInt64(&m, f, n);
        break;
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        repeated ? r.AddDouble(&m, f, n) : r.SetDouble(&m, f, n);
        break;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        repeated ? r.AddFloat(&m, f, n) : r.SetFloat(&m, f, n);
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        repeated ? r.AddBool(&m, f, true) : r.SetBool(&m, f, true);
        break;
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumDescriptor& e = *f->enum_type();
        int value = e.value(e.value_count() - 1)->number();
        repeated ? r.AddEnumValue(&m, f, value) : r.SetEnumValue(&m, f, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        if (depth < 3)
          FillEveryField(repeated ? *r.AddMessage(&m, f) : *r.MutableMessage(&m, f), depth + 1);
        break;
    }
  }
}

template <typename M>
M Filled() {
  M m;
  FillEveryField(m);
  return m;
}

bool SameFields(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

// The authenticator's side: records what each call received and answers every field filled
// in (or the error set).
class FakeAuthenticator final : public auth::Authenticator::Service {
 public:
  struct Received {
    std::string method;
    std::shared_ptr<const pb::Message> request;
    std::map<std::string, std::string> metadata;
    std::chrono::system_clock::time_point deadline;
  };

  void SetError(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    error_ = std::move(status);
  }
  // Answers carry this unknown field too (a newer authenticator's field the gateway lacks).
  void AddUnknownFieldToAnswers(int number, uint64_t value) {
    absl::MutexLock lock(&mu_);
    unknown_ = {number, value};
  }
  // The last call's.
  Received last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

  grpc::Status Login(grpc::ServerContext* c, const auth::LoginRequest* r,
                     auth::LoginResponse* out) override {
    return Answer("Login", c, *r, out);
  }
  grpc::Status Refresh(grpc::ServerContext* c, const auth::RefreshRequest* r,
                       auth::RefreshResponse* out) override {
    return Answer("Refresh", c, *r, out);
  }
  grpc::Status Logout(grpc::ServerContext* c, const auth::LogoutRequest* r,
                      auth::LogoutResponse* out) override {
    return Answer("Logout", c, *r, out);
  }
  grpc::Status CreateMember(grpc::ServerContext* c, const auth::CreateMemberRequest* r,
                            auth::Member* out) override {
    return Answer("CreateMember", c, *r, out);
  }
  grpc::Status DeleteMember(grpc::ServerContext* c, const auth::DeleteMemberRequest* r,
                            auth::DeleteMemberResponse* out) override {
    return Answer("DeleteMember", c, *r, out);
  }
  grpc::Status SetPassword(grpc::ServerContext* c, const auth::SetPasswordRequest* r,
                           auth::SetPasswordResponse* out) override {
    return Answer("SetPassword", c, *r, out);
  }
  grpc::Status ListMembers(grpc::ServerContext* c, const auth::ListMembersRequest* r,
                           auth::ListMembersResponse* out) override {
    return Answer("ListMembers", c, *r, out);
  }

 private:
  grpc::Status Answer(const std::string& method, grpc::ServerContext* c, const pb::Message& request,
                      pb::Message* out) {
    absl::MutexLock lock(&mu_);
    last_.method = method;
    std::shared_ptr<pb::Message> copy(request.New());
    copy->CopyFrom(request);
    last_.request = std::move(copy);
    last_.metadata.clear();
    for (const auto& [k, v] : c->client_metadata()) {
      last_.metadata[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
    }
    last_.deadline = c->deadline();
    if (!error_.ok()) return error_;
    FillEveryField(*out);
    if (unknown_.first != 0) {
      out->GetReflection()->MutableUnknownFields(out)->AddVarint(unknown_.first, unknown_.second);
    }
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  Received last_ ABSL_GUARDED_BY(mu_);
  grpc::Status error_ ABSL_GUARDED_BY(mu_);
  std::pair<int, uint64_t> unknown_ ABSL_GUARDED_BY(mu_) = {0, 0};
};

class GrpcAuthForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Create({.address = "127.0.0.1:0", .plaintext = true}, {&fake_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    forwarder_ = std::make_unique<GrpcAuthForwarder>(server_->InProcessChannel(), kTimeout);
  }

  static constexpr absl::Duration kTimeout = absl::Seconds(20);
  const CallMeta meta_{.authorization = "Bearer token-root", .peer = "ipv4:10.0.0.7:51234"};
  FakeAuthenticator fake_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<GrpcAuthForwarder> forwarder_;
};

// One forwarded call of every method: the request the authenticator received and the answer
// the gateway got, each compared with its own API's message filled in.
template <typename GwReq, typename GwResp, typename AuthReq, typename AuthResp>
void ExpectEveryFieldCrosses(FakeAuthenticator& fake, const std::string& method,
                             const std::function<absl::StatusOr<GwResp>(const GwReq&)>& call) {
  SCOPED_TRACE(method);
  absl::StatusOr<GwResp> answer = call(Filled<GwReq>());
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(SameFields(*answer, Filled<GwResp>())) << answer->DebugString();
  FakeAuthenticator::Received received = fake.last();
  ASSERT_EQ(received.method, method);
  EXPECT_TRUE(SameFields(*received.request, Filled<AuthReq>())) << received.request->DebugString();
}

TEST_F(GrpcAuthForwarderTest, EveryFieldCrossesBothWays) {
  GrpcAuthForwarder& f = *forwarder_;
  const CallMeta& m = meta_;
  ExpectEveryFieldCrosses<gw::LoginRequest, gw::LoginResponse, auth::LoginRequest,
                          auth::LoginResponse>(
      fake_, "Login", [&](const gw::LoginRequest& r) { return f.Login(r, m); });
  ExpectEveryFieldCrosses<gw::RefreshRequest, gw::RefreshResponse, auth::RefreshRequest,
                          auth::RefreshResponse>(
      fake_, "Refresh", [&](const gw::RefreshRequest& r) { return f.Refresh(r, m); });
  ExpectEveryFieldCrosses<gw::LogoutRequest, gw::LogoutResponse, auth::LogoutRequest,
                          auth::LogoutResponse>(
      fake_, "Logout", [&](const gw::LogoutRequest& r) { return f.Logout(r, m); });
  ExpectEveryFieldCrosses<gw::CreateMemberRequest, gw::Member, auth::CreateMemberRequest,
                          auth::Member>(
      fake_, "CreateMember",
      [&](const gw::CreateMemberRequest& r) { return f.CreateMember(r, m); });
  ExpectEveryFieldCrosses<gw::DeleteMemberRequest, gw::DeleteMemberResponse,
                          auth::DeleteMemberRequest, auth::DeleteMemberResponse>(
      fake_, "DeleteMember",
      [&](const gw::DeleteMemberRequest& r) { return f.DeleteMember(r, m); });
  ExpectEveryFieldCrosses<gw::SetPasswordRequest, gw::SetPasswordResponse, auth::SetPasswordRequest,
                          auth::SetPasswordResponse>(
      fake_, "SetPassword", [&](const gw::SetPasswordRequest& r) { return f.SetPassword(r, m); });
  ExpectEveryFieldCrosses<gw::ListMembersRequest, gw::ListMembersResponse, auth::ListMembersRequest,
                          auth::ListMembersResponse>(
      fake_, "ListMembers", [&](const gw::ListMembersRequest& r) { return f.ListMembers(r, m); });
}

TEST_F(GrpcAuthForwarderTest, AnswersKeepFieldsTheGatewayDoesNotKnow) {
  // A newer authenticator's field reaches (newer) clients instead of vanishing in the gateway.
  fake_.AddUnknownFieldToAnswers(99, 42);
  absl::StatusOr<gw::LoginResponse> answer = forwarder_->Login(Filled<gw::LoginRequest>(), meta_);
  ASSERT_TRUE(answer.ok()) << answer.status();
  const pb::UnknownFieldSet& unknown = answer->GetReflection()->GetUnknownFields(*answer);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 99);
  EXPECT_EQ(unknown.field(0).varint(), 42u);
  EXPECT_EQ(answer->member(), "member-7");
}

TEST_F(GrpcAuthForwarderTest, RequestsCarryOnlyTheFieldsTheGatewayDefines) {
  // The gateway checked the fields it knows; anything else a caller sends stays behind.
  gw::SetPasswordRequest request = Filled<gw::SetPasswordRequest>();
  request.GetReflection()->MutableUnknownFields(&request)->AddVarint(99, 1);
  ASSERT_TRUE(forwarder_->SetPassword(request, meta_).ok());
  std::shared_ptr<const pb::Message> received = fake_.last().request;
  EXPECT_EQ(received->GetReflection()->GetUnknownFields(*received).field_count(), 0);
  EXPECT_TRUE(SameFields(*received, Filled<auth::SetPasswordRequest>()));
}

TEST_F(GrpcAuthForwarderTest, PassesTheTokenAndTheCallersAddress) {
  ASSERT_TRUE(forwarder_->ListMembers({}, meta_).ok());
  EXPECT_EQ(fake_.last().metadata.at("authorization"), "Bearer token-root");
  EXPECT_EQ(fake_.last().metadata.at("x-forwarded-for"), "10.0.0.7");

  ASSERT_TRUE(forwarder_->Login({}, {.authorization = "", .peer = "ipv6:[::1]:5"}).ok());
  EXPECT_EQ(fake_.last().metadata.count("authorization"), 0u);
  EXPECT_EQ(fake_.last().metadata.at("x-forwarded-for"), "::1");

  ASSERT_TRUE(forwarder_->Logout({}, {}).ok());
  EXPECT_EQ(fake_.last().metadata.count("authorization"), 0u);
  EXPECT_EQ(fake_.last().metadata.count("x-forwarded-for"), 0u);
}

TEST_F(GrpcAuthForwarderTest, CallsWithTheUpstreamTimeoutAsDeadline) {
  auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(forwarder_->Refresh({}, meta_).ok());
  auto after = std::chrono::system_clock::now();
  auto deadline = fake_.last().deadline;
  auto timeout = absl::ToChronoMilliseconds(kTimeout);
  EXPECT_GE(deadline, before + timeout - std::chrono::seconds(1));
  EXPECT_LE(deadline, after + timeout + std::chrono::seconds(1));
}

TEST_F(GrpcAuthForwarderTest, AnEarlierCallerDeadlineIsPassedOn) {
  CallMeta soon = meta_;
  soon.deadline = absl::Now() + kTimeout / 4;
  ASSERT_TRUE(forwarder_->Refresh({}, soon).ok());
  auto deadline = fake_.last().deadline;
  auto want = absl::ToChronoTime(soon.deadline);
  EXPECT_GE(deadline, want - std::chrono::milliseconds(50));
  EXPECT_LE(deadline, want + std::chrono::milliseconds(50));
}

TEST_F(GrpcAuthForwarderTest, ErrorsComeBackAsTheAuthenticatorSentThem) {
  fake_.SetError(grpc::Status(grpc::StatusCode::NOT_FOUND, "no member \"bob\""));
  absl::StatusOr<gw::DeleteMemberResponse> answer = forwarder_->DeleteMember({}, meta_);
  EXPECT_EQ(answer.status(), absl::NotFoundError("no member \"bob\""));

  fake_.SetError(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many failed logins"));
  EXPECT_EQ(forwarder_->Login({}, meta_).status(),
            absl::ResourceExhaustedError("too many failed logins"));
}

TEST_F(GrpcAuthForwarderTest, AMissedDeadlineIsUnavailable) {
  fake_.SetError(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow"));
  absl::Status s = forwarder_->ListMembers({}, meta_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the authenticator is unavailable (slow)"));
}

TEST(GrpcAuthForwarderUnreachableTest, IsUnavailableSayingSo) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  GrpcAuthForwarder forwarder(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()), absl::Seconds(10));
  absl::Status s = forwarder.Login({}, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the authenticator is unavailable"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("try again shortly"));
}

}  // namespace
}  // namespace labkube::gateway
