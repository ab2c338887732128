#include "fake_backends/openai_response.h"

#include <boost/json.hpp>

#include <charconv>

namespace llmproxy::fake {
namespace json = boost::json;

namespace {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 chars always fit a 64-bit integer
  out.append(buf, end);
}

void append_usage_object(std::string& out, const Usage& u) {
  out += "{\"prompt_tokens\":";
  append_int(out, u.prompt_tokens);
  out += ",\"completion_tokens\":";
  append_int(out, u.completion_tokens);
  out += ",\"total_tokens\":";
  append_int(out, u.total());
  out += '}';
}

json::object usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.total()}};
}

}  // namespace

void append_token_text(std::string& out, std::uint64_t content_hash, std::uint32_t index) {
  out += " tok";
  append_int(out, mix(content_hash ^ (static_cast<std::uint64_t>(index) * 0xd1b54a32d192ed03ULL)) %
                      1000);
}

std::string completion_text(std::uint64_t content_hash, std::uint32_t count) {
  std::string text;
  text.reserve(count * 7);
  for (std::uint32_t i = 0; i < count; ++i) append_token_text(text, content_hash, i);
  return text;
}

std::string json_quote(std::string_view s) {
  return json::serialize(json::string_view(s.data(), s.size()));
}

std::string error_body(const ApiError& e) {
  json::object err{{"message", e.message},
                   {"type", e.type},
                   {"param", nullptr},
                   {"code", nullptr}};
  if (!e.param.empty()) err["param"] = e.param;
  if (!e.code.empty()) err["code"] = e.code;
  return json::serialize(json::object{{"error", std::move(err)}});
}

ApiError error_for_status(int status, std::string_view code) {
  ApiError e;
  e.status = status;
  e.code = std::string(code);
  switch (status) {
    case 400:
      e.type = "invalid_request_error";
      e.message = code == "context_length_exceeded"
                      ? "This model's maximum context length is 4096 tokens. However, your "
                        "messages resulted in more tokens. Please reduce the length of the messages."
                      : "Bad request (injected by fake-openai).";
      break;
    case 401:
      e.type = "invalid_request_error";
      if (e.code.empty()) e.code = "invalid_api_key";
      e.message = "Incorrect API key provided (injected by fake-openai).";
      break;
    case 403:
      e.type = "permission_error";
      e.message = "You are not allowed to access this resource (injected by fake-openai).";
      break;
    case 404:
      e.type = "invalid_request_error";
      if (e.code.empty()) e.code = "model_not_found";
      e.message = "The model does not exist (injected by fake-openai).";
      break;
    case 429:
      e.type = "rate_limit_error";
      if (e.code.empty()) e.code = "rate_limit_exceeded";
      e.message = "Rate limit reached (injected by fake-openai).";
      break;
    default:
      e.type = status >= 500 ? "server_error" : "invalid_request_error";
      e.message = status == 503 ? "The server is overloaded or not ready yet (injected by fake-openai)."
                                : "Request failed (injected by fake-openai).";
      break;
  }
  return e;
}

std::string chat_completion_body(std::string_view id, std::int64_t created, std::string_view model,
                                 std::string_view text, std::string_view finish_reason,
                                 const Usage& usage) {
  json::object message{{"role", "assistant"}, {"content", text}};
  json::object choice{{"index", 0},
                      {"message", std::move(message)},
                      {"logprobs", nullptr},
                      {"finish_reason", finish_reason}};
  json::object body{{"id", id},
                    {"object", "chat.completion"},
                    {"created", created},
                    {"model", model},
                    {"choices", json::array{std::move(choice)}},
                    {"usage", usage_json(usage)}};
  return json::serialize(body);
}

std::string text_completion_body(std::string_view id, std::int64_t created, std::string_view model,
                                 std::string_view text, std::string_view finish_reason,
                                 const Usage& usage) {
  json::object choice{{"text", text},
                      {"index", 0},
                      {"logprobs", nullptr},
                      {"finish_reason", finish_reason}};
  json::object body{{"id", id},
                    {"object", "text_completion"},
                    {"created", created},
                    {"model", model},
                    {"choices", json::array{std::move(choice)}},
                    {"usage", usage_json(usage)}};
  return json::serialize(body);
}

