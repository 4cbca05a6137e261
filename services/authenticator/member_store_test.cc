#include "services/authenticator/member_store.h"

#include "gtest/gtest.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::authenticator {
namespace {

constexpr char kHash[] = "$y$j9T$abcdefghijklmnop$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

class MemberStoreTest : public ::testing::Test {
 protected:
  kube::testing::FakeClient client_;
  SecretMap map_{client_, Clock::Real(), "labkube-system", "labkube-members"};
  MemberStore store_{map_};
};

TEST_F(MemberStoreTest, RecordRoundTrip) {
  MemberRecord r{kHash, absl::FromUnixSeconds(1700000000), absl::FromUnixSeconds(1700000500)};
  std::string text = SerializeMemberRecord(r);
  EXPECT_NE(text.find("2023-11-14T22:13:20Z"), std::string::npos) << text;
  auto back = ParseMemberRecord(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->password_hash, kHash);
  EXPECT_EQ(back->created, r.created);
  EXPECT_EQ(back->last_login, r.last_login);
  auto never = ParseMemberRecord(SerializeMemberRecord(MemberRecord{"", r.created, {}}));
  EXPECT_FALSE(never->last_login.has_value());
  EXPECT_FALSE(ParseMemberRecord("not json").ok());
}

TEST_F(MemberStoreTest, CreateGetUpdateDelete) {
  ASSERT_TRUE(store_.Create("alice", {kHash, absl::FromUnixSeconds(1), {}}).ok());
  EXPECT_EQ(store_.Create("alice", {}).code(), absl::StatusCode::kAlreadyExists);
  auto got = store_.Get("alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->password_hash, kHash);
  EXPECT_FALSE(store_.Get("bob")->has_value());

  ASSERT_TRUE(store_.RecordLogin("alice", absl::FromUnixSeconds(99)).ok());
  EXPECT_EQ((*store_.Get("alice"))->last_login, absl::FromUnixSeconds(99));
  EXPECT_EQ(store_.RecordLogin("bob", absl::Now()).code(), absl::StatusCode::kNotFound);

  std::string other = std::string(kHash) + "x";
  ASSERT_TRUE(store_.SetPasswordHash("alice", other).ok());
  EXPECT_EQ((*store_.Get("alice"))->password_hash, other);

  auto list = store_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_TRUE(*store_.Delete("alice"));
  EXPECT_FALSE(*store_.Delete("alice"));
  EXPECT_TRUE(store_.List()->empty());
}

TEST_F(MemberStoreTest, RefusesPlaintextPasswords) {
  EXPECT_EQ(store_.Create("alice", {"hunter2", absl::Now(), {}}).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_.Create("alice", {"", absl::Now(), {}}).ok());
  EXPECT_EQ(store_.SetPasswordHash("alice", "hunter2").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labkube::authenticator
