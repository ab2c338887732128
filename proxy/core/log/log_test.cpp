#include "proxy/core/log/log.h"

#include <gtest/gtest.h>

namespace llmproxy::log {
namespace {

TEST(Log, JsonLineEscapesAndCarriesFields) {
  const WallTime t(std::chrono::seconds(86400) + std::chrono::milliseconds(5));
  const auto line = render(Level::warn, "upstream \"slow\"\n", {{"backend", "vllm-1"}},
                           Format::json, &t);
  EXPECT_EQ(line,
            "{\"ts\":\"1970-01-02T00:00:00.005Z\",\"level\":\"warn\","
            "\"msg\":\"upstream \\\"slow\\\"\\n\",\"backend\":\"vllm-1\"}\n");
}

TEST(Log, TextLine) {
  EXPECT_EQ(render(Level::info, "listening", {{"addr", "127.0.0.1:8080"}}, Format::text, nullptr),
            "info listening addr=127.0.0.1:8080\n");
}

TEST(Log, LevelFilter) {
  LoggerOptions o;
  o.level = Level::warn;
  configure(o);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::error));
  configure({});
}

}  // namespace
}  // namespace llmproxy::log
