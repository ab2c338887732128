// Incremental parser of RESP2 requests for the fake Redis server.
//
// A request is a multibulk: `*<n>\r\n` followed by n bulk strings
// `$<len>\r\n<len bytes>\r\n`. Bytes may arrive split anywhere; next() hands
// out complete commands in order. `*0` and `*-1` are skipped, as Redis does.
//
// Anything else is a protocol error, after which the parser stays failed and
// error() holds the text the server sends (as "-ERR <text>") before closing:
//   - a first byte other than '*' ("Protocol error: expected '*', got 'x'";
//     Redis would try it as an inline command, which the fake does not speak);
//   - a bad or too large count ("Protocol error: invalid multibulk length",
//     more than 1,048,576 arguments) or bulk length ("Protocol error: invalid
//     bulk length", more than max_bulk bytes);
//   - a bulk header that does not start with '$' ("Protocol error: expected
//     '$', got 'x'");
//   - bulk data not followed by CRLF (Redis skips two bytes without looking;
//     the fake is stricter so a client framing bug shows);
//   - a header line longer than 64 KiB without its CRLF.
// Memory stays bounded by max_bulk plus one header line per command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::fake {

class RedisRequestParser {
 public:
  enum class Status { command, incomplete, error };

  explicit RedisRequestParser(std::size_t max_bulk = 64 * 1024 * 1024) : max_bulk_(max_bulk) {}

  void feed(std::string_view bytes);
  // The next complete command (argv[0] is the command name), if any.
  Status next(std::vector<std::string>& argv);
  const std::string& error() const { return error_; }

 private:
  enum class State { count, bulk_header, bulk_data };

  // The next CRLF-terminated line from pos_, without the CRLF; false while
  // incomplete (or on error: a line too long).
  bool take_line(std::string_view& line);
  Status fail(std::string message);

  std::size_t max_bulk_;
  std::string buf_;
  std::size_t pos_ = 0;
  State state_ = State::count;
  std::int64_t args_left_ = 0;
  std::size_t bulk_len_ = 0;
  std::vector<std::string> current_;
  std::string error_;
};

}  // namespace llmproxy::fake
