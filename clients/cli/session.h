// How labctl talks to the gateway.
//   GatewayClient: one channel (TLS trusting --ca-file or the system roots; plaintext only for
//     loopback development gateways), contexts with deadlines and the bearer token, and gRPC
//     failures worded for people ("cannot reach the gateway at ...").
//   Session: the logged-in member: loads config.json and credentials.json, hands out a fresh
//     access token (refreshing through the gateway when it expires within a minute, saving
//     the new one), and retries a call once after a refresh when the gateway says
//     UNAUTHENTICATED.
//   Io: the process' streams and environment, injectable for tests.
//
// Ownership: Session borrows the Io, owns its store (a folder name) and client. Not thread-safe
// (one command at a time).
#ifndef LABKUBE_CLIENTS_CLI_SESSION_H_
#define LABKUBE_CLIENTS_CLI_SESSION_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cli/config_store.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/status_macros.h"

namespace labkube::cli {

namespace gw = ::labkube::gateway::v1alpha1;
using Stub = gw::Gateway::Stub;

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  Getenv getenv;
  // Reads a secret from the terminal without echo; nullptr when stdin is not a terminal.
  std::function<absl::StatusOr<std::string>(const std::string& prompt)> read_secret;
};

struct Endpoint {
  std::string server;
  std::string ca_file;
  bool plaintext = false;
};

class GatewayClient {
 public:
  // kInvalidArgument for a missing server or plaintext to a non-loopback address; CA file
  // problems name the file.
  static absl::StatusOr<std::unique_ptr<GatewayClient>> Connect(const Endpoint& endpoint);

  Stub& stub() { return *stub_; }
  const Endpoint& endpoint() const { return endpoint_; }
  std::unique_ptr<grpc::ClientContext> NewContext(const std::string& authorization,
                                                  absl::Duration timeout) const;
  // OK, or the gateway's error (UNAVAILABLE worded as "cannot reach the gateway at ...").
  absl::Status Check(const grpc::Status& status) const;

 private:
  GatewayClient(Endpoint endpoint, std::shared_ptr<grpc::Channel> channel);
  Endpoint endpoint_;
  std::unique_ptr<Stub> stub_;
};

class Session {
 public:
  // `flags`: --server / --ca-file / --insecure-plaintext from the command line ("" = config).
  Session(ConfigStore store, Io& io, Endpoint flags);

  // Loads config and credentials; kUnauthenticated "not logged in ..." without credentials.
  absl::Status Open();
  GatewayClient& client() { return *client_; }
  const Config& config() const { return config_; }
  const Credentials& credentials() const { return credentials_; }

  // "Bearer <access token>", refreshed when it expires within a minute (or `force`).
  absl::StatusOr<std::string> Authorization(bool force = false);
  // Refresh through the gateway; saves the new access token.
  absl::StatusOr<gw::RefreshResponse> Refresh(bool want_kubeconfig, gw::KubeconfigForm form);

  // A unary call with the member's token and a deadline; on UNAUTHENTICATED, refreshes once
  // and retries.
  template <typename Req, typename Resp>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& request, Resp* response,
                    absl::Duration timeout = absl::Seconds(30)) {
    LK_ASSIGN_OR_RETURN(std::string auth, Authorization());
    grpc::Status s =
        (client_->stub().*method)(client_->NewContext(auth, timeout).get(), request, response);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED && CanRefresh()) {
      LK_ASSIGN_OR_RETURN(auth, Authorization(true));
      s = (client_->stub().*method)(client_->NewContext(auth, timeout).get(), request, response);
    }
    return client_->Check(s);
  }

 private:
  bool CanRefresh() const;

  const ConfigStore store_;
  Io& io_;
  Endpoint flags_;
  Config config_;
  Credentials credentials_;
  std::unique_ptr<GatewayClient> client_;
};

// The endpoint to use: flags over the saved config.
Endpoint ResolveEndpoint(const Endpoint& flags, const Config& config);
// True for 127.x.x.x, localhost, [::1] (with a port).
bool IsLoopbackTarget(const std::string& server);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_SESSION_H_
