// CallLimiter: bounds the calls a gRPC server runs at once, in all and per caller, so that one
// caller cannot take every server thread (gRPC's synchronous server holds one thread per call
// in progress, and one per open stream) and starve the others. Services keep one limiter for
// long-lived streams (Watch* RPCs) and one for unary calls. A call beyond a limit is refused at
// once with RESOURCE_EXHAUSTED naming the limit and the caller.
//
//   absl::StatusOr<CallLimiter::Slot> slot = limiter.Acquire(CallerOf(context));
//   if (!slot.ok()) return ToGrpcStatus(slot.status());
//   ... the call; the slot is given back when it goes out of scope ...
//
// Thread-safe. Slots borrow the limiter, which must outlive them.
#ifndef LABKUBE_LIB_CALL_LIMITER_H_
#define LABKUBE_LIB_CALL_LIMITER_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace labkube {

class CallLimiter {
 public:
  class Slot {
   public:
    Slot(Slot&& other) noexcept : limiter_(other.limiter_), caller_(std::move(other.caller_)) {
      other.limiter_ = nullptr;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class CallLimiter;
    Slot(CallLimiter* limiter, std::string caller)
        : limiter_(limiter), caller_(std::move(caller)) {}
    CallLimiter* limiter_;
    std::string caller_;
  };

  // `total` calls at once, `per_caller` of them from one caller (both >= 1). `what` names
  // them in refusals ("watch streams open", "calls in progress").
  CallLimiter(int total, int per_caller, std::string what = "watch streams open")
      : total_(total), per_caller_(per_caller), what_(std::move(what)) {}

  absl::StatusOr<Slot> Acquire(const std::string& caller) ABSL_LOCKS_EXCLUDED(mu_);
  int open() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Release(const std::string& caller) ABSL_LOCKS_EXCLUDED(mu_);

  const int total_;
  const int per_caller_;
  const std::string what_;
  mutable absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> by_caller_ ABSL_GUARDED_BY(mu_);
};

// Who is calling, for limits: the client certificate's identity when the channel has one,
// else the peer's address without its port ("ipv4:10.0.0.7:53211" -> "ipv4:10.0.0.7").
std::string CallerOf(const std::string& peer, const std::string& certificate_identity);

}  // namespace labkube

#endif  // LABKUBE_LIB_CALL_LIMITER_H_
