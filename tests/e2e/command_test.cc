#include "tests/e2e/command.h"

#include "gtest/gtest.h"

namespace labkube::e2e {
namespace {

TEST(CommandTest, SeparatesStdoutAndStderrAndFeedsStdin) {
  auto r = e2e::Run({"/bin/sh", "-c", "read x; echo out-$x; echo err-$FOO >&2; exit 3"},
               {.stdin_text = "hello\n", .env = {{"FOO", "bar"}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out-hello\n");
  EXPECT_EQ(r->err, "err-bar\n");
}

TEST(CommandTest, KillsAtTheTimeout) {
  CommandOptions options;
  options.timeout = absl::Milliseconds(100);
  auto r = e2e::Run({"/bin/sleep", "30"}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_NE(r->Describe().find("timed out"), std::string::npos);
}

TEST(CommandTest, MissingBinaryIsAnError) {
  EXPECT_FALSE(e2e::Run({"/nonexistent/tool"}).ok());
}

}  // namespace
}  // namespace labkube::e2e
