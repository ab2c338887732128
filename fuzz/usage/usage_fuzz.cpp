// Fuzz target usage: extract_usage_from_body and inspect_chunk on arbitrary
// bodies never crash and agree with Boost.JSON (the oracle) on validity, on
// whether a usage object is present, on the token counts, and on what a
// usage-only chunk is.
#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/core/openai/json_scan.h"
#include "proxy/core/openai/usage.h"

namespace {

namespace bj = boost::json;
namespace oa = llmproxy::openai;

void check(bool ok) {
  if (!ok) std::abort();
}

std::int64_t expected_count(const bj::object& usage, const char* key) {
  const auto it = usage.find(key);
  if (it == usage.end() || !it->value().is_int64()) return 0;
  return std::max<std::int64_t>(0, it->value().as_int64());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const oa::Usage u = oa::extract_usage_from_body(text);
  const oa::ChunkInfo info = oa::inspect_chunk(text);

  bj::parse_options opt;
  opt.max_depth = llmproxy::json::kMaxDepth;
  opt.allow_invalid_utf8 = true;  // upstream bodies are read lax (see usage.h)
  boost::system::error_code ec;
  const bj::value v = bj::parse(text, ec, {}, opt);
  if (ec == bj::error::exponent_overflow) return 0;
  check(info.valid_json == !ec);
  if (ec || !v.is_object()) {
    check(!u.present && !info.usage_only);
    return 0;
  }
  const bj::object& root = v.as_object();
  const auto it = root.find("usage");
  const bool present = it != root.end() && it->value().is_object();
  check(u.present == present);
  check(info.usage == u);
  if (present) {
    const bj::object& usage = it->value().as_object();
    check(u.prompt_tokens == expected_count(usage, "prompt_tokens"));
    check(u.completion_tokens == expected_count(usage, "completion_tokens"));
    const auto total = usage.find("total_tokens");
    if (total != usage.end() && total->value().is_int64())
      check(u.total_tokens == std::max<std::int64_t>(0, total->value().as_int64()));
  }
  // Boost keeps the last duplicate; usage-only needs every `choices` to be
  // [], which for a duplicate-free object is the last one.
  const auto choices = root.find("choices");
  const bool empty_choices =
      choices != root.end() && choices->value().is_array() && choices->value().as_array().empty();
  if (info.usage_only) check(empty_choices && present);
  return 0;
}
