#include "proxy/core/openai/json_write.h"

#include "proxy/core/openai/json_scan.h"

namespace llmproxy::json {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (non-ASCII lead), or 0.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  // Reuse the scanner's strict rules by scanning a one-sequence string.
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  std::size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  if (i + len > s.size()) return 0;
  char buf[6] = {'"', 0, 0, 0, 0, '"'};
  for (std::size_t k = 0; k < len; ++k) buf[1 + k] = s[i + k];
  buf[1 + len] = '"';
  const auto r = scan_value(std::string_view(buf, len + 2), 0);
  return r.status == ScanStatus::ok && r.end == len + 2 ? len : 0;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes copied verbatim
  auto flush = [&](std::size_t i) { out.append(s.data() + run, i - run); };
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
      flush(i);
      out.append("\\ufffd");
      run = ++i;
      continue;
    }
    flush(i);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    run = ++i;
  }
  flush(s.size());
  out.push_back('"');
}

}  // namespace llmproxy::json
