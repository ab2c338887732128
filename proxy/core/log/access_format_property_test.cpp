// Properties of the access-log formats over arbitrary entries (any bytes in
// every text field, any time, any numbers):
//   - every output is exactly one line: "\n" only at its end, no CR, no NUL;
//   - a json line parses (our strict scanner and Boost.JSON), has the
//     documented keys in order, and gives back each text field when it was
//     valid UTF-8 and each number (null exactly when unknown);
//   - a combined line is printable ASCII, splits into its nine fields, and
//     un-escaping a field gives back the original bytes ("-" for empty).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "proxy/core/log/access_format.h"
#include "proxy/core/openai/json_scan.h"
#include "proxy/core/util/utf8.h"

namespace llmproxy::log {
namespace {

// Backing storage for an entry's views.
struct Texts {
  std::string client_ip, method, target, protocol, referer, user_agent, request_id, backend, model, outcome, error,
      key_name, user_id, key_prefix;
};

rc::Gen<std::string> text() {
  return rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::elementOf(std::vector<std::string>{"", "POST", "/v1/chat/completions", "curl/8.5.0", "\"",
                                                  "\\", "a\nb", "\r\n", std::string(1, '\0'), "\xc3\xa9",
                                                  "\xff\xfe", "\xe2\x82", "\x7f", "\u2028", "-"}),
      rc::gen::map(rc::gen::container<std::vector<char>>(rc::gen::arbitrary<char>()),
                   [](const std::vector<char>& v) { return std::string(v.begin(), v.end()); }));
}

rc::Gen<double> seconds() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::inRange(0, 10'000'000), [](int ms) { return ms / 1000.0; }),
                        rc::gen::elementOf(std::vector<double>{-1, -0.0, 0, 1e300, -1e-9,
                                                               std::numeric_limits<double>::quiet_NaN(),
                                                               std::numeric_limits<double>::infinity(),
                                                               std::numeric_limits<double>::denorm_min()}),
                        rc::gen::arbitrary<double>());
}

AccessEntry make_entry(Texts& t) {
  t.client_ip = *rc::gen::oneOf(rc::gen::elementOf(std::vector<std::string>{"", "127.0.0.1", "2001:db8::1"}), text());
  t.method = *text();
  t.target = *text();
  t.protocol = *rc::gen::oneOf(rc::gen::just(std::string("HTTP/1.1")), text());
  t.referer = *text();
  t.user_agent = *text();
  t.request_id = *text();
  t.backend = *text();
  t.model = *text();
  t.outcome = *text();
  t.error = *text();
  t.key_name = *text();
  t.user_id = *rc::gen::oneOf(text(), rc::gen::just(std::string("team a")));
  t.key_prefix = *text();
  AccessEntry e;
  e.client_ip = t.client_ip;
  e.time = WallTime(Duration(*rc::gen::arbitrary<std::int64_t>()));
  e.method = t.method;
  e.target = t.target;
  e.protocol = t.protocol;
  e.status = *rc::gen::oneOf(rc::gen::inRange(100, 600), rc::gen::arbitrary<int>());
  e.body_bytes = *rc::gen::arbitrary<std::uint64_t>();
  e.referer = t.referer;
  e.user_agent = t.user_agent;
  e.request_id = t.request_id;
  e.duration_seconds = *seconds();
  e.backend = t.backend;
  e.model = t.model;
  e.prompt_tokens = *rc::gen::oneOf(rc::gen::just<std::int64_t>(-1), rc::gen::arbitrary<std::int64_t>());
  e.completion_tokens = *rc::gen::oneOf(rc::gen::just<std::int64_t>(-1), rc::gen::arbitrary<std::int64_t>());
  e.stream = *rc::gen::arbitrary<bool>();
  e.upstream_ttft_seconds = *seconds();
  e.outcome = t.outcome;
  e.error_code = t.error;
  e.usage_estimated = *rc::gen::arbitrary<bool>();
  e.key_name = t.key_name;
  e.user_id = t.user_id;
  e.key_prefix = t.key_prefix;
  return e;
}

void assert_one_line(const std::string& line) {
  RC_ASSERT(!line.empty());
  RC_ASSERT(line.find('\n') == line.size() - 1);
  RC_ASSERT(line.find('\r') == std::string::npos);
  RC_ASSERT(line.find('\0') == std::string::npos);
}

void assert_seconds(const boost::json::value& v, double expected) {
  if (!std::isfinite(expected) || expected < 0) {
    RC_ASSERT(v.is_null());
    return;
  }
  RC_ASSERT(v.is_number());
  const double got = v.to_number<double>();
  RC_ASSERT(std::fabs(got - expected) <= 0.0005 + std::fabs(expected) * 1e-12);
}

void assert_count(const boost::json::value& v, std::int64_t expected) {
  if (expected < 0) {
    RC_ASSERT(v.is_null());
    return;
  }
  RC_ASSERT(v.to_number<std::int64_t>() == expected);
}

void assert_text(const boost::json::value& v, std::string_view expected) {
  RC_ASSERT(v.is_string());
  if (util::is_valid_utf8(expected)) RC_ASSERT(std::string_view(v.as_string()) == expected);
}

