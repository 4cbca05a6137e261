// QueueView: the line of a machine type as members see it (gateway.proto Queue), from the line
// as the scheduler gives it (SchedulerAvailability::Queue: namespace, pod, position, since,
// estimate). Each entry gets its member (namespace <prefix><member>); the caller's own entries
// are flagged `mine` and keep their pod and workspace names, other members' pods are left out
// unless the caller is an admin (members' names are not secret within a lab, what they run is
// their business). Also the words members read about a place in line ("2nd of 3 in line").
//
// Free functions, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_QUEUE_VIEW_H_
#define LABKUBE_SERVICES_GATEWAY_QUEUE_VIEW_H_

#include <string>

#include "lib/ordinal.h"
#include <string_view>

#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "services/gateway/token_reviewer.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

// `line` as `caller` may see it.
gw::Queue QueueView(const gw::Queue& line, const Caller& caller,
                    std::string_view namespace_prefix);

// The workspace a pod belongs to: "ws-<name>-<replicaset hash>-<suffix>" -> "<name>"; "" for
// pods named otherwise.
std::string WorkspaceOfPod(std::string_view pod);

// The entry of pod `ns`/`pod` in `line`, nullptr when it is not in line.
const gw::QueueEntry* FindEntry(const gw::Queue& line, std::string_view ns, std::string_view pod);

// What a member reads about a place in line, e.g. "waiting for rtx3090: 2nd of 3 in line
// (estimated 2024-05-01 14:20 UTC)" or "... (no estimate)" (the Queue's estimate_note says why).
std::string InLineMessage(std::string_view type, const gw::QueueEntry& entry, int length);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_QUEUE_VIEW_H_
