#include "conformance/harness/usage_oracle.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include <string>

namespace llmproxy::harness {
namespace {

namespace bj = boost::json;

bool non_empty_string(const bj::value* v) { return v && v->is_string() && !v->as_string().empty(); }

bool carries_output(const bj::object& chunk) {
  const auto* choices = chunk.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return false;
  for (const auto& c : choices->as_array()) {
    if (!c.is_object()) continue;
    const auto& choice = c.as_object();
    if (non_empty_string(choice.if_contains("text"))) return true;
    const auto* d = choice.if_contains("delta");
    if (d == nullptr || !d->is_object()) continue;
    const auto& delta = d->as_object();
    if (non_empty_string(delta.if_contains("content")) ||
        non_empty_string(delta.if_contains("reasoning_content")) ||
        non_empty_string(delta.if_contains("reasoning")))
      return true;
    const auto* t = delta.if_contains("tool_calls");
    if (t && t->is_array() && !t->as_array().empty()) return true;
  }
  return false;
}

// Calls fn(payload) for each whole event's data (data lines joined by \n);
// stops when fn returns false. Lines end in \n or \r\n.
template <class Fn>
void for_each_whole_event(std::string_view body, Fn fn) {
  std::string data;
  bool has_data = false;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto eol = body.find('\n', pos);
    if (eol == std::string_view::npos) return;  // an unfinished line: not dispatched
    std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (has_data && !fn(std::string_view(data))) return;
      data.clear();
      has_data = false;
    } else if (line.substr(0, 5) == "data:") {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      if (has_data) data += '\n';
      data += line;
      has_data = true;
    }
  }
}

}  // namespace

std::int64_t prompt_estimate_of(std::string_view client_body) {
  boost::system::error_code ec;
  const bj::value v = bj::parse(client_body, ec);
  if (ec || !v.is_object()) return 0;
  std::size_t bytes = 0;
  // The harness writes compact JSON, so serializing gives back the raw text.
  for (const auto& kv : v.as_object())
    if (kv.key() == "messages" || kv.key() == "prompt" || kv.key() == "input")
      bytes = bj::serialize(kv.value()).size();
  return static_cast<std::int64_t>((bytes + 3) / 4);
}

ExpectedUsage expected_stream_usage(std::string_view upstream_body, std::string_view client_body) {
  ExpectedUsage reported;
  std::int64_t output_events = 0;
  for_each_whole_event(upstream_body, [&](std::string_view payload) {
    if (payload == "[DONE]") return true;
    bj::parse_options opt;
    opt.allow_invalid_utf8 = true;
    boost::system::error_code ec;
    const bj::value v = bj::parse(payload, ec, {}, opt);
    if (ec) return false;  // malformed: the gateway reads no further
    if (!v.is_object()) return true;
    if (carries_output(v.as_object())) ++output_events;
    const auto* u = v.as_object().if_contains("usage");
    if (u && u->is_object()) {
      const auto* p = u->as_object().if_contains("prompt_tokens");
      const auto* c = u->as_object().if_contains("completion_tokens");
      reported.prompt = p && p->is_int64() ? std::max<std::int64_t>(0, p->as_int64()) : 0;
      reported.completion = c && c->is_int64() ? std::max<std::int64_t>(0, c->as_int64()) : 0;
    }
    return true;
  });
  if (reported.prompt >= 0) return reported;
  return ExpectedUsage{prompt_estimate_of(client_body), output_events, true};
}

}  // namespace llmproxy::harness
