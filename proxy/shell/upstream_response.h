// Parses a backend's HTTP/1.1 response without copying its body: Beast's
// basic_parser calls back with slices of the caller's read buffer, which the
// relay forwards (or feeds to the SSE filter) before the buffer is reused.
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmproxy::shell {

namespace bhttp = boost::beast::http;
using bsv = boost::beast::string_view;

class UpstreamResponseParser final : public bhttp::basic_parser<false> {
 public:
  UpstreamResponseParser();

  int status() const { return status_; }
  const std::string& reason() const { return reason_; }
  // Header fields in arrival order (name as received, value).
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  bool is_event_stream() const { return event_stream_; }
  std::optional<std::uint64_t> declared_length() const { return declared_length_; }
  bool backend_wants_close() const { return !keep_alive(); }

  // Body slices delivered by the last put() call; valid until the caller's
  // buffer changes. clear_body() before each put().
  const std::vector<std::string_view>& body() const { return body_; }
  void clear_body() { body_.clear(); }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  void on_request_impl(bhttp::verb, bsv, bsv, int,
                       boost::system::error_code&) override {}
  void on_response_impl(int code, bsv reason, int version,
                        boost::system::error_code& ec) override;
  void on_field_impl(bhttp::field name, bsv name_string, bsv value,
                     boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::system::error_code&) override;
  std::size_t on_body_impl(bsv body, boost::system::error_code&) override;
  void on_chunk_header_impl(std::uint64_t, bsv, boost::system::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, bsv body,
                                 boost::system::error_code&) override;
  void on_finish_impl(boost::system::error_code&) override {}

  int status_ = 0;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> fields_;
  bool event_stream_ = false;
  std::optional<std::uint64_t> declared_length_;
  std::vector<std::string_view> body_;
  std::uint64_t body_bytes_ = 0;
};

}  // namespace llmproxy::shell
