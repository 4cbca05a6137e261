#include "services/gateway/web/availability_history.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::gateway::web {

AvailabilityHistory::AvailabilityHistory(Availability& availability, Clock& clock,
                                         HistoryOptions options)
    : availability_(availability), clock_(clock), options_(options) {}

AvailabilityHistory::~AvailabilityHistory() { Stop(); }

void AvailabilityHistory::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Follow(); });
}

void AvailabilityHistory::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void AvailabilityHistory::Follow() {
  uint64_t seen = 0;
  while (!stop_) {
    // Wakes on every change, and at least every second to notice Stop() and to sample an
    // unchanged state into each interval.
    AvailabilitySnapshot snap = availability_.WaitNewer(seen, absl::Seconds(1));
    if (snap.version == 0) continue;
    seen = snap.version;
    Record(snap.types);
  }
}

void AvailabilityHistory::Record(const std::vector<gw::MachineType>& types) {
  const absl::Time now = clock_.Now();
  const absl::Time bucket = absl::FromUnixSeconds(
      absl::ToUnixSeconds(now) / absl::ToInt64Seconds(options_.resolution) *
      absl::ToInt64Seconds(options_.resolution));
  Sample sample{bucket, {}};
  for (const gw::MachineType& t : types) {
    if (sample.counts.size() >= options_.max_types) break;
    sample.counts.push_back(Count{absl::StrCat(t.group(), "/", t.name()), t.free(), t.used(),
                                  t.waiting(), t.maximum()});
  }
  const size_t max_samples =
      std::max<int64_t>(1, options_.keep / options_.resolution);
  absl::MutexLock lock(&mu_);
  if (!samples_.empty() && samples_.back().bucket == bucket) {
    samples_.back() = std::move(sample);
  } else {
    samples_.push_back(std::move(sample));
  }
  while (samples_.size() > max_samples ||
         (!samples_.empty() && samples_.front().bucket < now - options_.keep)) {
    samples_.pop_front();
  }
}

std::string AvailabilityHistory::Json() {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("resolutionSeconds");
  w.Int64(absl::ToInt64Seconds(options_.resolution));
  w.Key("samples");
  w.StartArray();
  {
    absl::MutexLock lock(&mu_);
    for (const Sample& s : samples_) {
      w.StartObject();
      w.Key("time");
      std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", s.bucket, absl::UTCTimeZone());
      w.String(time.c_str());
      w.Key("types");
      w.StartArray();
      for (const Count& c : s.counts) {
        w.StartObject();
        w.Key("type");
        w.String(c.type.c_str());
        w.Key("free");
        w.Int(c.free);
        w.Key("used");
        w.Int(c.used);
        w.Key("waiting");
        w.Int(c.waiting);
        w.Key("maximum");
        w.Int(c.maximum);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

size_t AvailabilityHistory::SampleCount() {
  absl::MutexLock lock(&mu_);
  return samples_.size();
}

}  // namespace labkube::gateway::web
