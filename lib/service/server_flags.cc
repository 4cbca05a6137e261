#include "lib/service/server_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "lib/service/flags.h"

ABSL_FLAG(std::string, kubeconfig, "", "kubeconfig file (default: in-cluster or $KUBECONFIG)");
ABSL_FLAG(std::string, grpc_address, "0.0.0.0:8443", "gRPC listen address");
ABSL_FLAG(std::string, http_address, "0.0.0.0", "metrics/health listen address");
ABSL_FLAG(int, http_port, 9443, "metrics/health port (0 = any free port)");

namespace labkube::service {

void ApplyServerFlags(ServiceOptions& o) {
  ApplyFlags(o);
  o.kubeconfig = absl::GetFlag(FLAGS_kubeconfig);
  o.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  o.http_address = absl::GetFlag(FLAGS_http_address);
  o.http_port = absl::GetFlag(FLAGS_http_port);
}

}  // namespace labkube::service
