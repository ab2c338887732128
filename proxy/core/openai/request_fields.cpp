#include "proxy/core/openai/request_fields.h"

#include "proxy/core/openai/json_scan.h"

namespace llmproxy::openai {
namespace {

using json::Kind;

void fail(RequestFields& f, std::string_view param) {
  if (!f.error) {
    f.error = ErrorId::invalid_request;
    f.error_param = param;
  }
}

std::optional<std::int64_t> read_optional_int(RequestFields& f, const json::Value& v,
                                              std::string_view param) {
  if (v.kind == Kind::null) return std::nullopt;
  auto n = json::as_int64(v);
  if (!n) fail(f, param);
  return n;
}

std::size_t offset_in(std::string_view outer, std::string_view inner) {
  return static_cast<std::size_t>(inner.data() - outer.data());
}

}  // namespace

RequestFields read_request_fields(std::string_view body, std::string& scratch) {
  RequestFields f;
  json::Value model_value;  // the last of each, so duplicates resolve like the backend
  json::Value stream_value;
  json::Value max_tokens_value;
  json::Value max_completion_value;
  json::Value stream_options_value;
  bool has_model = false;
  const bool ok = json::for_each_member(body, [&](const json::Member& m) {
    const std::string_view k = m.key_raw;
    if (json::string_equals(k, "model")) {
      model_value = m.value;
      has_model = true;
    } else if (json::string_equals(k, "stream")) {
      stream_value = m.value;
    } else if (json::string_equals(k, "stream_options")) {
      stream_options_value = m.value;
      f.stream_options_raw = m.value.raw;
    } else if (json::string_equals(k, "max_tokens")) {
      max_tokens_value = m.value;
    } else if (json::string_equals(k, "max_completion_tokens")) {
      max_completion_value = m.value;
    } else if (json::string_equals(k, "messages") || json::string_equals(k, "prompt") ||
               json::string_equals(k, "input")) {
      f.prompt_bytes = m.value.raw.size();
    }
  });
  if (!ok) {
    f.error = ErrorId::invalid_request_json;
    return f;
  }
  const std::size_t open = json::skip_ws(body, 0);
  f.root_raw = body.substr(open, body.find_last_of('}') + 1 - open);

  if (has_model) {
    f.model = json::as_string(model_value, scratch);
    if (!f.model) fail(f, "model");
  }
  if (stream_value.kind != Kind::null) {
    const auto s = json::as_bool(stream_value);
    if (s) f.stream = *s; else fail(f, "stream");
  }
  if (!f.stream_options_raw.empty()) {
    const json::Value& so = stream_options_value;
    if (so.kind == Kind::object) {
      if (const auto iu = json::find_member(so, "include_usage")) {
        f.include_usage_raw = iu->raw;
        if (iu->kind != Kind::null) {
          f.include_usage = json::as_bool(*iu);
          if (!f.include_usage) fail(f, "stream_options.include_usage");
        }
      }
    } else if (so.kind != Kind::null) {
      fail(f, "stream_options");
    }
  }
  f.max_tokens = read_optional_int(f, max_tokens_value, "max_tokens");
  f.max_completion_tokens = read_optional_int(f, max_completion_value, "max_completion_tokens");
  return f;
}

bool inject_include_usage(std::string_view body, const RequestFields& f, std::string& out) {
  if (f.error || !f.stream || f.include_usage == true) return false;
  constexpr std::string_view kMember = R"("stream_options":{"include_usage":true})";
  constexpr std::string_view kInner = R"("include_usage":true)";
  std::size_t at = 0, erase = 0;
  std::string_view insert;
  std::string_view separator_before, separator_after;
  if (!f.include_usage_raw.empty()) {
    // Present as false or null: overwrite the value.
    at = offset_in(body, f.include_usage_raw);
    erase = f.include_usage_raw.size();
    insert = "true";
  } else if (!f.stream_options_raw.empty() && f.stream_options_raw[0] == '{') {
    // An object without the key: add it first, so no comma juggling at the end.
    at = offset_in(body, f.stream_options_raw) + 1;
    insert = kInner;
    if (json::skip_ws(f.stream_options_raw, 1) != f.stream_options_raw.size() - 1)
      separator_after = ",";
  } else if (!f.stream_options_raw.empty()) {
    // "stream_options": null
    at = offset_in(body, f.stream_options_raw);
    erase = f.stream_options_raw.size();
    insert = R"({"include_usage":true})";
  } else {
    // Absent: add the member just before the root's closing brace.
    at = offset_in(body, f.root_raw) + f.root_raw.size() - 1;
    insert = kMember;
    if (json::skip_ws(f.root_raw, 1) != f.root_raw.size() - 1) separator_before = ",";
  }
  out.clear();
  out.reserve(body.size() + insert.size() + 2);
  out.append(body.substr(0, at));
  out.append(separator_before);
  out.append(insert);
  out.append(separator_after);
  out.append(body.substr(at + erase));
  return true;
}

bool inject_include_usage(std::string_view body, std::string& out) {
  std::string scratch;
  return inject_include_usage(body, read_request_fields(body, scratch), out);
}

}  // namespace llmproxy::openai
