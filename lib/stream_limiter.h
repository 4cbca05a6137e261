// StreamLimiter: bounds the long-lived server streams (Watch* RPCs) a gRPC server keeps open, in
// all and per caller, so idle streams cannot take every server thread (gRPC's synchronous server
// holds one thread per open stream) and one caller cannot starve the others. A stream beyond a
// limit is refused at once with RESOURCE_EXHAUSTED naming the limit; unary calls are never
// counted.
//
//   absl::StatusOr<StreamLimiter::Slot> slot = limiter.Acquire(CallerOf(context));
//   if (!slot.ok()) return ToGrpcStatus(slot.status());
//   ... stream; the slot is given back when it goes out of scope ...
//
// Thread-safe. Slots borrow the limiter, which must outlive them.
#ifndef LABKUBE_LIB_STREAM_LIMITER_H_
#define LABKUBE_LIB_STREAM_LIMITER_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace labkube {

class StreamLimiter {
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
    friend class StreamLimiter;
    Slot(StreamLimiter* limiter, std::string caller)
        : limiter_(limiter), caller_(std::move(caller)) {}
    StreamLimiter* limiter_;
    std::string caller_;
  };

  // `total` streams at once, `per_caller` of them from one caller (both >= 1).
  StreamLimiter(int total, int per_caller) : total_(total), per_caller_(per_caller) {}

  absl::StatusOr<Slot> Acquire(const std::string& caller) ABSL_LOCKS_EXCLUDED(mu_);
  int open() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Release(const std::string& caller) ABSL_LOCKS_EXCLUDED(mu_);

  const int total_;
  const int per_caller_;
  mutable absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> by_caller_ ABSL_GUARDED_BY(mu_);
};

// Who is calling, for limits: the client certificate's identity when the channel has one,
// else the peer's address without its port ("ipv4:10.0.0.7:53211" -> "ipv4:10.0.0.7").
std::string CallerOf(const std::string& peer, const std::string& certificate_identity);

}  // namespace labkube

#endif  // LABKUBE_LIB_STREAM_LIMITER_H_
