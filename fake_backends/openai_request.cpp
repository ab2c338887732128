#include "fake_backends/openai_request.h"

#include <boost/json.hpp>

namespace llmproxy::fake {
namespace json = boost::json;

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

// Accumulates the prompt texts: word count and content hash.
struct PromptDigest {
  std::uint32_t words = 0;
  std::uint64_t hash = kFnvOffset;

  void add_text(std::string_view text) {
    words += count_words(text);
    for (unsigned char c : text) hash = (hash ^ c) * kFnvPrime;
    hash = (hash ^ 0x1fu) * kFnvPrime;  // separator: "ab"+"c" != "a"+"bc"
  }
  void add_token_id(std::int64_t id) {
    words += 1;
    for (int i = 0; i < 8; ++i) hash = (hash ^ ((static_cast<std::uint64_t>(id) >> (8 * i)) & 0xffu)) * kFnvPrime;
  }
};

ApiError invalid(std::string message, std::string param = {}, std::string code = {}) {
  ApiError e;
  e.status = 400;
  e.type = "invalid_request_error";
  e.param = std::move(param);
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

// Chat message content: a string, null (assistant tool calls), or an array
// of parts where the text parts count.
bool digest_content(const json::value& content, PromptDigest& d) {
  if (content.is_string()) {
    d.add_text(content.get_string());
    return true;
  }
  if (content.is_null()) return true;
  if (!content.is_array()) return false;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) return false;
    const auto* text = part.get_object().if_contains("text");
    if (text && text->is_string()) d.add_text(text->get_string());
  }
  return true;
}

// Completion prompt or embedding input: a string, an array of strings, an
// array of token ids, or an array of arrays of token ids.
bool digest_prompt(const json::value& v, PromptDigest& d, std::uint32_t& inputs) {
  if (v.is_string()) {
    d.add_text(v.get_string());
    inputs = 1;
    return true;
  }
  if (!v.is_array() || v.get_array().empty()) return false;
  const auto& arr = v.get_array();
  if (arr.front().is_int64() || arr.front().is_uint64()) {
    for (const auto& id : arr) {
      if (!id.is_int64() && !id.is_uint64()) return false;
      d.add_token_id(id.is_int64() ? id.get_int64() : static_cast<std::int64_t>(id.get_uint64()));
    }
    inputs = 1;
    return true;
  }
  inputs = 0;
  for (const auto& item : arr) {
    if (item.is_string()) {
      d.add_text(item.get_string());
    } else if (item.is_array()) {
      for (const auto& id : item.get_array()) {
        if (!id.is_int64() && !id.is_uint64()) return false;
        d.add_token_id(id.is_int64() ? id.get_int64() : static_cast<std::int64_t>(id.get_uint64()));
      }
    } else {
      return false;
    }
    ++inputs;
  }
  return true;
}

bool read_max_tokens(const json::object& body, std::string_view key,
                     std::optional<std::uint32_t>& out, ApiError& error) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) return true;
  std::int64_t n = -1;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64()) n = v->get_uint64() > 0xffffffffULL ? -1 : static_cast<std::int64_t>(v->get_uint64());
  if (n < 1 || n > 0xffffffffLL) {
    error = invalid("Invalid '" + std::string(key) + "': expected an integer >= 1.", std::string(key),
                    "invalid_value");
    return false;
  }
  out = static_cast<std::uint32_t>(n);
  return true;
}

}  // namespace

std::string_view endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::chat: return "chat";
    case Endpoint::completions: return "completions";
    case Endpoint::embeddings: return "embeddings";
    case Endpoint::models: return "models";
    case Endpoint::health: return "health";
    case Endpoint::unknown: break;
  }
  return "unknown";
}

Endpoint classify_target(std::string_view target) {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (path == "/v1/chat/completions") return Endpoint::chat;
  if (path == "/v1/completions") return Endpoint::completions;
  if (path == "/v1/embeddings") return Endpoint::embeddings;
  if (path == "/v1/models") return Endpoint::models;
  if (path == "/health" || path == "/v1/health") return Endpoint::health;
  return Endpoint::unknown;
}

std::string_view allowed_method(Endpoint e) {
  switch (e) {
    case Endpoint::models:
    case Endpoint::health: return "GET";
    case Endpoint::chat:
    case Endpoint::completions:
    case Endpoint::embeddings: return "POST";
    case Endpoint::unknown: break;
  }
  return "";
}

