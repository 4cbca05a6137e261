// WaitForTerminationSignal: blocks the calling thread until SIGINT or SIGTERM arrives, for
// services' main(). Call PrepareServiceProcess() (or at least BlockTerminationSignals()) first
// thing in main(), before any thread starts, so the signals are delivered to the waiting thread
// only.
#ifndef LABKUBE_LIB_SIGNALS_H_
#define LABKUBE_LIB_SIGNALS_H_

namespace labkube {

void BlockTerminationSignals();
// BlockTerminationSignals(), and Abseil's mutex deadlock detection off: Debian's Abseil has it on,
// and its process-wide lock-graph lock is taken on every Mutex::Lock, which showed on the
// scheduler's claim path. Tests keep it on (they do not call this).
void PrepareServiceProcess();
// Returns the signal number received.
int WaitForTerminationSignal();

}  // namespace labkube

#endif  // LABKUBE_LIB_SIGNALS_H_
