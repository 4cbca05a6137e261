#include "lib/peer_identity.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/absl_compat.h"

namespace labkube {

std::string PeerCommonName(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
    return std::string(cn.data(), cn.size());
  }
  return "";
}

absl::Status CallerPolicy::Check(const grpc::ServerContext& context,
                                 std::string_view method) const {
  if (!enforce) return absl::OkStatus();
  std::string who = PeerCommonName(context);
  if (who.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        ToAbsl(method), " needs a client certificate (mutual TLS); present the certificate of ",
        absl::StrJoin(allowed, " or ")));
  }
  if (allowed.count(who) > 0) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      who, " may not call ", ToAbsl(method), "; only ", absl::StrJoin(allowed, ", "), " may"));
}

}  // namespace labkube
