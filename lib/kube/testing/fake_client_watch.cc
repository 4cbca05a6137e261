// FakeClient: Watch, the event history and the test controls.
#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/kube/testing/selector.h"
#include "lib/status_macros.h"

namespace labkube::kube::testing {

struct FakeClient::WatchState {
  std::string resource;  // ResourceKey()
  std::string ns;        // "" = all namespaces
  std::string kind;
  std::string api_version;
  Selector labels;
  Selector fields;
  bool allow_bookmarks = true;
  int64_t cursor = 0;  // seq of the next history event to look at
  int64_t close_generation = 0;
  absl::Time deadline;
  absl::Time last_bookmark;
  std::vector<WatchEvent> initial;  // for resource_version "0"
  bool poll_should_stop = false;    // options.should_stop is set
};

namespace {

// How often an idle watch returns to its loop to poll WatchOptions::should_stop.
constexpr absl::Duration kShouldStopPoll = absl::Milliseconds(10);

WatchEvent Bookmark(std::string_view kind, std::string_view api_version, int64_t rv) {
  WatchEvent event{WatchEventType::kBookmark, json::NewObject(api_version, kind, "", "")};
  json::SetString(event.object, {"metadata", "resourceVersion"}, absl::StrCat(rv));
  return event;
}

}  // namespace

void FakeClient::AppendEvent(WatchEventType type, std::string resource, ObjectPtr object,
                             ObjectPtr old) {
  history_.push_back(
      Event{next_seq_++, rv_, type, std::move(resource), std::move(object), std::move(old)});
  while (history_.size() > history_limit_) {
    compacted_rv_ = std::max(compacted_rv_, history_.front().rv);
    history_.pop_front();
  }
}

absl::Status FakeClient::Watch(const Resource& resource, std::string_view ns,
                               const WatchOptions& options, const WatchCallback& on_event) {
  LK_RETURN_IF_ERROR(BeginCall("Watch"));
  WatchState state;
  LK_ASSIGN_OR_RETURN(state.labels, Selector::ParseLabels(options.label_selector));
  LK_ASSIGN_OR_RETURN(state.fields, Selector::ParseFields(options.field_selector));
  state.ns = resource.namespaced ? std::string(ns) : "";
  state.allow_bookmarks = options.allow_bookmarks;
  state.poll_should_stop = static_cast<bool>(options.should_stop);
  state.deadline = absl::Now() + options.timeout;
  state.last_bookmark = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    LK_RETURN_IF_ERROR(StartWatch(resource, options, state));
    ++active_watches_;
  }
  std::vector<WatchEvent> batch = std::move(state.initial);
  auto should_stop = [&options] { return options.should_stop && options.should_stop(); };
  absl::Status status;
  bool more = true;
  while (more) {
    for (WatchEvent& event : batch) {
      if (should_stop() || !on_event(std::move(event))) {
        more = false;
        break;
      }
    }
    batch.clear();
    if (!more || should_stop()) break;
    absl::MutexLock lock(&mu_);
    absl::StatusOr<bool> next = NextEvents(state, batch);
    if (!next.ok()) status = next.status();
    more = next.ok() && *next;
  }
  absl::MutexLock lock(&mu_);
  --active_watches_;
  return status;
}

absl::Status FakeClient::StartWatch(const Resource& resource, const WatchOptions& options,
                                    WatchState& state) {
  state.resource = ResourceKey(resource);
  state.kind = resource.kind;
  state.api_version = resource.ApiVersion();
  state.close_generation = close_generation_;
  state.cursor = next_seq_;
  if (options.resource_version.empty()) return absl::OkStatus();
  int64_t rv = 0;
  if (!absl::SimpleAtoi(ToAbsl(options.resource_version), &rv) || rv < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid resourceVersion \"", options.resource_version, "\""));
  }
  if (rv == 0) {  // "any": the current state as ADDED events, then changes
    for (const auto& [key, object] : objects_[state.resource]) {
      Translate(Event{0, 0, WatchEventType::kAdded, state.resource, object, nullptr}, state,
                state.initial);
    }
    return absl::OkStatus();
  }
  if (rv < compacted_rv_) {
    return absl::OutOfRangeError(
        absl::StrCat("too old resource version: ", rv, " (", compacted_rv_, ")"));
  }
  auto first =
      std::find_if(history_.begin(), history_.end(), [rv](const Event& e) { return e.rv > rv; });
  if (first != history_.end()) state.cursor = first->seq;
  return absl::OkStatus();
}

