#include "lib/log.h"

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "lib/kube/absl_compat.h"
#include "spdlog/logger.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace labkube {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

// The process-wide logger, replaced as a whole by SetLogSink.
struct LoggerHolder {
  absl::Mutex mu;
  std::shared_ptr<spdlog::logger> logger ABSL_GUARDED_BY(mu);
};

std::shared_ptr<spdlog::logger> NewLogger(std::shared_ptr<spdlog::sinks::sink> sink) {
  if (sink == nullptr) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("labkube", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);  // the threshold is g_level
  logger->flush_on(spdlog::level::trace);
  return logger;
}

LoggerHolder& Holder() {
  static LoggerHolder* const holder = new LoggerHolder();  // never destroyed
  return *holder;
}

std::shared_ptr<spdlog::logger> CurrentLogger() {
  LoggerHolder& holder = Holder();
  absl::MutexLock lock(&holder.mu);
  if (holder.logger == nullptr) holder.logger = NewLogger(nullptr);
  return holder.logger;
}

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

void AppendKey(std::string_view key, std::string& out) {
  if (key == "ts" || key == "level" || key == "event") {
    AppendJsonString(absl::StrCat("field.", ToAbsl(key)), out);
  } else {
    AppendJsonString(key, out);
  }
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void LogValue::AppendJson(std::string& out) const {
  if (const auto* s = std::get_if<std::string>(&value_)) {
    AppendJsonString(*s, out);
  } else if (const auto* i = std::get_if<int64_t>(&value_)) {
    absl::StrAppend(&out, *i);
  } else if (const auto* b = std::get_if<bool>(&value_)) {
    out += *b ? "true" : "false";
  } else {
    double d = std::get<double>(value_);
    if (!std::isfinite(d)) {
      out += "null";
      return;
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
    out.append(buf, ec == std::errc() ? end - buf : 0);
  }
}

bool IsSensitiveKey(std::string_view key) {
  static constexpr std::string_view kSensitive[] = {
      "token",  "password",   "passwd",      "secret",  "authorization",
      "cookie", "credential", "private_key", "api_key", "apikey"};
  std::string lower = absl::AsciiStrToLower(ToAbsl(key));
  for (std::string_view word : kSensitive) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string FormatLogLine(LogLevel level, absl::Time ts, std::string_view event,
                          absl::Span<const LogField> fields) {
  std::string out = "{\"ts\":\"";
  out += absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone());
  out += "\",\"level\":\"";
  out += LogLevelName(level);
  out += "\",\"event\":";
  AppendJsonString(event, out);
  for (const LogField& field : fields) {
    out.push_back(',');
    AppendKey(field.key, out);
    out.push_back(':');
    if (IsSensitiveKey(field.key)) {
      AppendJsonString(kRedacted, out);
    } else {
      field.value.AppendJson(out);
    }
  }
  out.push_back('}');
  return out;
}

void LogEvent(LogLevel level, std::string_view event, absl::Span<const LogField> fields) {
  if (!LogLevelEnabled(level)) return;
  std::string line = FormatLogLine(level, absl::Now(), event, fields);
  CurrentLogger()->log(ToSpdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(ToAbsl(text));
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", ToAbsl(text), "\" (want debug, info, warn or error)"));
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

absl::Status SetLogLevel(std::string_view text) {
  absl::StatusOr<LogLevel> level = ParseLogLevel(text);
  if (!level.ok()) return level.status();
  SetLogLevel(*level);
  return absl::OkStatus();
}

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool LogLevelEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void SetLogSink(std::shared_ptr<spdlog::sinks::sink> sink) {
  std::shared_ptr<spdlog::logger> logger = NewLogger(std::move(sink));
  LoggerHolder& holder = Holder();
  absl::MutexLock lock(&holder.mu);
  holder.logger = std::move(logger);
}

}  // namespace labkube
