#include "lib/log.h"

#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "spdlog/sinks/ostream_sink.h"

namespace labkube {
namespace {

const absl::Time kTs = absl::FromUnixMillis(1767225600123);  // 2026-01-01T00:00:00.123Z

TEST(LogTest, FormatsOneJsonObject) {
  std::string ns = "team-a";
  EXPECT_EQ(FormatLogLine(LogLevel::kInfo, kTs, "claim.granted",
                          {{"namespace", ns}, {"node", "gpu-1"}, {"latency_ms", 1.2}}),
            R"({"ts":"2026-01-01T00:00:00.123Z","level":"info","event":"claim.granted",)"
            R"("namespace":"team-a","node":"gpu-1","latency_ms":1.2})");
}

TEST(LogTest, ValueTypes) {
  std::string_view view = "v";
  absl::string_view absl_view = "a";
  EXPECT_EQ(FormatLogLine(LogLevel::kWarn, kTs, "e",
                          {{"i", 42},
                           {"neg", int64_t{-7}},
                           {"u", 3u},
                           {"d", 2.0},
                           {"inf", std::numeric_limits<double>::infinity()},
                           {"t", true},
                           {"f", false},
                           {"sv", view},
                           {"av", absl_view},
                           {"err", absl::NotFoundError("gone")}}),
            R"({"ts":"2026-01-01T00:00:00.123Z","level":"warn","event":"e","i":42,"neg":-7,)"
            R"("u":3,"d":2,"inf":null,"t":true,"f":false,"sv":"v","av":"a",)"
            R"("err":"NOT_FOUND: gone"})");
}

TEST(LogTest, EscapesStringsAndParsesAsJson) {
  std::string nasty = "quote\" backslash\\ newline\n tab\t ctl\x01 utf8 \xc3\xa9";
  std::string line = FormatLogLine(LogLevel::kError, kTs, "ev\"il", {{"k\"ey", nasty}});
  EXPECT_NE(line.find(R"("quote\" backslash\\ newline\n tab\t ctl\u0001 utf8 )"), std::string::npos)
      << line;
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  ASSERT_FALSE(doc.HasParseError()) << line;
  EXPECT_EQ(std::string(doc["k\"ey"].GetString()), nasty);
  EXPECT_EQ(std::string(doc["event"].GetString()), "ev\"il");
}

TEST(LogTest, RedactsSensitiveFields) {
  std::string line = FormatLogLine(LogLevel::kInfo, kTs, "login",
                                   {{"token", "abc"},
                                    {"password", "hunter2"},
                                    {"client_secret", "s3"},
                                    {"Authorization", "Bearer xyz"},
                                    {"bearer_token", 12345},
                                    {"user", "alice"}});
  EXPECT_EQ(line, R"({"ts":"2026-01-01T00:00:00.123Z","level":"info","event":"login",)"
                  R"("token":"[redacted]","password":"[redacted]","client_secret":"[redacted]",)"
                  R"("Authorization":"[redacted]","bearer_token":"[redacted]","user":"alice"})");
  EXPECT_TRUE(IsSensitiveKey("TOKEN"));
  EXPECT_TRUE(IsSensitiveKey("secret"));
  EXPECT_FALSE(IsSensitiveKey("namespace"));
}

TEST(LogTest, ReservedKeysAreRenamed) {
  EXPECT_EQ(FormatLogLine(LogLevel::kDebug, kTs, "e", {{"level", "x"}}),
            R"({"ts":"2026-01-01T00:00:00.123Z","level":"debug","event":"e","field.level":"x"})");
}

TEST(LogTest, ParsesLevels) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("INFO"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("loud").status().code(), absl::StatusCode::kInvalidArgument);
}

class LogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)); }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }
  std::vector<std::string> Lines() { return absl::StrSplit(out_.str(), '\n', absl::SkipEmpty()); }
  std::ostringstream out_;
};

TEST_F(LogSinkTest, WritesLinesAtOrAboveTheLevel) {
  ASSERT_TRUE(SetLogLevel("warn").ok());
  EXPECT_EQ(GetLogLevel(), LogLevel::kWarn);
  LogEvent(LogLevel::kInfo, "hidden");
  LogEvent(LogLevel::kWarn, "shown", {{"n", 1}});
  LogEvent(LogLevel::kError, "also.shown");
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("level":"warn","event":"shown","n":1})"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("level":"error","event":"also.shown"})"), std::string::npos);
  EXPECT_FALSE(SetLogLevel("nope").ok());
  EXPECT_EQ(GetLogLevel(), LogLevel::kWarn);
}

TEST_F(LogSinkTest, ConcurrentWritersProduceWholeLines) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        LogEvent(LogLevel::kInfo, "tick", {{"thread", t}, {"i", i}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const std::string& line : lines) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    ASSERT_FALSE(doc.HasParseError()) << line;
  }
}

}  // namespace
}  // namespace labkube
