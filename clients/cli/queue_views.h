// What labctl shows of the queue (issue 12): a place in line as members read it ("2nd of 3 in
// line (estimated 14:20)"), and the rows of `labctl queue`:
//
//   queue entry: group, machine_type, position, length, member, namespace, pod, workspace,
//                mine, waiting_since, estimated_start ("" = none)
//
// Times are shown in the caller's time zone, as of `now` (both injected for tests).
// Free functions; stateless; thread-safe.
#ifndef LABKUBE_CLIENTS_CLI_QUEUE_VIEWS_H_
#define LABKUBE_CLIENTS_CLI_QUEUE_VIEWS_H_

#include <string>

#include "lib/ordinal.h"
#include <vector>

#include "absl/time/time.h"
#include "clients/cli/output.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "rapidjson/document.h"

namespace labkube::cli {

namespace gw = ::labkube::gateway::v1alpha1;

// "14:20" when `t` falls on the day of `now` in `tz`, else "May 02 14:20".
std::string ClockText(absl::Time t, absl::Time now, absl::TimeZone tz);
// For a workspace waiting in line (queue_position > 0): "waiting for rtx3090-x2: 2nd of 3 in line
// (estimated 14:20)" or "... (no estimate)"; "" otherwise.
std::string InLineText(const gw::Workspace& w, absl::Time now, absl::TimeZone tz);

rapidjson::Value QueueEntryView(const gw::Queue& q, const gw::QueueEntry& e,
                                rapidjson::Document::AllocatorType& a);
// The whole line of one type: #, MEMBER, POD (own / admins), WAITING, ESTIMATED START, MINE.
std::vector<Column> QueueColumns(absl::Time now, absl::TimeZone tz);
// My entries over all types: MACHINE TYPE, PLACE, WORKSPACE / POD, WAITING, ESTIMATED START.
std::vector<Column> MyQueueColumns(absl::Time now, absl::TimeZone tz);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_QUEUE_VIEWS_H_
