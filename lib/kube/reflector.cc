#include "lib/kube/reflector.h"

#include <algorithm>
#include <utility>

#include "absl/random/distributions.h"
#include "lib/kube/json.h"
#include "lib/kube/status.h"

namespace labkube::kube {
namespace {

std::string ResourceVersionOf(const rapidjson::Value& object) {
  return std::string(json::GetString(object, {"metadata", "resourceVersion"}));
}

}  // namespace

Reflector::Reflector(Client& client, const Resource& resource, ReflectorOptions options,
                     ReflectorSink& sink, Clock& clock)
    : client_(client),
      resource_(resource),
      api_version_(resource.ApiVersion()),
      options_(std::move(options)),
      sink_(sink),
      clock_(clock),
      backoff_(options_.initial_backoff) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Reflector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_requested_ = true;
  }
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string Reflector::LastResourceVersion() {
  absl::MutexLock lock(&mu_);
  return resource_version_;
}

absl::Status Reflector::LastError() {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void Reflector::SetResourceVersion(std::string rv) {
  absl::MutexLock lock(&mu_);
  resource_version_ = std::move(rv);
}

void Reflector::Run() {
  bool need_list = true;
  bool relisted_for_gone = false;  // an immediate relist after 410 Gone, without progress since
  while (!stopping()) {
    absl::Status status;
    bool progressed = false;
    if (need_list) {
      status = ListAndReplace();
      need_list = !status.ok();
    }
    if (status.ok()) status = WatchOnce(progressed);
    if (stopping()) break;
    if (status.ok() || progressed) {
      backoff_ = options_.initial_backoff;
      relisted_for_gone = false;
    }
    if (status.ok()) continue;  // the watch ended normally: resume from the last version
    {
      absl::MutexLock lock(&mu_);
      last_error_ = status;
    }
    if (status.code() == absl::StatusCode::kOutOfRange) {
      need_list = true;
      if (!relisted_for_gone) {  // relist at once; back off only if it keeps happening
        relisted_for_gone = true;
        continue;
      }
    }
    if (!Backoff()) break;
  }
}

absl::Status Reflector::ListAndReplace() {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  std::vector<ObjectPtr> objects;
  std::string rv;
  do {
    absl::StatusOr<ObjectList> page = client_.List(resource_, options_.ns, list_options);
    if (!page.ok() && page.status().code() == absl::StatusCode::kOutOfRange &&
        !list_options.continue_token.empty()) {
      // The continue token expired: list everything in one request instead.
      objects.clear();
      rv.clear();
      list_options.continue_token.clear();
      list_options.limit = 0;
      continue;
    }
    if (!page.ok()) return page.status();
    if (rv.empty()) rv = page->resource_version;
    for (const rapidjson::Value& item : page->items().GetArray()) {
      objects.push_back(Keep(item));
    }
    list_options.continue_token = page->continue_token;
  } while (!list_options.continue_token.empty() && !stopping());
  if (stopping()) return absl::CancelledError("reflector stopped");
  sink_.Replace(std::move(objects), rv);
  SetResourceVersion(std::move(rv));
  synced_ = true;
  return absl::OkStatus();
}

absl::Status Reflector::WatchOnce(bool& progressed) {
  WatchOptions watch_options;
  watch_options.resource_version = LastResourceVersion();
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.allow_bookmarks = true;
  watch_options.timeout = options_.watch_timeout;
  watch_options.should_stop = [this] { return stopping(); };
  absl::Status error;
  absl::Status status =
      client_.Watch(resource_, options_.ns, watch_options, [&](WatchEvent&& event) {
        if (stopping()) return false;
        if (event.type != WatchEventType::kError) progressed = true;
        return HandleEvent(std::move(event), error) && !stopping();
      });
  return status.ok() ? error : status;
}

bool Reflector::HandleEvent(WatchEvent&& event, absl::Status& error) {
  std::string rv = ResourceVersionOf(event.object);
  switch (event.type) {
    case WatchEventType::kError:
      error = StatusFromObject(event.object, "watch " + resource_.plural);
      if (error.ok()) error = absl::UnknownError("watch ERROR event with a success status");
      return false;
    case WatchEventType::kBookmark:
      break;
    case WatchEventType::kAdded:
      sink_.Add(Keep(event.object));
      break;
    case WatchEventType::kModified:
      sink_.Update(Keep(event.object));
      break;
    case WatchEventType::kDeleted:
      sink_.Delete(Keep(event.object));
      break;
  }
  if (!rv.empty()) SetResourceVersion(std::move(rv));
  return true;
}

ObjectPtr Reflector::Keep(const rapidjson::Value& object) const {
  // List items lack kind and apiVersion; watch objects carry them.
  return CompactCopy(object, options_.fields, resource_.kind, api_version_);
}

bool Reflector::Backoff() {
  double jitter = absl::Uniform(random_, 1.0, 1.5);
  absl::Duration wait = std::min(backoff_ * jitter, options_.max_backoff);
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  absl::MutexLock lock(&mu_);
  return !clock_.AwaitWithTimeout(mu_, absl::Condition(&stop_requested_), wait);
}

}  // namespace labkube::kube
