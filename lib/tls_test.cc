#include "lib/tls.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "lib/testing/test_certs.h"

namespace labkube {
namespace {

using ::labkube::testing::TestTmpDir;
using ::labkube::testing::WriteSelfSignedCert;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

bool Mentions(const absl::Status& status, const std::string& text) {
  return status.message().find(text) != absl::string_view::npos;
}

TEST(ReadFileTest, ReadsWholeFile) {
  std::string path = TestTmpDir() + "/read.txt";
  WriteText(path, std::string("a\0b\nc", 5));
  absl::StatusOr<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, std::string("a\0b\nc", 5));
}

TEST(ReadFileTest, MissingFileNamesThePath) {
  absl::Status status = ReadFile("/nonexistent/dir/file.pem").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(status, "/nonexistent/dir/file.pem")) << status;
}

TEST(ReadFileTest, UnreadableFileIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads everything";
  std::string path = TestTmpDir() + "/unreadable.pem";
  WriteText(path, "x");
  chmod(path.c_str(), 0);
  absl::Status status = ReadFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Mentions(status, path)) << status;
}

TEST(TlsTest, CredentialsFromGoodFiles) {
  auto cert = WriteSelfSignedCert(TestTmpDir(), "good", "good", 1);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_TRUE(CheckKeyPairFiles(cert->cert_file, cert->key_file).ok());
  auto server = ServerCredentialsFromFiles(cert->cert_file, cert->key_file);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_NE(*server, nullptr);
  auto mtls = ServerCredentialsFromFiles(cert->cert_file, cert->key_file, cert->cert_file);
  ASSERT_TRUE(mtls.ok()) << mtls.status();
  auto channel = ChannelCredentialsFromFiles(cert->cert_file, cert->cert_file, cert->key_file);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_NE(*channel, nullptr);
  auto system_roots = ChannelCredentialsFromFiles("");
  ASSERT_TRUE(system_roots.ok()) << system_roots.status();
}

TEST(TlsTest, ErrorsNameTheFile) {
  auto cert = WriteSelfSignedCert(TestTmpDir(), "errs", "errs", 1);
  auto other = WriteSelfSignedCert(TestTmpDir(), "errs-other", "other", 2);
  ASSERT_TRUE(cert.ok() && other.ok());
  std::string garbage = TestTmpDir() + "/garbage.pem";
  WriteText(garbage, "not a certificate");

  absl::Status missing = ServerCredentialsFromFiles("/missing.crt", cert->key_file).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(missing, "/missing.crt")) << missing;

  absl::Status missing_key = ServerCredentialsFromFiles(cert->cert_file, "/missing.key").status();
  EXPECT_TRUE(Mentions(missing_key, "/missing.key")) << missing_key;

  absl::Status bad_cert = ServerCredentialsFromFiles(garbage, cert->key_file).status();
  EXPECT_EQ(bad_cert.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(bad_cert, garbage)) << bad_cert;

  absl::Status bad_key = ServerCredentialsFromFiles(cert->cert_file, garbage).status();
  EXPECT_TRUE(Mentions(bad_key, garbage)) << bad_key;

  absl::Status mismatch = ServerCredentialsFromFiles(cert->cert_file, other->key_file).status();
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(mismatch, "does not match")) << mismatch;

  absl::Status bad_ca =
      ServerCredentialsFromFiles(cert->cert_file, cert->key_file, "/missing-ca.crt").status();
  EXPECT_TRUE(Mentions(bad_ca, "/missing-ca.crt")) << bad_ca;

  absl::Status channel_ca = ChannelCredentialsFromFiles(garbage).status();
  EXPECT_TRUE(Mentions(channel_ca, garbage)) << channel_ca;

  EXPECT_EQ(ChannelCredentialsFromFiles(cert->cert_file, cert->cert_file, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labkube
