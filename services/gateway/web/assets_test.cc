#include "services/gateway/web/assets.h"

#include <gtest/gtest.h>

#include <string>

namespace labkube::gateway::web {
namespace {

const Asset* Find(std::string_view path) {
  for (const Asset& a : Assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

TEST(AssetsTest, ThePageIsCompiledIn) {
  const Asset* index = Find("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->data.find("<!doctype html>"), std::string::npos);
  ASSERT_NE(Find("/app.js"), nullptr);
  EXPECT_EQ(Find("/app.js")->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(Find("/style.css"), nullptr);
}

TEST(AssetsTest, NothingIsFetchedFromElsewhere) {
  for (const Asset& a : Assets()) {
    std::string data(a.data);
    // The SVG namespace is a name, not an address the browser loads.
    for (size_t at; (at = data.find("http://www.w3.org/2000/svg")) != std::string::npos;) {
      data.erase(at, 26);
    }
    for (const char* remote : {"http://", "https://", "//cdn", "@import"}) {
      EXPECT_EQ(data.find(remote), std::string::npos) << a.path << " mentions " << remote;
    }
  }
}

}  // namespace
}  // namespace labkube::gateway::web
