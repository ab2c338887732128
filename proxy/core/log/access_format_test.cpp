// Exact access-log lines (proxy/core/log/access_format.h).
#include "proxy/core/log/access_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

#include "proxy/core/openai/json_scan.h"

namespace llmproxy::log {
namespace {

using namespace std::chrono_literals;

// 2024-05-01T13:45:07.123456789Z
const WallTime kTime = WallTime(std::chrono::sys_days{std::chrono::year{2024} / 5 / 1}.time_since_epoch() + 13h +
                                45min + 7s + 123456789ns);

AccessEntry sample() {
  AccessEntry e;
  e.client_ip = "203.0.113.7";
  e.time = kTime;
  e.method = "POST";
  e.target = "/v1/chat/completions?x=1";
  e.status = 200;
  e.body_bytes = 1234;
  e.referer = "https://app.example/chat";
  e.user_agent = "OpenAI/Python 1.30.1";
  e.request_id = "a1b2c3";
  e.duration_seconds = 0.5326;
  e.backend = "vllm-a";
  e.model = "llama-3-8b";
  e.prompt_tokens = 12;
  e.completion_tokens = 34;
  e.stream = true;
  e.upstream_ttft_seconds = 0.1014;
  e.outcome = "ok";
  return e;
}

std::string combined(const AccessEntry& e) {
  std::string out;
  append_combined(out, e);
  return out;
}

std::string json_line(const AccessEntry& e) {
  std::string out;
  append_json(out, e);
  return out;
}

TEST(AccessCombined, TypicalLine) {
  EXPECT_EQ(combined(sample()),
            "203.0.113.7 - - [01/May/2024:13:45:07 +0000] \"POST /v1/chat/completions?x=1 HTTP/1.1\" 200 1234 "
            "\"https://app.example/chat\" \"OpenAI/Python 1.30.1\"\n");
}

TEST(AccessCombined, EmptyFieldsAreDashes) {
  AccessEntry e;
  e.time = WallTime{};
  e.protocol = "";
  e.status = 400;
  EXPECT_EQ(combined(e), "- - - [01/Jan/1970:00:00:00 +0000] \"-\" 400 0 \"-\" \"-\"\n");
  e.method = "GET";
  e.protocol = "HTTP/1.0";
  EXPECT_EQ(combined(e), "- - - [01/Jan/1970:00:00:00 +0000] \"GET HTTP/1.0\" 400 0 \"-\" \"-\"\n");
}

TEST(AccessCombined, EscapesAsNginx) {
  auto e = sample();
  e.user_agent = std::string_view("a\"b\\c\nd\re\tf\x01\x7f\xc3\xa9 g", 17);
  e.referer = "\"";
  e.target = "/v1/x\"y";
  EXPECT_EQ(combined(e),
            "203.0.113.7 - - [01/May/2024:13:45:07 +0000] \"POST /v1/x\\x22y HTTP/1.1\" 200 1234 \"\\x22\" "
            "\"a\\x22b\\x5Cc\\x0Ad\\x0De\\x09f\\x01\\x7F\\xC3\\xA9 g\"\n");
}

TEST(AccessCombined, NulBytesAreEscaped) {
  auto e = sample();
  e.user_agent = std::string_view("a\0b", 3);
  const auto line = combined(e);
  EXPECT_NE(line.find("\"a\\x00b\""), std::string::npos) << line;
}

TEST(AccessCombined, TimesAcrossTheCalendar) {
  AccessEntry e;
  e.time = WallTime(std::chrono::sys_days{std::chrono::year{2024} / 2 / 29}.time_since_epoch() + 23h + 59min + 59s +
                    999ms);
  EXPECT_NE(combined(e).find("[29/Feb/2024:23:59:59 +0000]"), std::string::npos);
  e.time = WallTime(-1ns);  // just before the epoch: floor, not truncation
  EXPECT_NE(combined(e).find("[31/Dec/1969:23:59:59 +0000]"), std::string::npos) << combined(e);
  e.time = WallTime::min();
  EXPECT_NE(combined(e).find("[21/Sep/1677:00:12:43 +0000]"), std::string::npos) << combined(e);
  e.time = WallTime::max();
  EXPECT_NE(combined(e).find("[11/Apr/2262:23:47:16 +0000]"), std::string::npos) << combined(e);
}

TEST(AccessJson, TypicalLine) {
  EXPECT_EQ(json_line(sample()),
            R"({"time":"2024-05-01T13:45:07.123Z","client_ip":"203.0.113.7","method":"POST",)"
            R"("target":"/v1/chat/completions?x=1","protocol":"HTTP/1.1","status":200,"body_bytes":1234,)"
            R"("referer":"https://app.example/chat","user_agent":"OpenAI/Python 1.30.1","request_id":"a1b2c3",)"
            R"("duration":0.533,"backend":"vllm-a","model":"llama-3-8b","prompt_tokens":12,"completion_tokens":34,)"
            R"("stream":true,"ttft":0.101,"outcome":"ok","error":"","usage_estimated":false,"key_name":"",)"
            R"("user_id":"","api_key":""})"
            "\n");
}

// The caller auth let in: its user_id in combined's $remote_user (spaces
// escaped, so the line still splits), and every field in JSON.
TEST(AccessLine, TheCallerIsLogged) {
  AccessEntry e = sample();
  e.key_name = "ci bot";
  e.user_id = "team a";
  e.key_prefix = "sk-live…";
  e.usage_estimated = true;
  EXPECT_EQ(combined(e).substr(0, 27), "203.0.113.7 - team\\x20a [01");
  const std::string j = json_line(e);
  EXPECT_NE(j.find(R"("usage_estimated":true,"key_name":"ci bot","user_id":"team a","api_key":"sk-live…"})"),
            std::string::npos)
      << j;
}

TEST(AccessJson, UnknownsAreNull) {
  AccessEntry e;
  e.status = 499;
  e.duration_seconds = std::numeric_limits<double>::quiet_NaN();
  e.outcome = "client_closed";
  e.error_code = "upstream_timeout";
  EXPECT_EQ(json_line(e),
            R"({"time":"1970-01-01T00:00:00.000Z","client_ip":"","method":"","target":"","protocol":"HTTP/1.1",)"
            R"("status":499,"body_bytes":0,"referer":"","user_agent":"","request_id":"","duration":null,)"
            R"("backend":"","model":"","prompt_tokens":null,"completion_tokens":null,"stream":false,"ttft":null,)"
            R"("outcome":"client_closed","error":"upstream_timeout","usage_estimated":false,"key_name":"",)"
            R"("user_id":"","api_key":""})"
            "\n");
  for (double d : {-0.5, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    e.duration_seconds = d;
    EXPECT_NE(json_line(e).find("\"duration\":null"), std::string::npos) << d;
  }
  e.duration_seconds = 0;
  e.prompt_tokens = 0;
  EXPECT_NE(json_line(e).find("\"duration\":0.000,"), std::string::npos);
  EXPECT_NE(json_line(e).find("\"prompt_tokens\":0,"), std::string::npos);
}

TEST(AccessJson, EscapesAnyBytes) {
  auto e = sample();
  e.user_agent = std::string_view("q\"b\\s\n\x01\x7f\xc3\xa9\xff\xe2\x82", 13);
  e.target = "/\u2028";
  const auto line = json_line(e);
  EXPECT_NE(line.find(R"("user_agent":"q\"b\\s\n\u0001)"
                      "\x7f\xc3\xa9"
                      R"(\ufffd\ufffd\ufffd")"),
            std::string::npos)
      << line;
  EXPECT_TRUE(json::validate(std::string_view(line).substr(0, line.size() - 1)));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(AccessJson, HugeNumbersStayValid) {
  auto e = sample();
  e.duration_seconds = 1e300;
  e.body_bytes = std::numeric_limits<std::uint64_t>::max();
  e.prompt_tokens = std::numeric_limits<std::int64_t>::max();
  e.status = std::numeric_limits<int>::min();
  const auto line = json_line(e);
  EXPECT_TRUE(json::validate(std::string_view(line).substr(0, line.size() - 1))) << line;
  EXPECT_NE(line.find("\"body_bytes\":18446744073709551615,"), std::string::npos);
}

TEST(AccessLine, FormatSelects) {
  std::string a, b;
  append_access_line(a, sample(), config::AccessFormat::combined);
  append_access_line(b, sample(), config::AccessFormat::json);
  EXPECT_EQ(a, combined(sample()));
  EXPECT_EQ(b, json_line(sample()));
  // Appends: an earlier line stays.
  append_access_line(a, sample(), config::AccessFormat::combined);
  EXPECT_EQ(a, combined(sample()) + combined(sample()));
}

}  // namespace
}  // namespace llmproxy::log
