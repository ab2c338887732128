// Whatever an access entry holds, each format gives exactly one line ("\n"
// only at its end, no CR or NUL), a combined line is printable ASCII, and a
// json line is valid JSON (strict scanner).
//
// Input: 8 bytes of time (ns), 8 of body bytes, 8 of prompt tokens, 8 of
// completion tokens, 8 of duration (a double's bits), 8 of ttft, 4 of status,
// 1 of flags (bit 0 stream); short input is padded with zeros. The rest is
// split at 0xFF bytes into the text fields in order: client ip, method,
// target, protocol, referer, user agent, request id, backend, model,
// outcome, error code.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "proxy/core/log/access_format.h"
#include "proxy/core/openai/json_scan.h"

namespace {

template <class T>
T take(std::string_view& in) {
  unsigned char bytes[sizeof(T)] = {};
  const std::size_t n = in.size() < sizeof(T) ? in.size() : sizeof(T);
  std::memcpy(bytes, in.data(), n);
  in.remove_prefix(n);
  T v;
  std::memcpy(&v, bytes, sizeof v);
  return v;
}

std::string_view next_text(std::string_view& in) {
  const auto cut = in.find('\xff');
  const auto field = in.substr(0, cut);
  in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
  return field;
}

void check_one_line(const std::string& line) {
  if (line.empty() || line.find('\n') != line.size() - 1) std::abort();
  if (line.find('\r') != std::string::npos || line.find('\0') != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  log::AccessEntry e;
  e.time = WallTime(Duration(take<std::int64_t>(in)));
  e.body_bytes = take<std::uint64_t>(in);
  e.prompt_tokens = take<std::int64_t>(in);
  e.completion_tokens = take<std::int64_t>(in);
  e.duration_seconds = take<double>(in);
  e.upstream_ttft_seconds = take<double>(in);
  e.status = take<std::int32_t>(in);
  e.stream = (take<std::uint8_t>(in) & 1) != 0;
  e.client_ip = next_text(in);
  e.method = next_text(in);
  e.target = next_text(in);
  e.protocol = next_text(in);
  e.referer = next_text(in);
  e.user_agent = next_text(in);
  e.request_id = next_text(in);
  e.backend = next_text(in);
  e.model = next_text(in);
  e.outcome = next_text(in);
  e.error_code = next_text(in);

  std::string combined;
  log::append_combined(combined, e);
  check_one_line(combined);
  for (std::size_t i = 0; i + 1 < combined.size(); ++i)
    if (combined[i] < 0x20 || combined[i] >= 0x7F) std::abort();

  std::string json_line;
  log::append_json(json_line, e);
  check_one_line(json_line);
  if (!json::validate(std::string_view(json_line).substr(0, json_line.size() - 1))) std::abort();
  return 0;
}
