// Test fixtures for the authenticator: a FakeClient that answers TokenRequest (tokens
// "sa-token-<ns>-<name>-<n>", granted for the requested lifetime on the fake clock) and a
// TokenVerifier that knows exactly the tokens that fake issued for ServiceAccounts that still
// exist (like the real API server after a ServiceAccount is deleted), plus extra tokens tests
// register. Test-only.
//
// Ownership: FakeTokenApi borrows the FakeClient and clock. Thread-safe.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_TESTING_FAKE_DEPS_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_TESTING_FAKE_DEPS_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "lib/clock.h"
#include "lib/kube/testing/fake_client.h"
#include "services/authenticator/caller_identity.h"

namespace labkube::authenticator::testing {

class FakeTokenApi : public TokenVerifier {
 public:
  // Installs the TokenRequest handler on `client`.
  FakeTokenApi(kube::testing::FakeClient& client, Clock& clock);

  absl::StatusOr<std::string> Verify(std::string_view token) override ABSL_LOCKS_EXCLUDED(mu_);
  // A token that verifies as `username` (e.g. a non-member identity).
  void AddToken(const std::string& token, const std::string& username) ABSL_LOCKS_EXCLUDED(mu_);
  int issued() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Issued {
    std::string ns, name, username;
    absl::Time expiry;
  };
  kube::testing::FakeClient& client_;
  Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Issued, std::less<>> tokens_ ABSL_GUARDED_BY(mu_);
  int counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace labkube::authenticator::testing

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_TESTING_FAKE_DEPS_H_
