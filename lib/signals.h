// WaitForTerminationSignal: blocks the calling thread until SIGINT or SIGTERM arrives, for
// services' main(). Call BlockTerminationSignals() first thing in main(), before any thread
// starts, so the signals are delivered to the waiting thread only.
#ifndef LABKUBE_LIB_SIGNALS_H_
#define LABKUBE_LIB_SIGNALS_H_

namespace labkube {

void BlockTerminationSignals();
// Returns the signal number received.
int WaitForTerminationSignal();

}  // namespace labkube

#endif  // LABKUBE_LIB_SIGNALS_H_
