#include "services/authenticator/request_validation.h"

#include "gtest/gtest.h"

namespace labkube::authenticator {
namespace {

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).rfind(field + ":", 0), 0u) << s;
}

TEST(RequestValidationTest, Login) {
  api::LoginRequest r;
  r.set_username("alice");
  r.set_password("pw");
  EXPECT_TRUE(Validate(r).ok());
  r.set_username("");
  ExpectInvalid(Validate(r), "username");
  r.set_username("Alice");
  ExpectInvalid(Validate(r), "username");
  r.set_username("alice");
  r.set_password("");
  ExpectInvalid(Validate(r), "password");
  r.set_password(std::string(1025, 'x'));
  ExpectInvalid(Validate(r), "password");
  r.set_password(std::string("a\0b", 3));
  ExpectInvalid(Validate(r), "password");
  r.set_password("pw");
  r.set_form(static_cast<api::KubeconfigForm>(7));
  ExpectInvalid(Validate(r), "form");
}

TEST(RequestValidationTest, RefreshAndLogout) {
  api::RefreshRequest r;
  ExpectInvalid(Validate(r), "refresh_token");
  r.set_refresh_token(std::string(300, 'x'));
  ExpectInvalid(Validate(r), "refresh_token");
  r.set_refresh_token("lkr_x");
  EXPECT_TRUE(Validate(r).ok());
  api::LogoutRequest l;
  ExpectInvalid(Validate(l), "refresh_token");
}

TEST(RequestValidationTest, CreateMember) {
  api::CreateMemberRequest r;
  ExpectInvalid(Validate(r), "name");
  r.set_name("bob");
  EXPECT_TRUE(Validate(r).ok());
  (*r.mutable_quota())["pods"] = "";
  ExpectInvalid(Validate(r), "quota");
  (*r.mutable_quota())["pods"] = "10";
  EXPECT_TRUE(Validate(r).ok());
  for (int i = 0; i < 40; ++i) (*r.mutable_quota())["k" + std::to_string(i)] = "1";
  ExpectInvalid(Validate(r), "quota");
}

TEST(RequestValidationTest, SetPasswordDeleteIssue) {
  api::SetPasswordRequest s;
  s.set_name("bob");
  ExpectInvalid(Validate(s), "new_password");
  s.set_new_password("x");
  EXPECT_TRUE(Validate(s).ok());
  s.set_old_password(std::string(2000, 'x'));
  ExpectInvalid(Validate(s), "old_password");
  api::DeleteMemberRequest d;
  d.set_name("bad_name");
  ExpectInvalid(Validate(d), "name");
  api::IssueKubeconfigRequest i;
  ExpectInvalid(Validate(i), "namespace");
  i.set_namespace_("ci");
  ExpectInvalid(Validate(i), "service_account");
  i.set_service_account("bot.v1");
  EXPECT_TRUE(Validate(i).ok());
  i.set_expiration_seconds(-1);
  ExpectInvalid(Validate(i), "expiration_seconds");
}

}  // namespace
}  // namespace labkube::authenticator