bool method_allowed(Endpoint e, std::string_view method) {
  const auto allowed = allowed_method(e);
  // HEAD is not served: the fake keeps its surface to what tests use.
  return !allowed.empty() && method == allowed;
}

std::uint32_t count_words(std::string_view text) {
  std::uint32_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

bool parse_inference_request(Endpoint e, std::string_view body, InferenceRequest& out,
                             ApiError& error) {
  out = InferenceRequest{};
  // Parsed into a stack-backed arena: the value dies with this function.
  unsigned char arena[4096];
  json::monotonic_resource mr(arena, sizeof arena);
  boost::system::error_code ec;
  const json::value root = json::parse(json::string_view(body.data(), body.size()), ec, &mr);
  if (ec) {
    error = invalid("We could not parse the JSON body of your request. (HINT: This likely means "
                    "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                    "payload, but what was sent was not valid JSON.)");
    return false;
  }
  if (!root.is_object()) {
    error = invalid("The request body must be a JSON object.");
    return false;
  }
  const json::object& obj = root.get_object();

  const auto* model = obj.if_contains("model");
  if (!model || !model->is_string() || model->get_string().empty()) {
    error = invalid("you must provide a model parameter", "model");
    return false;
  }
  out.model.assign(model->get_string().data(), model->get_string().size());

  if (e != Endpoint::embeddings) {
    if (const auto* s = obj.if_contains("stream"); s && !s->is_null()) {
      if (!s->is_bool()) {
        error = invalid("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type");
        return false;
      }
      out.stream = s->get_bool();
    }
    if (const auto* so = obj.if_contains("stream_options"); so && !so->is_null()) {
      if (!so->is_object()) {
        error = invalid("Invalid type for 'stream_options': expected an object.", "stream_options",
                        "invalid_type");
        return false;
      }
      if (!out.stream) {
        error = invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                        "stream_options", "invalid_value");
        return false;
      }
      if (const auto* iu = so->get_object().if_contains("include_usage"); iu && !iu->is_null()) {
        if (!iu->is_bool()) {
          error = invalid("Invalid type for 'stream_options.include_usage': expected a boolean.",
                          "stream_options.include_usage", "invalid_type");
          return false;
        }
        out.include_usage = iu->get_bool();
      }
    }
    // For chat, max_completion_tokens supersedes the deprecated max_tokens.
    if (e == Endpoint::chat && obj.contains("max_completion_tokens")) {
      if (!read_max_tokens(obj, "max_completion_tokens", out.max_tokens, error)) return false;
    } else if (!read_max_tokens(obj, "max_tokens", out.max_tokens, error)) {
      return false;
    }
  }

  PromptDigest digest;
  switch (e) {
    case Endpoint::chat: {
      const auto* messages = obj.if_contains("messages");
      if (!messages || !messages->is_array() || messages->get_array().empty()) {
        error = invalid("Invalid 'messages': expected a non-empty array of messages.", "messages");
        return false;
      }
      for (const auto& m : messages->get_array()) {
        const auto* mo = m.if_object();
        const auto* role = mo ? mo->if_contains("role") : nullptr;
        if (!role || !role->is_string()) {
          error = invalid("Invalid 'messages': every message needs a string 'role'.", "messages");
          return false;
        }
        const auto* content = mo->if_contains("content");
        if (content && !digest_content(*content, digest)) {
          error = invalid("Invalid 'messages': 'content' must be a string or an array of parts.",
                          "messages");
          return false;
        }
      }
      break;
    }
    case Endpoint::completions:
    case Endpoint::embeddings: {
      const char* key = e == Endpoint::completions ? "prompt" : "input";
      const auto* v = obj.if_contains(key);
      if (!v || !digest_prompt(*v, digest, out.input_count)) {
        error = invalid(std::string("Invalid '") + key +
                            "': expected a string, an array of strings, or token arrays.",
                        key);
        return false;
      }
      break;
    }
    default:
      error = invalid("not an inference endpoint");
      return false;
  }
  out.prompt_tokens = digest.words;
  out.content_hash = digest.hash;
  return true;
}

}  // namespace llmproxy::fake
