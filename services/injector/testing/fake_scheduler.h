// FakeSchedulerService: a tiny labkube.scheduler.v1alpha1.Scheduler implementation for tests of
// the injector's gRPC client and server. Claim answers like FakeClaimer (same admission uid, same
// claim) unless statuses were queued with FailNext(), which are returned first, one per call.
// Records requests and the deadline each call carried. The other RPCs are UNIMPLEMENTED.
//
// Test-only. Thread-safe (gRPC calls it from its pool).
#ifndef LABKUBE_SERVICES_INJECTOR_TESTING_FAKE_SCHEDULER_H_
#define LABKUBE_SERVICES_INJECTOR_TESTING_FAKE_SCHEDULER_H_

#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "services/injector/testing/fake_claimer.h"

namespace labkube::injector::testing {

class FakeSchedulerService final : public ::labkube::scheduler::v1alpha1::Scheduler::Service {
 public:
  grpc::Status Claim(grpc::ServerContext* context,
                     const ::labkube::scheduler::v1alpha1::ClaimRequest* request,
                     ::labkube::scheduler::v1alpha1::ClaimResponse* response) override
      ABSL_LOCKS_EXCLUDED(mu_);

  // The next call returns `status` instead of a claim.
  void FailNext(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<::labkube::scheduler::v1alpha1::ClaimRequest> requests() const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<absl::Time> deadlines() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  FakeClaimer claimer_;
  mutable absl::Mutex mu_;
  std::deque<grpc::Status> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<::labkube::scheduler::v1alpha1::ClaimRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
};

// A TCP port on 127.0.0.1 that nothing listens on (bound to port 0, then closed), to stand for
// a scheduler that is down.
int ClosedPort();

}  // namespace labkube::injector::testing

#endif  // LABKUBE_SERVICES_INJECTOR_TESTING_FAKE_SCHEDULER_H_
