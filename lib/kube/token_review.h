// ReviewToken: asks the API server who presents a bearer token (POST TokenReview), for the
// audiences a labkube service accepts. The one place labkube reviews tokens: the gateway
// (member calls) and the authenticator (admin calls) both use it.
//
// With `audiences`, the API server authenticates only tokens issued for one of them, and the
// answer's status.audiences must name one of them as well (an authenticator that ignores
// audiences answers with the API server's own; such an answer is refused here, as the
// TokenReview documentation asks of its callers).
//
// Stateless; thread-safe as far as the client is.
#ifndef LABKUBE_LIB_KUBE_TOKEN_REVIEW_H_
#define LABKUBE_LIB_KUBE_TOKEN_REVIEW_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"

namespace labkube::kube {

struct ReviewedToken {
  bool authenticated = false;
  std::string username;  // when authenticated
  std::string error;     // the API server's reason when not ("" if it gave none)
};

// kUnavailable when the API server cannot be asked. A token that is not for `audiences` (or
// not valid at all) is an OK answer with authenticated=false and a reason in `error`.
absl::StatusOr<ReviewedToken> ReviewToken(Client& client, std::string_view token,
                                          const std::vector<std::string>& audiences);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_TOKEN_REVIEW_H_