std::string embeddings_body(std::string_view model, std::uint64_t content_hash, std::uint32_t inputs,
                            std::uint32_t dim, std::uint32_t prompt_tokens) {
  // Hand-formatted: components are multiples of 1/1000 printed with three
  // decimals (Boost.JSON would print them in exponent form).
  std::string out;
  out.reserve(64 + static_cast<std::size_t>(inputs) * (48 + dim * 7));
  out += "{\"object\":\"list\",\"data\":[";
  for (std::uint32_t i = 0; i < inputs; ++i) {
    if (i) out += ',';
    out += "{\"object\":\"embedding\",\"index\":";
    append_int(out, i);
    out += ",\"embedding\":[";
    for (std::uint32_t j = 0; j < dim; ++j) {
      if (j) out += ',';
      const auto r = static_cast<std::int64_t>(mix(content_hash + (std::uint64_t{i} << 32) + j) % 2001) - 1000;
      if (r < 0) out += '-';
      const auto a = r < 0 ? -r : r;
      append_int(out, a / 1000);
      out += '.';
      const auto frac = a % 1000;
      if (frac < 100) out += '0';
      if (frac < 10) out += '0';
      append_int(out, frac);
    }
    out += "]}";
  }
  out += "],\"model\":";
  out += json_quote(model);
  out += ",\"usage\":{\"prompt_tokens\":";
  append_int(out, prompt_tokens);
  out += ",\"total_tokens\":";
  append_int(out, prompt_tokens);
  out += "}}";
  return out;
}

std::string models_body(std::span<const std::string> models, std::int64_t created) {
  json::array data;
  for (const auto& m : models) {
    if (m == "*") continue;  // "any model" is a server setting, not a model
    data.push_back(json::object{
        {"id", m}, {"object", "model"}, {"created", created}, {"owned_by", "fake-openai"}});
  }
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

ChunkFormatter::ChunkFormatter(Endpoint e, std::string_view id, std::int64_t created,
                               std::string_view model, bool include_usage)
    : endpoint_(e), include_usage_(include_usage) {
  head_.reserve(96 + id.size() + model.size());
  head_ += "{\"id\":";
  head_ += json_quote(id);
  head_ += e == Endpoint::chat ? ",\"object\":\"chat.completion.chunk\",\"created\":"
                               : ",\"object\":\"text_completion\",\"created\":";
  append_int(head_, created);
  head_ += ",\"model\":";
  head_ += json_quote(model);
  head_ += ",\"choices\":[";
}

void ChunkFormatter::append_event(std::string& out, std::string_view choice_body,
                                  std::string_view finish, bool malformed) const {
  out += "data: ";
  const std::size_t json_start = out.size();
  out += head_;
  if (endpoint_ == Endpoint::chat) {
    out += "{\"index\":0,\"delta\":";
    out += choice_body;
  } else {
    out += "{\"text\":";
    out += choice_body;
    out += ",\"index\":0";
  }
  out += ",\"logprobs\":null,\"finish_reason\":";
  out += finish;
  out += "}]";
  if (include_usage_) out += ",\"usage\":null";
  out += '}';
  if (malformed) out.resize(json_start + (out.size() - json_start) / 2);
  out += "\n\n";
}

void ChunkFormatter::append_role(std::string& out) const {
  if (endpoint_ != Endpoint::chat) return;
  append_event(out, R"({"role":"assistant","content":""})", "null", false);
}

void ChunkFormatter::append_token(std::string& out, std::string_view text, bool malformed) const {
  // Token text is ASCII without quotes or backslashes (see append_token_text).
  char buf[64];
  std::string_view body;
  if (endpoint_ == Endpoint::chat) {
    std::string_view pre = "{\"content\":\"";
    const std::size_t n = pre.size() + text.size() + 2;
    if (n > sizeof buf) return;
    std::copy(pre.begin(), pre.end(), buf);
    std::copy(text.begin(), text.end(), buf + pre.size());
    buf[n - 2] = '"';
    buf[n - 1] = '}';
    body = std::string_view(buf, n);
  } else {
    const std::size_t n = text.size() + 2;
    if (n > sizeof buf) return;
    buf[0] = '"';
    std::copy(text.begin(), text.end(), buf + 1);
    buf[n - 1] = '"';
    body = std::string_view(buf, n);
  }
  append_event(out, body, "null", malformed);
}

void ChunkFormatter::append_finish(std::string& out, std::string_view finish_reason) const {
  char buf[32];
  const std::size_t n = finish_reason.size() + 2;
  if (n > sizeof buf) return;
  buf[0] = '"';
  std::copy(finish_reason.begin(), finish_reason.end(), buf + 1);
  buf[n - 1] = '"';
  append_event(out, endpoint_ == Endpoint::chat ? std::string_view("{}") : std::string_view("\"\""),
               std::string_view(buf, n), false);
}

void ChunkFormatter::append_usage(std::string& out, const Usage& usage) const {
  out += "data: ";
  out += head_;
  out += "],\"usage\":";
  append_usage_object(out, usage);
  out += "}\n\n";
}

}  // namespace llmproxy::fake
