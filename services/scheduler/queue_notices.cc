#include "lib/ordinal.h"
#include "services/scheduler/queue_notices.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/kube/resource.h"
#include "lib/log.h"

namespace labkube::scheduler {
namespace {

std::string WallTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

std::string Rounded(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1)));
}

}  // namespace


QueueNotices::QueueNotices(kube::Client& client, Clock& clock, std::string identity)
    : client_(client), clock_(clock), events_(client, clock, "labkube-scheduler", identity) {}

void QueueNotices::Notice(absl::Status s, const std::string& what, const std::string& pod) {
  if (s.ok()) return;
  LogEvent(LogLevel::kWarn, "queue.event_failed",
           {{"event", what}, {"pod", pod}, {"error", std::string(s.message())}});
}

void QueueNotices::AnnounceQueues(const Plan& plan) {
  std::set<std::string> seen;
  for (const GroupStatus& g : plan.groups) {
    for (const TypeStatus& t : g.types) {
      for (size_t i = 0; i < t.queue.size(); ++i) {
        const WaitingPod& w = t.queue[i];
        seen.insert(w.uid);
        if (announced_.count(w.uid) > 0) continue;
        std::string message = absl::StrCat("waiting for a ", t.type, " slot of group ", g.group,
                                           ": ", Ordinal(static_cast<int>(i) + 1), " in line");
        if (i < t.latest_start.size()) {
          absl::StrAppend(&message, ", starting by ", WallTime(t.latest_start[i]),
                          " at the latest (time limits)");
        }
        absl::StrAppend(&message, "; labctl queue shows the line");
        Notice(events_.Normal({"v1", "Pod", w.ns, w.name, w.uid}, "Queued", message), "Queued",
               w.name);
        announced_.insert(w.uid);
      }
    }
  }
  std::erase_if(announced_, [&seen](const std::string& uid) { return seen.count(uid) == 0; });
}

void QueueNotices::HandedOver(const Handover& h) {
  std::string message =
      absl::StrCat("a ", h.type, " slot of group ", h.group, " was handed over on node ", h.node,
                   " after waiting ", Rounded(clock_.Now() - h.pod.created));
  Notice(events_.Normal({"v1", "Pod", h.pod.ns, h.pod.name, h.pod.uid}, "SlotHandedOver",
                        message),
         "SlotHandedOver", h.pod.name);
}

int QueueNotices::EnforceTimeLimits(const PlannerInput& in) {
  absl::Time now = clock_.Now();
  int writes = 0;
  std::set<std::string> present;
  for (const MachineGroup& g : in.groups) {
    for (const SlotPod& p : in.pods) {
      if (p.role != SlotRole::kGuest || p.group != g.group || !p.running || p.terminating ||
          p.finished || p.started == absl::InfinitePast()) {
        continue;
      }
      const MachineType* t = g.FindType(p.type);
      if (t == nullptr || t->max_runtime <= absl::ZeroDuration()) continue;
      present.insert(p.uid);
      absl::Time limit = p.started + t->max_runtime, end = limit + kRuntimeGrace;
      kube::EventTarget target{"v1", "Pod", p.ns, p.name, p.uid};
      if (now >= end) {
        kube::DeleteOptions opts;
        opts.precondition_uid = p.uid;
        absl::Status s = client_.Delete(kube::resources::Pods(), p.ns, p.name, opts);
        ++writes;
        LogEvent(s.ok() ? LogLevel::kInfo : LogLevel::kWarn, "guest.time_limit_ended",
                 {{"pod", absl::StrCat(p.ns, "/", p.name)}, {"type", p.type},
                  {"error", std::string(s.message())}});
        if (s.ok()) {
          Notice(events_.Warning(target, "TimeLimitExceeded",
                                 absl::StrCat("ran ", Rounded(now - p.started), ", past the ",
                                              Rounded(t->max_runtime), " limit of ", p.type,
                                              " and its grace period: ended")),
                 "TimeLimitExceeded", p.name);
        }
      } else if (now >= limit && warned_.insert(p.uid).second) {
        ++writes;
        Notice(events_.Warning(target, "TimeLimitReached",
                               absl::StrCat("ran the ", Rounded(t->max_runtime), " limit of ",
                                            p.type, "; it is ended at ", WallTime(end),
                                            " unless it ends first (save your work)")),
               "TimeLimitReached", p.name);
      }
    }
  }
  std::erase_if(warned_, [&present](const std::string& uid) { return present.count(uid) == 0; });
  return writes;
}

}  // namespace labkube::scheduler
