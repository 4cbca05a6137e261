// Who is calling a gRPC server over mutual TLS: the common name of the client certificate the
// server verified (labkube's services present certificates named after themselves:
// labkube-injector, labkube-gateway, ...), and the one check every service uses to limit a
// method to some callers.
// Stateless; thread-safe.
#ifndef LABKUBE_LIB_PEER_IDENTITY_H_
#define LABKUBE_LIB_PEER_IDENTITY_H_

#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace labkube {

// The verified client certificate's common name; "" when the caller presented none.
std::string PeerCommonName(const grpc::ServerContext& context);

// Which callers may use a group of methods. With `enforce` false (the server does not ask for
// client certificates: plaintext loopback development, or TLS without a client CA) every caller
// passes.
struct CallerPolicy {
  bool enforce = false;
  std::set<std::string> allowed;

  // OK, or kPermissionDenied naming the caller, the method and who may call it;
  // kUnauthenticated when enforcing and the caller presented no certificate.
  absl::Status Check(const grpc::ServerContext& context, std::string_view method) const;
};

}  // namespace labkube

#endif  // LABKUBE_LIB_PEER_IDENTITY_H_
