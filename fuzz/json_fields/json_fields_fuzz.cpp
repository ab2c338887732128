// Fuzz target json_fields: the allocation-free scanner must never crash and
// must agree with Boost.JSON (the oracle) on validity (strict and lax UTF-8),
// member lookup and typed values; every prefix of a valid document must scan as truncated, never
// invalid (the SSE relay relies on it); include_usage injection must turn any
// streaming body into valid JSON that asks for usage.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/core/openai/json_scan.h"
#include "proxy/core/openai/request_fields.h"

namespace {

namespace bj = boost::json;
namespace js = llmproxy::json;
namespace oa = llmproxy::openai;

void check(bool ok) {
  if (!ok) std::abort();
}

bj::value reparse(std::string_view raw) {
  bj::parse_options opt;
  opt.max_depth = js::kMaxDepth;
  opt.allow_invalid_utf8 = true;
  return bj::parse(raw, {}, opt);
}

void check_members(const js::Value& ours, const bj::object& oracle) {
  std::string scratch;
  for (const auto& kv : oracle) {
    const auto found = js::find_member(ours, kv.key());
    check(found.has_value());
    // Compared as text: a huge exponent on 0 gives NaN, which != itself.
    check(bj::serialize(reparse(found->raw)) == bj::serialize(kv.value()));
    if (kv.value().is_string()) check(*js::as_string(*found, scratch) == kv.value().as_string());
    if (kv.value().is_int64()) check(js::as_int64(*found) == kv.value().as_int64());
    if (kv.value().is_bool()) check(js::as_bool(*found) == kv.value().as_bool());
    if (kv.value().is_null()) check(found->kind == js::Kind::null);
  }
  check(!js::find_member(ours, "\x01no such key"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bj::parse_options opt;
  opt.max_depth = js::kMaxDepth;
  boost::system::error_code ec;
  const bj::value oracle = bj::parse(text, ec, {}, opt);
  const auto ours = js::parse(text);
  if (ec != bj::error::exponent_overflow) check(ours.has_value() == !ec);
  if (ours && !ec) {
    if (oracle.is_object()) check_members(*ours, oracle.as_object());
    // Every proper prefix of the value is "truncated" (or a complete number).
    const std::size_t start = js::skip_ws(text, 0);
    for (std::size_t n = start; n < start + ours->raw.size(); n += 1 + n / 16)
      check(js::scan_value(text.substr(0, n), start).status != js::ScanStatus::invalid);
  }

  // Lax mode: the same, with any byte >= 0x80 allowed inside strings.
  opt.allow_invalid_utf8 = true;
  const bj::value lax_oracle = bj::parse(text, ec, {}, opt);
  const auto lax = js::parse(text, js::Utf8::lax);
  if (ec != bj::error::exponent_overflow) check(lax.has_value() == !ec);
  if (ours) check(lax.has_value());
  if (lax && !ec && lax_oracle.is_object()) check_members(*lax, lax_oracle.as_object());

  std::string scratch;
  const oa::RequestFields f = oa::read_request_fields(text, scratch);
  if (ours && ours->kind == js::Kind::object) {
    check(!f.error || f.error == oa::ErrorId::invalid_request);
  } else {
    check(f.error == oa::ErrorId::invalid_request_json);
  }
  std::string out;
  if (oa::inject_include_usage(text, f, out)) {
    const oa::RequestFields g = oa::read_request_fields(out, scratch);
    check(!g.error && g.stream && g.include_usage == true);
  }
  return 0;
}
