// The one place where absl::Status and grpc::Status map into each other, at the gRPC edge of a
// service (like TF Serving's grpc_status_util): handlers return ToGrpcStatus(status), clients
// turn stub results into absl::Status with FromGrpcStatus(status). Codes map one to one (both
// follow google.rpc.Code); the message is kept. Unknown numeric codes become kUnknown.
//
// Free functions, no state; safe from any thread.
#ifndef LABKUBE_LIB_GRPC_STATUS_H_
#define LABKUBE_LIB_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace labkube {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

grpc::StatusCode ToGrpcCode(absl::StatusCode code);
absl::StatusCode FromGrpcCode(grpc::StatusCode code);

}  // namespace labkube

#endif  // LABKUBE_LIB_GRPC_STATUS_H_
