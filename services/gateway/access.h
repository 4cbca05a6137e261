// Access: the gateway's one authorization rule. Authenticate() turns the `authorization`
// metadata into a Caller (through the TokenReviewer); Resolve() picks the member a call acts
// for: the caller, or - for admins only - the member the request names.
//
// Ownership: borrows the reviewer. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_ACCESS_H_
#define LABKUBE_SERVICES_GATEWAY_ACCESS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/gateway/token_reviewer.h"

namespace labkube::gateway {

// The member a call acts for and that member's namespace.
struct Target {
  std::string member;
  std::string ns;
};

class Access {
 public:
  Access(TokenReviewer& reviewer, std::string namespace_prefix)
      : reviewer_(reviewer), prefix_(std::move(namespace_prefix)) {}

  // `authorization`: the metadata value, "Bearer <token>" ("" when absent).
  // kUnauthenticated "not logged in: run `labctl login`" when missing or malformed.
  absl::StatusOr<Caller> Authenticate(std::string_view authorization);

  // `requested` "" or the caller's own name: the caller. Another member: admins only
  // (kPermissionDenied otherwise); kInvalidArgument "member: ..." when not a DNS label.
  absl::StatusOr<Target> Resolve(const Caller& caller, std::string_view requested) const;

  // Member namespaces are <prefix><member>.
  const std::string& namespace_prefix() const { return prefix_; }

 private:
  TokenReviewer& reviewer_;
  const std::string prefix_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_ACCESS_H_