absl::StatusOr<bool> FakeClient::NextEvents(WatchState& state, std::vector<WatchEvent>& out) {
  absl::Duration interval = bookmark_interval_;
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return next_seq_ > state.cursor || close_generation_ != state.close_generation ||
           bookmark_interval_ != interval;
  };
  absl::Time bookmark_due =
      state.allow_bookmarks ? state.last_bookmark + interval : absl::InfiniteFuture();
  absl::Time wake = std::min(state.deadline, bookmark_due);
  if (state.poll_should_stop) wake = std::min(wake, absl::Now() + kShouldStopPoll);
  mu_.AwaitWithDeadline(absl::Condition(&ready), wake);
  if (close_generation_ != state.close_generation) return false;
  int64_t first_seq = history_.empty() ? next_seq_ : history_.front().seq;
  if (state.cursor < first_seq) {
    return absl::OutOfRangeError("too old resource version: watch fell behind the history");
  }
  for (auto it = history_.begin() + (state.cursor - first_seq); it != history_.end(); ++it) {
    Translate(*it, state, out);
  }
  state.cursor = next_seq_;
  absl::Time now = absl::Now();
  if (state.allow_bookmarks && now >= state.last_bookmark + bookmark_interval_) {
    out.push_back(Bookmark(state.kind, state.api_version, rv_));
    state.last_bookmark = now;
  }
  return !out.empty() || now < state.deadline;
}

void FakeClient::Translate(const Event& event, const WatchState& state,
                           std::vector<WatchEvent>& out) {
  if (event.type == WatchEventType::kBookmark) {
    if (state.allow_bookmarks) out.push_back(Bookmark(state.kind, state.api_version, event.rv));
    return;
  }
  if (event.resource != state.resource) return;
  const rapidjson::Value& object = *event.object;
  if (!state.ns.empty() && json::GetString(object, {"metadata", "namespace"}) != state.ns) return;
  auto matches = [&](const rapidjson::Value& o) {
    return state.labels.Matches(o) && state.fields.Matches(o);
  };
  bool now_matches = matches(object);
  WatchEventType type = event.type;
  if (type == WatchEventType::kModified) {
    bool was_matching = matches(*event.old);
    if (!was_matching && !now_matches) return;
    if (!was_matching) type = WatchEventType::kAdded;
    if (!now_matches) type = WatchEventType::kDeleted;
  } else if (!now_matches) {
    return;
  }
  out.push_back(WatchEvent{type, json::Copy(object)});
}

void FakeClient::InjectError(std::string_view method, absl::Status status, int times) {
  absl::MutexLock lock(&mu_);
  if (times == 0) return;
  injected_[std::string(method)] = Injected{std::move(status), times};
}

void FakeClient::ClearInjectedErrors() {
  absl::MutexLock lock(&mu_);
  injected_.clear();
}

int FakeClient::CallCount(std::string_view method) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

void FakeClient::CloseWatches() {
  absl::MutexLock lock(&mu_);
  ++close_generation_;
}

int FakeClient::ActiveWatches() {
  absl::MutexLock lock(&mu_);
  return active_watches_;
}

void FakeClient::SendBookmarks() {
  absl::MutexLock lock(&mu_);
  AppendEvent(WatchEventType::kBookmark, "", nullptr, nullptr);
}

void FakeClient::SetBookmarkInterval(absl::Duration interval) {
  absl::MutexLock lock(&mu_);
  bookmark_interval_ = interval;
}

void FakeClient::SetHistoryLimit(size_t limit) {
  absl::MutexLock lock(&mu_);
  history_limit_ = limit;
  while (history_.size() > history_limit_) {
    compacted_rv_ = std::max(compacted_rv_, history_.front().rv);
    history_.pop_front();
  }
}

void FakeClient::CompactHistory() {
  absl::MutexLock lock(&mu_);
  compacted_rv_ = rv_;
  history_.clear();
}

std::string FakeClient::CurrentResourceVersion() {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(rv_);
}

void FakeClient::SetSubresourceHandler(SubresourceHandler handler) {
  absl::MutexLock lock(&mu_);
  subresource_handler_ = std::move(handler);
}

}  // namespace labkube::kube::testing
