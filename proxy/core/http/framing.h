// Pure rules for how a request's body is framed (RFC 9112 §6), checked once
// its head is parsed and before any body byte is read. They close the
// request-smuggling gaps Beast's parser leaves open on purpose (it accepts
// what a lenient client library might send): a Transfer-Encoding whose last
// coding is not `chunked` leaves Beast reading no body, so the body would be
// parsed as the next request and forwarded upstream.
//
// Also a guard against header lines Beast cannot store: its fields keep
// 16-bit offsets and *throw* std::length_error on a name or value of 64 KiB
// or more, whatever the parser's header limit. The session scans header
// bytes with HeaderLineGuard before handing them to the parser, so that
// error path stays exception-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace llmproxy::http {

enum class FramingVerdict : std::uint8_t {
  ok,
  bad_request,      // 400, then close: the body length cannot be determined
  not_implemented,  // 501, then close: a transfer coding the gateway does not forward
};

// Checks the request's framing headers. `transfer_encoding` is every
// Transfer-Encoding field value joined with ", " (empty when none),
// `te_fields` their count, `content_length_fields` the number of
// Content-Length fields, `http_minor` the request's HTTP/1.x minor version.
// Rules:
//   - Transfer-Encoding on HTTP/1.0 → 400 (RFC 9112 §6.1: a 1.0 peer cannot
//     have meant it; the gateway will not guess);
//   - Transfer-Encoding together with Content-Length → 400;
//   - more than one Content-Length field, or a list value → 400 (a proxy in
//     front may have picked another one);
//   - codings: the list must be exactly `chunked` (any case, optional
//     whitespace). Last coding not `chunked` (including `chunked, identity`,
//     `xchunked`, `identity`, an empty list) → 400; `chunked` more than once
//     → 400; another coding before the final `chunked` (gzip, chunked) → 501,
//     since the coding would be lost when the dechunked body goes upstream
//     with a Content-Length.
struct FramingFields {
  std::string_view transfer_encoding;
  std::size_t te_fields = 0;
  std::size_t content_length_fields = 0;
  std::string_view content_length;  // the value of the only Content-Length field
  unsigned http_minor = 1;
};
FramingVerdict check_request_framing(const FramingFields& f);

// Finds what the head must not contain before Beast parses it: a line too
// long for Beast's fields (see above), and obsolete line folding (a field
// line that starts with a space or tab, RFC 9112 §5.2), which a server must
// reject or unfold; the gateway rejects it (as nginx does), so no proxy in
// front can read the folded value differently. Fed the whole unparsed head
// as it grows (the same bytes from the start, plus more); it remembers how
// far it has looked, so each byte is scanned once.
class HeaderLineGuard {
 public:
  // The longest header line (name, colon, value and whitespace, without
  // CRLF) that is stored. Beast throws at 65,534 bytes of name or value.
  static constexpr std::size_t kMaxLine = 65'000;

  enum class Verdict : std::uint8_t { ok, line_too_long, obs_fold };

  void reset() {
    scanned_ = line_start_ = lines_ = 0;
    head_ended_ = false;
  }
  // `head`: the unparsed bytes so far (the same bytes as last time, minus
  // what consumed() said the parser took from the front, plus more).
  Verdict check(std::string_view head);
  bool ok(std::string_view head) { return check(head) == Verdict::ok; }
  // The parser took `n` bytes from the front (Beast takes the request line
  // and whole fields as they complete, before the head is whole).
  void consumed(std::size_t n) {
    scanned_ = n < scanned_ ? scanned_ - n : 0;
    line_start_ = n < line_start_ ? line_start_ - n : 0;
  }

 private:
  std::size_t scanned_ = 0;
  std::size_t line_start_ = 0;
  std::size_t lines_ = 0;  // lines ended so far (the request line is the first)
  bool head_ended_ = false;
};

}  // namespace llmproxy::http
