#include "services/scheduler/claim_signer.h"

#include "gtest/gtest.h"

namespace labkube::scheduler {
namespace {

ClaimSigner Signer(const std::string& key = std::string(32, 'k')) {
  absl::StatusOr<ClaimSigner> s = ClaimSigner::Create(key);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

ClaimToken Token() {
  return {"c-1-abc", "lab-alice", "train", "gpu", "rtx3090-x1", "gpu-node-1",
          absl::FromUnixSeconds(1800000000)};
}

TEST(ClaimSignerTest, RefusesShortKeys) {
  absl::StatusOr<ClaimSigner> s = ClaimSigner::Create("short");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("at least 32"), std::string::npos) << s.status();
}

TEST(ClaimSignerTest, VerifiesWhatItSignedAndReturnsTheIssueTime) {
  ClaimSigner signer = Signer();
  std::string sig = signer.Sign(Token());
  EXPECT_EQ(sig.rfind("v1.1800000000.", 0), 0u) << sig;
  ClaimToken t = Token();
  t.issued = absl::InfinitePast();  // read from the signature
  absl::Time issued;
  EXPECT_TRUE(signer.Verify(t, sig, &issued));
  EXPECT_EQ(issued, absl::FromUnixSeconds(1800000000));
}

TEST(ClaimSignerTest, AnyChangedFieldFails) {
  ClaimSigner signer = Signer();
  std::string sig = signer.Sign(Token());
  std::vector<ClaimToken> changed(7, Token());
  changed[0].id = "c-2-abc";
  changed[1].ns = "lab-bob";
  changed[2].who = "train2";
  changed[3].group = "cpu";
  changed[4].type = "v100-x8";
  changed[5].node = "gpu-node-2";
  // Field boundaries are part of the MAC: moving a character between fields changes it.
  changed[6].ns = "lab-alicet";
  changed[6].who = "rain";
  for (size_t i = 0; i < changed.size(); ++i) EXPECT_FALSE(signer.Verify(changed[i], sig)) << i;
}

TEST(ClaimSignerTest, ForgedOrMangledSignaturesFail) {
  ClaimSigner signer = Signer();
  std::string sig = signer.Sign(Token());
  EXPECT_FALSE(Signer(std::string(32, 'x')).Verify(Token(), sig)) << "another key";
  std::string later = sig;
  later.replace(3, 10, "1900000000");  // a later issue time with the old MAC
  EXPECT_FALSE(signer.Verify(Token(), later));
  for (const std::string& bad :
       {std::string(""), std::string("v1"), std::string("v1.x.y"), std::string("v2") + sig.substr(2),
        sig.substr(0, sig.size() - 1), sig + "0", std::string("v1.1800000000.") + std::string(64, '0')}) {
    EXPECT_FALSE(signer.Verify(Token(), bad)) << bad;
  }
}

}  // namespace
}  // namespace labkube::scheduler
