// WaitUntil: polls a predicate until it holds or a real-time timeout passes, for tests that wait
// on state changed by other threads (instead of sleeping a fixed time). Test-only, stateless,
// safe from any thread.
#ifndef LABKUBE_LIB_TESTING_WAIT_UNTIL_H_
#define LABKUBE_LIB_TESTING_WAIT_UNTIL_H_

#include <functional>

#include "absl/time/time.h"

namespace labkube::testing {

// Returns true as soon as `pred` returns true (checked about every millisecond), false if it
// still returns false after `timeout` of wall-clock time.
bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(10));

}  // namespace labkube::testing

#endif  // LABKUBE_LIB_TESTING_WAIT_UNTIL_H_
