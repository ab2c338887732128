#include "proxy/core/http/framing.h"

#include "proxy/core/http/request_rules.h"
#include "proxy/core/util/ows.h"

namespace llmproxy::http {
FramingVerdict check_request_framing(const FramingFields& f) {
  if (f.content_length_fields > 1) return FramingVerdict::bad_request;
  if (f.content_length_fields == 1 && f.content_length.find(',') != std::string_view::npos)
    return FramingVerdict::bad_request;
  if (f.te_fields == 0) return FramingVerdict::ok;
  if (f.http_minor == 0 || f.content_length_fields > 0) return FramingVerdict::bad_request;

  std::size_t codings = 0, chunked = 0;
  bool last_chunked = false;
  std::string_view rest = f.transfer_encoding;
  for (;;) {
    const auto comma = rest.find(',');
    const std::string_view tok = util::trim_ows(rest.substr(0, comma));
    if (!tok.empty()) {  // empty list elements are allowed and ignored (RFC 9110 §5.6.1)
      ++codings;
      // A coding may carry parameters (`gzip;q=1`): its name decides.
      const std::string_view name = util::trim_ows(tok.substr(0, tok.find(';')));
      last_chunked = iequals(name, "chunked") && name.size() == tok.size();
      if (last_chunked) ++chunked;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (codings == 0 || !last_chunked || chunked > 1) return FramingVerdict::bad_request;
  if (codings > 1) return FramingVerdict::not_implemented;
  return FramingVerdict::ok;
}

HeaderLineGuard::Verdict HeaderLineGuard::check(std::string_view head) {
  if (head_ended_) return Verdict::ok;
  for (std::size_t i = scanned_; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '\n') {
      // The line ends here (the CR before it, if any, is not the line's).
      // An empty line ends the head: what follows is body, or the next
      // request, and is not looked at.
      const std::size_t len = i - line_start_;
      if (lines_ > 0 && (len == 0 || (len == 1 && head[line_start_] == '\r'))) {
        head_ended_ = true;
        return Verdict::ok;
      }
      line_start_ = i + 1;
      ++lines_;
    } else if (i == line_start_ && lines_ > 0 && (c == ' ' || c == '\t')) {
      scanned_ = i;
      return Verdict::obs_fold;
    } else if (i - line_start_ > kMaxLine) {  // kMaxLine bytes, then its CR
      scanned_ = i;
      return Verdict::line_too_long;
    }
  }
  scanned_ = head.size();
  return head.size() - line_start_ <= kMaxLine + 1 ? Verdict::ok : Verdict::line_too_long;
}

}  // namespace llmproxy::http
