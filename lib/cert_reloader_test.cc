#include "lib/cert_reloader.h"

#include <openssl/x509.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "lib/testing/fake_clock.h"
#include "lib/testing/test_certs.h"

namespace labkube {
namespace {

using ::labkube::testing::FakeClock;
using ::labkube::testing::TestTmpDir;
using ::labkube::testing::WriteSelfSignedCert;

long CurrentSerial(CertReloader& reloader) {
  X509* cert = reloader.CurrentCertificate();
  long serial = ASN1_INTEGER_get(X509_get0_serialNumber(cert));
  X509_free(cert);
  return serial;
}

TEST(CertReloaderTest, ReloadsChangedFilesAfterTheInterval) {
  std::string dir = TestTmpDir();
  auto first = WriteSelfSignedCert(dir, "reload", "first", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  FakeClock clock;
  auto reloader = CertReloader::Create(first->cert_file, first->key_file, absl::Seconds(5), clock);
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  EXPECT_EQ(CurrentSerial(**reloader), 1);
  EXPECT_EQ((*reloader)->LoadCount(), 1);

  ASSERT_TRUE(WriteSelfSignedCert(dir, "reload", "second", 2).ok());
  EXPECT_TRUE((*reloader)->MaybeReload().ok());
  EXPECT_EQ(CurrentSerial(**reloader), 1);  // not checked before the interval
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE((*reloader)->MaybeReload().ok());
  EXPECT_EQ(CurrentSerial(**reloader), 2);
  EXPECT_EQ((*reloader)->LoadCount(), 2);

  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE((*reloader)->MaybeReload().ok());  // unchanged files are not reloaded
  EXPECT_EQ((*reloader)->LoadCount(), 2);
}

TEST(CertReloaderTest, KeepsTheLastGoodPairWhenTheNewOneIsBroken) {
  std::string dir = TestTmpDir();
  auto good = WriteSelfSignedCert(dir, "broken", "good", 7);
  auto other = WriteSelfSignedCert(dir, "broken-other", "other", 8);
  ASSERT_TRUE(good.ok() && other.ok());
  FakeClock clock;
  auto reloader = CertReloader::Create(good->cert_file, good->key_file, absl::Seconds(1), clock);
  ASSERT_TRUE(reloader.ok()) << reloader.status();

  std::filesystem::copy_file(other->key_file, good->key_file,
                             std::filesystem::copy_options::overwrite_existing);
  clock.Advance(absl::Seconds(1));
  absl::Status status = (*reloader)->MaybeReload();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CurrentSerial(**reloader), 7);

  std::filesystem::copy_file(other->cert_file, good->cert_file,
                             std::filesystem::copy_options::overwrite_existing);
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE((*reloader)->MaybeReload().ok());
  EXPECT_EQ(CurrentSerial(**reloader), 8);
}

TEST(CertReloaderTest, CreateNamesTheBadFile) {
  auto good = WriteSelfSignedCert(TestTmpDir(), "create", "good", 1);
  ASSERT_TRUE(good.ok());
  absl::Status status = CertReloader::Create("/missing/tls.crt", good->key_file).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("/missing/tls.crt"), absl::string_view::npos);
  status = CertReloader::Create(good->cert_file, good->cert_file).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(good->cert_file), absl::string_view::npos);
}

}  // namespace
}  // namespace labkube
