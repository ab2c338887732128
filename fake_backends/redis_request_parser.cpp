#include "fake_backends/redis_request_parser.h"

#include <algorithm>
#include <charconv>

namespace llmproxy::fake {
namespace {

constexpr std::int64_t kMaxArgs = 1024 * 1024;
constexpr std::size_t kMaxLine = 64 * 1024;

// Digits with an optional leading '-', nothing else (Redis's string2ll).
bool parse_count(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.front() == '+') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string got(char c) { return std::string("got '") + c + "'"; }

}  // namespace

void RedisRequestParser::feed(std::string_view bytes) {
  if (!error_.empty()) return;
  // Drop what was consumed before growing, so the buffer holds at most one
  // partial command.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

bool RedisRequestParser::take_line(std::string_view& line) {
  const std::size_t crlf = buf_.find("\r\n", pos_);
  if (crlf == std::string::npos) {
    if (buf_.size() - pos_ > kMaxLine) fail("Protocol error: too big header line");
    return false;
  }
  line = std::string_view(buf_).substr(pos_, crlf - pos_);
  pos_ = crlf + 2;
  return true;
}

RedisRequestParser::Status RedisRequestParser::fail(std::string message) {
  error_ = std::move(message);
  buf_.clear();
  pos_ = 0;
  current_.clear();
  return Status::error;
}

RedisRequestParser::Status RedisRequestParser::next(std::vector<std::string>& argv) {
  if (!error_.empty()) return Status::error;
  for (;;) {
    if (state_ == State::count) {
      if (pos_ == buf_.size()) return Status::incomplete;
      if (buf_[pos_] != '*') return fail("Protocol error: expected '*', " + got(buf_[pos_]));
      std::string_view line;
      if (!take_line(line)) return error_.empty() ? Status::incomplete : Status::error;
      std::int64_t n = 0;
      if (!parse_count(line.substr(1), n) || n > kMaxArgs)
        return fail("Protocol error: invalid multibulk length");
      if (n <= 0) continue;  // an empty command: nothing to do
      args_left_ = n;
      current_.clear();
      current_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(n, 64)));
      state_ = State::bulk_header;
    }
    if (state_ == State::bulk_header) {
      if (pos_ == buf_.size()) return Status::incomplete;
      if (buf_[pos_] != '$') return fail("Protocol error: expected '$', " + got(buf_[pos_]));
      std::string_view line;
      if (!take_line(line)) return error_.empty() ? Status::incomplete : Status::error;
      std::int64_t len = 0;
      if (!parse_count(line.substr(1), len) || len < 0 ||
          static_cast<std::uint64_t>(len) > max_bulk_)
        return fail("Protocol error: invalid bulk length");
      bulk_len_ = static_cast<std::size_t>(len);
      state_ = State::bulk_data;
    }
    // State::bulk_data
    if (buf_.size() - pos_ < bulk_len_ + 2) return Status::incomplete;
    if (buf_[pos_ + bulk_len_] != '\r' || buf_[pos_ + bulk_len_ + 1] != '\n')
      return fail("Protocol error: expected CRLF after bulk data");
    current_.emplace_back(buf_, pos_, bulk_len_);
    pos_ += bulk_len_ + 2;
    state_ = State::bulk_header;
    if (--args_left_ == 0) {
      state_ = State::count;
      argv = std::move(current_);
      current_.clear();
      return Status::command;
    }
  }
}

}  // namespace llmproxy::fake
