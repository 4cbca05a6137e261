// Structured logging: one JSON object per line on stderr for each significant event, e.g.
//
//   LogEvent(LogLevel::kInfo, "claim.granted",
//            {{"namespace", ns}, {"node", node}, {"latency_ms", 1.2}});
//   -> {"ts":"2026-01-02T03:04:05.678Z","level":"info","event":"claim.granted",
//       "namespace":"team-a","node":"gpu-1","latency_ms":1.2}
//
// Field values are strings, integers, doubles or booleans (absl::Status is logged as its text).
// Strings are JSON-escaped. Secrets never reach the log: a field whose key looks sensitive
// (contains token, password, passwd, secret, authorization, cookie, credential, private_key or
// api_key, case-insensitively) is written as "[redacted]" whatever its value. Do not put secrets
// in event names or in the values of innocuous-looking keys. The keys "ts", "level" and "event"
// are reserved: fields with those names are written as "field.ts" etc.
//
// Output goes through spdlog (a process-wide logger writing to stderr, pattern "%v"); tests can
// swap the sink with SetLogSink. The level threshold is process-wide (default info).
//
// Thread safety: every function is safe to call from many threads at once; each line is written
// whole.
#ifndef LABKUBE_LIB_LOG_H_
#define LABKUBE_LIB_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace spdlog::sinks {
class sink;
}  // namespace spdlog::sinks

namespace labkube {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// One field value. Implicitly constructed from strings, integers, floating point numbers, bools
// and absl::Status, so fields can be written as {"key", value}.
class LogValue {
 public:
  LogValue(const char* s) : value_(std::string(s == nullptr ? "" : s)) {}  // NOLINT
  LogValue(std::string_view s) : value_(std::string(s)) {}                 // NOLINT
  LogValue(const std::string& s) : value_(s) {}                            // NOLINT
  LogValue(absl::string_view s) : value_(std::string(s)) {}                // NOLINT
  LogValue(bool b) : value_(b) {}                                          // NOLINT
  LogValue(double d) : value_(d) {}                                        // NOLINT
  LogValue(const absl::Status& status) : value_(status.ToString()) {}      // NOLINT
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  LogValue(T i) : value_(static_cast<int64_t>(i)) {}  // NOLINT

  // Appends the JSON text of the value (non-finite doubles become null).
  void AppendJson(std::string& out) const;

 private:
  std::variant<std::string, int64_t, double, bool> value_;
};

struct LogField {
  std::string_view key;
  LogValue value;
};

// Writes one event line if `level` is at or above the current threshold.
void LogEvent(LogLevel level, std::string_view event, absl::Span<const LogField> fields = {});

// The JSON line (without newline) LogEvent writes for an event at `ts`.
std::string FormatLogLine(LogLevel level, absl::Time ts, std::string_view event,
                          absl::Span<const LogField> fields);

// True when a field named `key` is written as "[redacted]".
bool IsSensitiveKey(std::string_view key);
inline constexpr char kRedacted[] = "[redacted]";

// "debug", "info", "warn" (or "warning"), "error", case-insensitive; else kInvalidArgument.
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text);
std::string_view LogLevelName(LogLevel level);
void SetLogLevel(LogLevel level);
// Parses `text` (ParseLogLevel) and sets the threshold; leaves it unchanged on error.
absl::Status SetLogLevel(std::string_view text);
LogLevel GetLogLevel();
bool LogLevelEnabled(LogLevel level);

// Sends lines to `sink` instead of stderr (nullptr: back to stderr). For tests.
void SetLogSink(std::shared_ptr<spdlog::sinks::sink> sink);

// JSON string literal (with quotes) for `s`.
void AppendJsonString(std::string_view s, std::string& out);

}  // namespace labkube

#endif  // LABKUBE_LIB_LOG_H_
