#include "proxy/core/openai/json_scan.h"

#include <array>
#include <limits>

namespace llmproxy::json {
namespace {

using Status = ScanStatus;

constexpr ScanResult ok(std::size_t end) { return {Status::ok, end}; }
constexpr ScanResult truncated(std::size_t at) { return {Status::truncated, at}; }
constexpr ScanResult invalid(std::size_t at) { return {Status::invalid, at}; }

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
unsigned char byte(std::string_view t, std::size_t i) { return static_cast<unsigned char>(t[i]); }

// Bytes that need a closer look inside a string: '"', '\\', controls and
// non-ASCII. Everything else is copied over by the fast loop.
constexpr std::array<bool, 256> kStringSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  for (int c = 0x80; c < 0x100; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the 4 hex digits of a \u escape at text[pos..pos+4).
ScanResult read_hex4(std::string_view text, std::size_t pos, unsigned& out) {
  out = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (pos + i >= text.size()) return truncated(pos + i);
    const int h = hex_value(text[pos + i]);
    if (h < 0) return invalid(pos + i);
    out = out * 16 + static_cast<unsigned>(h);
  }
  return ok(pos + 4);
}

// Validates one UTF-8 sequence whose lead byte is text[pos] (>= 0x80).
ScanResult scan_utf8(std::string_view text, std::size_t pos) {
  const unsigned char lead = byte(text, pos);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;       // no overlongs
    if (lead == 0xED) hi = 0x9F;       // no UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;       // no overlongs
    if (lead == 0xF4) hi = 0x8F;       // nothing above U+10FFFF
  } else {
    return invalid(pos);
  }
  for (std::size_t i = 1; i < len; ++i) {
    if (pos + i >= text.size()) return truncated(pos + i);
    const unsigned char c = byte(text, pos + i);
    const unsigned char min = i == 1 ? lo : 0x80;
    const unsigned char max = i == 1 ? hi : 0xBF;
    if (c < min || c > max) return invalid(pos + i);
  }
  return ok(pos + len);
}

// text[pos] is the backslash of an escape.
ScanResult scan_escape(std::string_view text, std::size_t pos) {
  if (pos + 1 >= text.size()) return truncated(pos + 1);
  switch (text[pos + 1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
      return ok(pos + 2);
    case 'u': break;
    default: return invalid(pos + 1);
  }
  unsigned cu = 0;
  ScanResult r = read_hex4(text, pos + 2, cu);
  if (r.status != Status::ok) return r;
  if (cu >= 0xDC00 && cu <= 0xDFFF) return invalid(pos);  // lone low surrogate
  if (cu < 0xD800 || cu > 0xDBFF) return r;
  // A high surrogate must be followed by \u + low surrogate.
  std::size_t p = r.end;
  if (p >= text.size()) return truncated(p);
  if (text[p] != '\\') return invalid(p);
  if (p + 1 >= text.size()) return truncated(p + 1);
  if (text[p + 1] != 'u') return invalid(p + 1);
  unsigned low = 0;
  r = read_hex4(text, p + 2, low);
  if (r.status != Status::ok) return r;
  if (low < 0xDC00 || low > 0xDFFF) return invalid(p);
  return r;
}

// text[pos] == '"'.
ScanResult scan_string(std::string_view text, std::size_t pos, Utf8 utf8) {
  std::size_t i = pos + 1;
  const std::size_t n = text.size();
  for (;;) {
    while (i < n && !kStringSpecial[byte(text, i)]) ++i;
    if (i >= n) return truncated(n);
    const unsigned char c = byte(text, i);
    if (c == '"') return ok(i + 1);
    if (c < 0x20) return invalid(i);
    if (c >= 0x80 && utf8 == Utf8::lax) {
      ++i;
      continue;
    }
    const ScanResult r = c == '\\' ? scan_escape(text, i) : scan_utf8(text, i);
    if (r.status != Status::ok) return r;
    i = r.end;
  }
}

ScanResult scan_digits(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return truncated(pos);
  if (!is_digit(text[pos])) return invalid(pos);
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  return ok(pos);
}

ScanResult scan_number(std::string_view text, std::size_t pos) {
  std::size_t i = pos;
  if (text[i] == '-') ++i;
  if (i >= text.size()) return truncated(i);
  if (text[i] == '0') {
    ++i;
  } else {
    const ScanResult r = scan_digits(text, i);
    if (r.status != Status::ok) return r;
    i = r.end;
  }
  if (i < text.size() && text[i] == '.') {
    const ScanResult r = scan_digits(text, i + 1);
    if (r.status != Status::ok) return r;
    i = r.end;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const ScanResult r = scan_digits(text, i);
    if (r.status != Status::ok) return r;
    i = r.end;
  }
  return ok(i);
}

ScanResult scan_literal(std::string_view text, std::size_t pos, std::string_view word) {
  for (std::size_t k = 0; k < word.size(); ++k) {
    if (pos + k >= text.size()) return truncated(pos + k);
    if (text[pos + k] != word[k]) return invalid(pos + k);
  }
  return ok(pos + word.size());
}

ScanResult scan_array(std::string_view text, std::size_t pos, int depth_left, Utf8 utf8) {
  std::size_t i = skip_ws(text, pos + 1);
  if (i >= text.size()) return truncated(i);
  if (text[i] == ']') return ok(i + 1);
  for (;;) {
    const ScanResult r = scan_value(text, i, depth_left - 1, utf8);
    if (r.status != Status::ok) return r;
    i = skip_ws(text, r.end);
    if (i >= text.size()) return truncated(i);
    if (text[i] == ']') return ok(i + 1);
    if (text[i] != ',') return invalid(i);
    i = skip_ws(text, i + 1);
    if (i >= text.size()) return truncated(i);
  }
}

ScanResult scan_object(std::string_view text, std::size_t pos, int depth_left, Utf8 utf8) {
  ObjectCursor cursor(text, pos, depth_left, utf8);
  Member m;
  for (;;) {
    switch (cursor.next(m)) {
      case ObjectCursor::Step::member: break;
      case ObjectCursor::Step::end: return ok(cursor.position());
      case ObjectCursor::Step::truncated: return truncated(cursor.position());
      case ObjectCursor::Step::invalid: return invalid(cursor.position());
    }
  }
}

Kind kind_of(char first) {
  switch (first) {
    case '{': return Kind::object;
    case '[': return Kind::array;
    case '"': return Kind::string;
    case 't': case 'f': return Kind::boolean;
    case 'n': return Kind::null;
    default: return Kind::number;
  }
}

// Decodes the escape at raw[pos] ('\\') into UTF-8 in out[0..4); returns the
// number of bytes written and advances pos. raw must be a validated string.
std::size_t decode_escape(std::string_view raw, std::size_t& pos, char out[4]) {
  const char e = raw[pos + 1];
  pos += 2;
  switch (e) {
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': break;
    default: out[0] = e; return 1;  // '"', '\\', '/'
  }
  unsigned cp = 0;
  read_hex4(raw, pos, cp);
  pos += 4;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    unsigned low = 0;
    read_hex4(raw, pos + 2, low);
    pos += 6;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

}  // namespace

std::size_t skip_ws(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_ws(text[pos])) ++pos;
  return pos;
}

ScanResult scan_value(std::string_view text, std::size_t pos, int depth_left, Utf8 utf8) {
  if (pos >= text.size()) return truncated(pos);
  switch (text[pos]) {
    case '{':
      if (depth_left < 1) return invalid(pos);
      return scan_object(text, pos, depth_left, utf8);
    case '[':
      if (depth_left < 1) return invalid(pos);
      return scan_array(text, pos, depth_left, utf8);
    case '"': return scan_string(text, pos, utf8);
    case 't': return scan_literal(text, pos, "true");
    case 'f': return scan_literal(text, pos, "false");
    case 'n': return scan_literal(text, pos, "null");
    default:
      if (text[pos] == '-' || is_digit(text[pos])) return scan_number(text, pos);
      return invalid(pos);
  }
}

std::optional<Value> parse(std::string_view text, Utf8 utf8) {
  const std::size_t start = skip_ws(text, 0);
  const ScanResult r = scan_value(text, start, kMaxDepth, utf8);
  if (r.status != Status::ok || skip_ws(text, r.end) != text.size()) return std::nullopt;
  return Value{text.substr(start, r.end - start), kind_of(text[start])};
}

ObjectCursor::ObjectCursor(std::string_view text, std::size_t open_pos, int depth_left, Utf8 utf8)
    : text_(text), pos_(open_pos + 1), depth_left_(depth_left), utf8_(utf8) {}

ObjectCursor::Step ObjectCursor::next(Member& out) {
  if (done_) return Step::end;
  if (depth_left_ < 1) return Step::invalid;
  // pos_ is just after '{' (first_) or just after the previous member's value.
  std::size_t i = skip_ws(text_, pos_);
  if (i >= text_.size()) return Step::truncated;
  if (text_[i] == '}') {
    pos_ = i + 1;
    done_ = true;
    return Step::end;
  }
  if (!first_) {
    if (text_[i] != ',') return Step::invalid;
    i = skip_ws(text_, i + 1);
    if (i >= text_.size()) return Step::truncated;
  }
  if (text_[i] != '"') return Step::invalid;
  ScanResult r = scan_string(text_, i, utf8_);
  if (r.status != Status::ok) return r.status == Status::truncated ? Step::truncated : Step::invalid;
  const std::size_t key_begin = i;
  const std::size_t key_end = r.end;
  i = skip_ws(text_, key_end);
  if (i >= text_.size()) return Step::truncated;
  if (text_[i] != ':') return Step::invalid;
  i = skip_ws(text_, i + 1);
  r = scan_value(text_, i, depth_left_ - 1, utf8_);
  if (r.status != Status::ok) return r.status == Status::truncated ? Step::truncated : Step::invalid;
  // A number that reaches the end of the text may still grow ("17" of "1718").
  if (r.end == text_.size() && kind_of(text_[i]) == Kind::number) return Step::truncated;
  out.key_raw = text_.substr(key_begin, key_end - key_begin);
  out.value = Value{text_.substr(i, r.end - i), kind_of(text_[i])};
  pos_ = r.end;
  first_ = false;
  return Step::member;
}

ObjectCursor::Step ObjectCursor::peek_key(std::string_view& key_raw, std::size_t& value_pos) const {
  if (done_) return Step::end;
  std::size_t i = skip_ws(text_, pos_);
  if (i >= text_.size()) return Step::truncated;
  if (text_[i] == '}') return Step::end;
  if (!first_) {
    if (text_[i] != ',') return Step::invalid;
    i = skip_ws(text_, i + 1);
    if (i >= text_.size()) return Step::truncated;
  }
  if (text_[i] != '"') return Step::invalid;
  const ScanResult r = scan_string(text_, i, utf8_);
  if (r.status != Status::ok) return r.status == Status::truncated ? Step::truncated : Step::invalid;
  const std::size_t colon = skip_ws(text_, r.end);
  if (colon >= text_.size()) return Step::truncated;
  if (text_[colon] != ':') return Step::invalid;
  key_raw = text_.substr(i, r.end - i);
  value_pos = skip_ws(text_, colon + 1);
  return Step::member;
}

bool string_equals(std::string_view raw, std::string_view plain) {
  if (raw.size() < 2) return false;
  const std::string_view inner = raw.substr(1, raw.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner == plain;
  std::size_t pos = 1, matched = 0;
  const std::size_t end = raw.size() - 1;
  char buf[4];
  while (pos < end) {
    if (raw[pos] != '\\') {
      if (matched >= plain.size() || plain[matched] != raw[pos]) return false;
      ++matched;
      ++pos;
      continue;
    }
    const std::size_t n = decode_escape(raw, pos, buf);
    if (plain.size() - matched < n || plain.substr(matched, n) != std::string_view(buf, n))
      return false;
    matched += n;
  }
  return matched == plain.size();
}

std::optional<Value> find_member(const Value& object, std::string_view key) {
  if (object.kind != Kind::object) return std::nullopt;
  // Already validated (strictly or not): walking it lax cannot reject it.
  ObjectCursor cursor(object.raw, 0, kMaxDepth, Utf8::lax);
  Member m;
  std::optional<Value> found;
  while (cursor.next(m) == ObjectCursor::Step::member)
    if (string_equals(m.key_raw, key)) found = m.value;
  return found;
}

std::optional<std::int64_t> as_int64(const Value& v) {
  if (v.kind != Kind::number) return std::nullopt;
  std::string_view s = v.raw;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  // Accumulate as a negative number: its range includes INT64_MIN.
  std::int64_t acc = 0;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;  // fraction or exponent
    const int d = c - '0';
    if (acc < (kMin + d) / 10) return std::nullopt;
    acc = acc * 10 - d;
  }
  if (negative) return acc;
  if (acc == kMin) return std::nullopt;
  return -acc;
}

std::optional<bool> as_bool(const Value& v) {
  if (v.kind != Kind::boolean) return std::nullopt;
  return v.raw == "true";
}

std::optional<std::string_view> as_string(const Value& v, std::string& scratch) {
  if (v.kind != Kind::string || v.raw.size() < 2) return std::nullopt;
  const std::string_view inner = v.raw.substr(1, v.raw.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner;
  scratch.clear();
  std::size_t pos = 1;
  const std::size_t end = v.raw.size() - 1;
  char buf[4];
  while (pos < end) {
    const std::size_t next = v.raw.find('\\', pos);
    const std::size_t stop = next == std::string_view::npos || next > end ? end : next;
    scratch.append(v.raw.data() + pos, stop - pos);
    pos = stop;
    if (pos < end) scratch.append(buf, decode_escape(v.raw, pos, buf));
  }
  return std::string_view(scratch);
}

}  // namespace llmproxy::json
