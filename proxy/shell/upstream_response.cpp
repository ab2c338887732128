#include "proxy/shell/upstream_response.h"

#include <boost/beast/http/error.hpp>

#include "proxy/core/http/request_rules.h"

namespace llmproxy::shell {

UpstreamResponseParser::UpstreamResponseParser(UpstreamHeadStorage& storage) : st_(storage) {
  st_.clear();
  // Backends may stream for hours: no body limit; header_limit guards memory.
  body_limit(boost::none);
  header_limit(64 * 1024);
  eager(true);
}

void UpstreamResponseParser::on_response_impl(int code, bsv reason, int version,
                                              boost::system::error_code& ec) {
  if (version < 10) {
    ec = bhttp::error::bad_version;
    return;
  }
  // A status outside 100..599 is not HTTP (RFC 9110 §15): never relayed.
  if (code < 100 || code > 599) {
    ec = bhttp::error::bad_status;
    return;
  }
  status_ = code;
  st_.text.assign(reason.data(), reason.size());
  reason_len_ = reason.size();
}

void UpstreamResponseParser::on_field_impl(bhttp::field name, bsv name_string,
                                           bsv value, boost::system::error_code&) {
  if (name == bhttp::field::content_type) {
    std::string_view v = value;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    event_stream_ = http::istarts_with(v, "text/event-stream");
  }
  // Offsets fit: the head is bounded by header_limit.
  const auto at = static_cast<std::uint32_t>(st_.text.size());
  st_.text.append(name_string.data(), name_string.size());
  st_.text.append(value.data(), value.size());
  st_.fields.push_back({at, static_cast<std::uint32_t>(name_string.size()),
                        at + static_cast<std::uint32_t>(name_string.size()),
                        static_cast<std::uint32_t>(value.size())});
}

void UpstreamResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                               boost::system::error_code&) {
  if (content_length) declared_length_ = *content_length;
}

std::size_t UpstreamResponseParser::on_body_impl(bsv body,
                                                 boost::system::error_code&) {
  if (!body.empty()) {
    st_.body.push_back(body);
    body_bytes_ += body.size();
  }
  return body.size();
}

std::size_t UpstreamResponseParser::on_chunk_body_impl(std::uint64_t, bsv body,
                                                       boost::system::error_code&) {
  if (!body.empty()) {
    st_.body.push_back(body);
    body_bytes_ += body.size();
  }
  return body.size();
}

}  // namespace llmproxy::shell
