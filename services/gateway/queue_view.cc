#include "lib/ordinal.h"
#include "services/gateway/queue_view.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/kube/absl_compat.h"

namespace labkube::gateway {

gw::Queue QueueView(const gw::Queue& line, const Caller& caller,
                    std::string_view namespace_prefix) {
  gw::Queue out = line;
  for (gw::QueueEntry& e : *out.mutable_entries()) {
    const std::string& ns = e.namespace_();
    const bool member_ns = !namespace_prefix.empty() &&
                           absl::StartsWith(ns, ToAbsl(namespace_prefix)) &&
                           ns.size() > namespace_prefix.size();
    e.set_member(member_ns ? ns.substr(namespace_prefix.size()) : "");
    e.set_mine(!caller.ns.empty() && ns == caller.ns);
    e.set_workspace(e.mine() ? WorkspaceOfPod(e.pod()) : "");
    if (!e.mine() && !caller.admin) e.clear_pod();
  }
  return out;
}

std::string WorkspaceOfPod(std::string_view pod) {
  if (!absl::StartsWith(ToAbsl(pod), "ws-")) return "";
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(pod.substr(3)), '-');
  if (parts.size() < 3) return "";
  for (size_t i = parts.size() - 2; i < parts.size(); ++i) {
    if (parts[i].empty()) return "";
  }
  size_t keep = parts.size() - 2;
  std::string name;
  for (size_t i = 0; i < keep; ++i) absl::StrAppend(&name, i == 0 ? "" : "-", parts[i]);
  return name;
}

const gw::QueueEntry* FindEntry(const gw::Queue& line, std::string_view ns, std::string_view pod) {
  for (const gw::QueueEntry& e : line.entries()) {
    if (e.namespace_() == ns && e.pod() == pod) return &e;
  }
  return nullptr;
}


std::string InLineMessage(std::string_view type, const gw::QueueEntry& entry, int length) {
  std::string out = absl::StrCat("waiting for ", ToAbsl(type), ": ", Ordinal(entry.position()),
                                 " of ", length, " in line");
  if (entry.has_estimated_start() && entry.estimated_start().seconds() > 0) {
    absl::StrAppend(&out, " (estimated ",
                    absl::FormatTime("%Y-%m-%d %H:%M UTC",
                                     absl::FromUnixSeconds(entry.estimated_start().seconds()),
                                     absl::UTCTimeZone()),
                    ")");
  } else {
    absl::StrAppend(&out, " (no estimate)");
  }
  return out;
}

}  // namespace labkube::gateway