RC_GTEST_PROP(AccessFormatProperty, JsonLineParsesAndRoundTrips, ()) {
  Texts t;
  const AccessEntry e = make_entry(t);
  std::string line = "previous line\n";
  const std::size_t start = line.size();
  append_json(line, e);
  RC_ASSERT(line.compare(0, start, "previous line\n") == 0);
  line.erase(0, start);
  assert_one_line(line);
  const std::string_view body(line.data(), line.size() - 1);
  RC_ASSERT(json::validate(body));

  const boost::json::value doc = boost::json::parse(body);
  const auto& o = doc.as_object();
  const std::vector<std::string> keys = {"time", "client_ip", "method", "target", "protocol", "status",
                                         "body_bytes", "referer", "user_agent", "request_id", "duration",
                                         "backend", "model", "prompt_tokens", "completion_tokens", "stream",
                                         "ttft", "outcome", "error", "usage_estimated", "key_name", "user_id",
                                         "api_key"};
  RC_ASSERT(o.size() == keys.size());
  std::size_t i = 0;
  for (const auto& member : o) RC_ASSERT(std::string_view(member.key()) == keys[i++]);

  RC_ASSERT(o.at("time").as_string().size() == std::string_view("2024-05-01T13:45:07.123Z").size());
  assert_text(o.at("client_ip"), e.client_ip);
  assert_text(o.at("method"), e.method);
  assert_text(o.at("target"), e.target);
  assert_text(o.at("protocol"), e.protocol);
  RC_ASSERT(o.at("status").to_number<std::int64_t>() == e.status);
  RC_ASSERT(o.at("body_bytes").to_number<std::uint64_t>() == e.body_bytes);
  assert_text(o.at("referer"), e.referer);
  assert_text(o.at("user_agent"), e.user_agent);
  assert_text(o.at("request_id"), e.request_id);
  assert_seconds(o.at("duration"), e.duration_seconds);
  assert_text(o.at("backend"), e.backend);
  assert_text(o.at("model"), e.model);
  assert_count(o.at("prompt_tokens"), e.prompt_tokens);
  assert_count(o.at("completion_tokens"), e.completion_tokens);
  RC_ASSERT(o.at("stream").as_bool() == e.stream);
  assert_seconds(o.at("ttft"), e.upstream_ttft_seconds);
  assert_text(o.at("outcome"), e.outcome);
  assert_text(o.at("error"), e.error_code);
  RC_ASSERT(o.at("usage_estimated").as_bool() == e.usage_estimated);
  assert_text(o.at("key_name"), e.key_name);
  assert_text(o.at("user_id"), e.user_id);
  assert_text(o.at("api_key"), e.key_prefix);
}

// Reverses nginx escaping: \xHH → the byte; anything else is kept.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string expected_field(std::string_view s) { return s.empty() ? "-" : std::string(s); }

RC_GTEST_PROP(AccessFormatProperty, CombinedLineSplitsBack, ()) {
  Texts t;
  AccessEntry e = make_entry(t);
  const std::string ip = *rc::gen::elementOf(std::vector<std::string>{"", "127.0.0.1", "2001:db8::1"});
  e.client_ip = ip;
  std::string line;
  append_combined(line, e);
  assert_one_line(line);
  for (std::size_t i = 0; i + 1 < line.size(); ++i)
    RC_ASSERT(line[i] >= 0x20 && line[i] < 0x7F);

  // ip - - [time] "request" status bytes "referer" "user agent"\n — with
  // every '"' inside a field escaped, the quotes delimit exactly.
  std::vector<std::size_t> quotes;
  for (std::size_t i = 0; i < line.size(); ++i)
    if (line[i] == '"') quotes.push_back(i);
  RC_ASSERT(quotes.size() == 6u);
  const std::string_view l(line);
  const auto head = l.substr(0, quotes[0]);
  // ip - user [time] : five space-separated parts (the user's spaces escaped).
  RC_ASSERT(head.substr(0, head.find(' ')) == expected_field(ip));
  RC_ASSERT(head.substr(head.size() - 2) == "] ");
  const auto after_ip = head.substr(head.find(' ') + 1);
  RC_ASSERT(after_ip.substr(0, 2) == "- ");
  const auto user_and_time = after_ip.substr(2);
  const auto user = user_and_time.substr(0, user_and_time.find(' '));
  RC_ASSERT(unescape(user) == expected_field(e.user_id));
  RC_ASSERT(user_and_time.size() - user.size() == std::string_view(" [01/May/2024:13:45:07 +0000] ").size());

  // The request line: the non-empty parts joined with single spaces, or "-".
  std::string joined;
  for (const std::string_view part : {e.method, e.target, e.protocol}) {
    if (part.empty()) continue;
    if (!joined.empty()) joined.push_back(' ');
    joined += part;
  }
  RC_ASSERT(unescape(l.substr(quotes[0] + 1, quotes[1] - quotes[0] - 1)) == expected_field(joined));

  const auto middle = l.substr(quotes[1] + 1, quotes[2] - quotes[1] - 1);
  RC_ASSERT(std::string(middle) == " " + std::to_string(e.status) + " " + std::to_string(e.body_bytes) + " ");
  RC_ASSERT(unescape(l.substr(quotes[2] + 1, quotes[3] - quotes[2] - 1)) == expected_field(e.referer));
  RC_ASSERT(l.substr(quotes[3] + 1, quotes[4] - quotes[3] - 1) == " ");
  RC_ASSERT(unescape(l.substr(quotes[4] + 1, quotes[5] - quotes[4] - 1)) == expected_field(e.user_agent));
  RC_ASSERT(l.substr(quotes[5] + 1) == "\n");
}

}  // namespace
}  // namespace llmproxy::log
