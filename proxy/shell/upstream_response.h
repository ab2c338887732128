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

// What a parser keeps of a response head, owned by the session and reused
// for every attempt, so that parsing a head allocates nothing once warm
// (Beast's parser itself cannot be reset, so a new one is made per attempt).
struct UpstreamHeadStorage {
  struct Span {
    std::uint32_t name_at, name_len, value_at, value_len;
  };
  std::string text;  // the reason phrase, then names and values back to back
  std::vector<Span> fields;
  std::vector<std::string_view> body;
  void clear() {
    text.clear();
    fields.clear();
    body.clear();
  }
};

class UpstreamResponseParser final : public bhttp::basic_parser<false> {
 public:
  // Clears `storage`, which must outlive the parser.
  explicit UpstreamResponseParser(UpstreamHeadStorage& storage);

  using Field = std::pair<std::string_view, std::string_view>;
  // Header fields in arrival order (name as received, value); iterable.
  class Fields {
   public:
    struct iterator {
      const UpstreamHeadStorage* st;
      std::size_t i;
      Field operator*() const {
        const auto& f = st->fields[i];
        return {std::string_view(st->text).substr(f.name_at, f.name_len),
                std::string_view(st->text).substr(f.value_at, f.value_len)};
      }
      iterator& operator++() {
        ++i;
        return *this;
      }
      bool operator!=(const iterator& o) const { return i != o.i; }
    };
    explicit Fields(const UpstreamHeadStorage& st) : st_(&st) {}
    iterator begin() const { return {st_, 0}; }
    iterator end() const { return {st_, st_->fields.size()}; }

   private:
    const UpstreamHeadStorage* st_;
  };

  int status() const { return status_; }
  std::string_view reason() const { return std::string_view(st_.text).substr(0, reason_len_); }
  Fields fields() const { return Fields(st_); }
  bool is_event_stream() const { return event_stream_; }
  std::optional<std::uint64_t> declared_length() const { return declared_length_; }
  bool backend_wants_close() const { return !keep_alive(); }

  // Body slices delivered by the last put() call; valid until the caller's
  // buffer changes. clear_body() before each put().
  const std::vector<std::string_view>& body() const { return st_.body; }
  void clear_body() { st_.body.clear(); }
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

  UpstreamHeadStorage& st_;
  int status_ = 0;
  std::size_t reason_len_ = 0;
  bool event_stream_ = false;
  std::optional<std::uint64_t> declared_length_;
  std::uint64_t body_bytes_ = 0;
};

}  // namespace llmproxy::shell
