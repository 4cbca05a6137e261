// LeaderPodMarker: the scheduler's Service reaches only the leader through a label on the
// leader's own pod (contract::kSchedulerLeaderLabel = "true", in the Service's selector), so
// every replica may report Ready: rolling updates and disruption budgets then work with two
// replicas, while Claim calls go to the one that may answer them.
//
// Sync(true) labels this pod and removes the label from any other pod of the namespace that still
// carries it (a leader that crashed without stepping down); Sync(false) removes it from this
// pod. A follower that gets a call anyway answers UNAVAILABLE and the caller retries.
//
// Borrows the client. Not thread-safe: one owner (the scheduler's leader-mark loop) calls it.
#ifndef LABKUBE_SERVICES_SCHEDULER_LEADER_MARK_H_
#define LABKUBE_SERVICES_SCHEDULER_LEADER_MARK_H_

#include <string>

#include "absl/status/status.h"
#include "lib/kube/client.h"

namespace labkube::scheduler {

class LeaderPodMarker {
 public:
  LeaderPodMarker(kube::Client& client, std::string ns, std::string pod)
      : client_(client), ns_(std::move(ns)), pod_(std::move(pod)) {}

  absl::Status Sync(bool leading);

 private:
  absl::Status Mark(const std::string& pod, bool leader);

  kube::Client& client_;
  const std::string ns_;
  const std::string pod_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_LEADER_MARK_H_
