// A strict, allocation-free JSON scanner (RFC 8259) for the request/response
// hot path. It never builds a DOM: it validates and hands back raw slices
// (string_views into the caller's text), so the gateway can read a few fields
// of a request or an SSE chunk and forward the original bytes untouched.
//
// Strictness matches a conforming parser: UTF-8 is validated, \u escapes must
// form valid UTF-16 (no lone surrogates), no trailing commas, no comments, no
// NaN, no trailing garbage. Nesting is limited to kMaxDepth containers so a
// hostile body cannot exhaust the stack.
//
// Duplicate object keys are allowed (RFC 8259 only says SHOULD be unique); the
// lookups here return the LAST occurrence, like Python's json and JavaScript's
// JSON.parse, i.e. the value vLLM/SGLang backends will act on.
//
// Every scanning function distinguishes `truncated` (the text ended where more
// was required; a longer text might still be valid) from `invalid` (no
// continuation can make it valid). The SSE relay uses this to decide on a
// prefix of an event before the event is complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmproxy::json {

inline constexpr int kMaxDepth = 64;

// How raw bytes >= 0x80 inside strings are judged. `strict` requires valid
// UTF-8 (RFC 8259); `lax` accepts any such byte. Upstream responses are read
// lax: a backend that splits a multi-byte character across tokens must not
// get its stream cut off, the bytes go to the client as they are anyway.
enum class Utf8 : std::uint8_t { strict, lax };

enum class Kind : std::uint8_t { object, array, string, number, boolean, null };

// A validated JSON value: `raw` is its exact text (strings include quotes).
struct Value {
  std::string_view raw;
  Kind kind = Kind::null;
};

enum class ScanStatus : std::uint8_t { ok, truncated, invalid };

struct ScanResult {
  ScanStatus status = ScanStatus::invalid;
  std::size_t end = 0;  // one past the value when ok; where scanning stopped otherwise
};

// Index of the first non-whitespace byte at or after pos (text.size() if none).
std::size_t skip_ws(std::string_view text, std::size_t pos);

// Scans one value starting exactly at text[pos] (no leading whitespace).
// depth_left is how many more containers may be opened.
ScanResult scan_value(std::string_view text, std::size_t pos, int depth_left = kMaxDepth,
                      Utf8 utf8 = Utf8::strict);

// Parses a whole document: optional whitespace, one value, optional whitespace,
// end of text. nullopt if it is not valid JSON.
std::optional<Value> parse(std::string_view text, Utf8 utf8 = Utf8::strict);
inline bool validate(std::string_view text) { return parse(text).has_value(); }

// One member of an object, as slices of the object's text.
struct Member {
  std::string_view key_raw;  // with quotes, escapes not decoded
  Value value;
};

// Walks the members of an object one at a time, validating as it goes. It can
// run on a prefix of an object: on `truncated` its position is unchanged, so
// after the text grows (same bytes, more appended) rebind() and call next()
// again to resume without rescanning finished members.
class ObjectCursor {
 public:
  enum class Step : std::uint8_t { member, end, truncated, invalid };

  // open_pos is the index of the object's '{' in text.
  ObjectCursor(std::string_view text, std::size_t open_pos, int depth_left = kMaxDepth,
               Utf8 utf8 = Utf8::strict);

  Step next(Member& out);
  // Looks at the next member without consuming it: on Step::member, key_raw
  // is its complete key and value_pos where its value starts (possibly
  // text.size() when the value has not arrived yet). Used to decide on a
  // prefix while a long value is still streaming in.
  Step peek_key(std::string_view& key_raw, std::size_t& value_pos) const;
  void rebind(std::string_view longer_text) { text_ = longer_text; }
  // After Step::end: one past the closing '}'.
  std::size_t position() const { return pos_; }

 private:
  std::string_view text_;
  std::size_t pos_;
  int depth_left_;
  Utf8 utf8_;
  bool first_ = true;
  bool done_ = false;
};

// Visits the members of a whole-document object. Returns false (having perhaps
// visited some members) if `text` is not exactly one valid JSON object.
template <class Fn>
bool for_each_member(std::string_view text, Fn&& fn, Utf8 utf8 = Utf8::strict) {
  const std::size_t open = skip_ws(text, 0);
  if (open >= text.size() || text[open] != '{') return false;
  ObjectCursor cursor(text, open, kMaxDepth, utf8);
  Member m;
  for (;;) {
    switch (cursor.next(m)) {
      case ObjectCursor::Step::member: fn(m); break;
      case ObjectCursor::Step::end: return skip_ws(text, cursor.position()) == text.size();
      default: return false;
    }
  }
}

// True if the JSON string `raw` (with quotes, as produced by the scanner)
// decodes to exactly `plain`. No allocation.
bool string_equals(std::string_view raw, std::string_view plain);

// The last member of a validated object whose key decodes to `key`.
// (It walks the object lax, so it works on objects validated either way.)
std::optional<Value> find_member(const Value& object, std::string_view key);

// Typed getters. They return nullopt when the value has another type.
// as_int64 accepts only integers in range written without fraction/exponent.
std::optional<std::int64_t> as_int64(const Value& v);
std::optional<bool> as_bool(const Value& v);
// Decoded string contents. Zero-copy (a view into raw) when the string has no
// escapes; otherwise decoded into `scratch` (reused, so steady state does not
// allocate) and the view points into scratch.
std::optional<std::string_view> as_string(const Value& v, std::string& scratch);

}  // namespace llmproxy::json
