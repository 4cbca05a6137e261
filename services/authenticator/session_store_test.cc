#include "services/authenticator/session_store.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"

namespace labkube::authenticator {
namespace {

namespace res = kube::resources;

class SessionStoreTest : public ::testing::Test {
 protected:
  labkube::testing::FakeClock clock_;
  kube::testing::FakeClient client_{clock_};
  SecretMap map_{client_, clock_, "labkube-system", "labkube-sessions"};
  SessionStore store_{map_, clock_, SessionOptions{absl::Hours(24), 3}};
};

TEST_F(SessionStoreTest, IssuesRandomTokensAndStoresOnlyTheirHash) {
  auto a = store_.Create("alice");
  auto b = store_.Create("alice");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->token, b->token);
  EXPECT_TRUE(SessionStore::IsWellFormed(a->token)) << a->token;
  EXPECT_EQ(a->session.expires, clock_.Now() + absl::Hours(24));
  auto secret = client_.Get(res::Secrets(), "labkube-system", "labkube-sessions");
  ASSERT_TRUE(secret.ok());
  std::string stored = kube::json::ToString(*secret);
  EXPECT_EQ(stored.find(a->token), std::string::npos);
  EXPECT_EQ(stored.find(a->token.substr(4)), std::string::npos);
  EXPECT_NE(stored.find(SessionStore::Key(a->token)), std::string::npos);
  EXPECT_EQ(SessionStore::Key(a->token).size(), 64u);
}

TEST_F(SessionStoreTest, LookupUntilExpiry) {
  auto issued = store_.Create("alice");
  ASSERT_TRUE(issued.ok());
  auto s = store_.Lookup(issued->token);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->member, "alice");
  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_TRUE(store_.Lookup(issued->token).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(store_.Lookup(issued->token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(SessionStoreTest, MalformedAndUnknownTokensAreUnauthenticated) {
  for (const char* t : {"", "lkr_", "garbage", "lkr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                        "lkr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!"}) {
    EXPECT_EQ(store_.Lookup(t).status().code(), absl::StatusCode::kUnauthenticated) << t;
  }
}

TEST_F(SessionStoreTest, RevokeOneAndAllOfAMember) {
  auto a1 = store_.Create("alice");
  auto a2 = store_.Create("alice", SessionBinding{"labkube-session-x", "uid-x"});
  auto b1 = store_.Create("bob");
  ASSERT_TRUE(store_.Revoke(a1->token).ok());
  EXPECT_FALSE(store_.Lookup(a1->token).ok());
  EXPECT_TRUE(store_.Lookup(a2->token).ok());
  EXPECT_TRUE(store_.Revoke("not-a-token").ok());
  auto n = store_.RevokeMember("alice");
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0].binding.name, "labkube-session-x") << "the binding is kept with the session";
  EXPECT_EQ((*n)[0].binding.uid, "uid-x");
  EXPECT_FALSE(store_.Lookup(a2->token).ok());
  EXPECT_TRUE(store_.Lookup(b1->token).ok());
  EXPECT_EQ(store_.ActiveCounts(), (std::map<std::string, int>{{"bob", 1}}));
}

TEST_F(SessionStoreTest, RevokesTokensOnlyTheApiServerKnows) {
  SecretMap other_map(client_, clock_, "labkube-system", "labkube-sessions");
  SessionStore other(other_map, clock_, SessionOptions{});
  ASSERT_TRUE(store_.Create("bob").ok());  // store_ caches a version without alice's token
  auto issued = other.Create("alice");     // another replica
  ASSERT_TRUE(store_.Revoke(issued->token).ok());
  ASSERT_TRUE(other_map.Fetch().ok());  // what other's informer would deliver
  EXPECT_FALSE(other.Lookup(issued->token).ok());
}

TEST_F(SessionStoreTest, KeepsAtMostMaxPerMemberAndDropsExpired) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    tokens.push_back(store_.Create("alice")->token);
    clock_.Advance(absl::Seconds(1));
  }
  EXPECT_FALSE(store_.Lookup(tokens[0]).ok());  // the oldest made room
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(store_.Lookup(tokens[i]).ok());
  clock_.Advance(absl::Hours(25));
  ASSERT_TRUE(store_.Create("bob").ok());
  EXPECT_EQ(map_.Current()->size(), 1u);
}

}  // namespace
}  // namespace labkube::authenticator
