// RESP values and the wire codec of the Redis client. hiredis 0.14 does the
// protocol work (redisFormatCommandArgv encodes, redisReader parses); this
// wrapper builds our own Reply tree straight from the parser's callbacks, so a
// reply owns its data and no hiredis object outlives a call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace llmproxy::stores::redis {

struct Reply {
  enum class Type : std::uint8_t { nil, integer, string, status, error, array };

  Type type = Type::nil;
  std::int64_t integer = 0;     // integer
  std::string str;              // string (bulk), status (+OK) and error (-ERR …) text
  std::vector<Reply> elements;  // array

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }
  bool is_integer() const { return type == Type::integer; }
  bool is_array() const { return type == Type::array; }
  // string or status
  bool is_text() const { return type == Type::string || type == Type::status; }

  bool operator==(const Reply&) const = default;

  // A one-line rendering for logs and test failures: 5, "abc", +OK, -ERR x,
  // nil, [1, "a", [nil]].
  std::string describe() const;
};

// Incremental RESP parser. Feed it bytes as they arrive, in any split; take
// complete replies out in order. After a protocol error it stays failed
// until reset() (the connection is dropped anyway).
class ReplyReader {
 public:
  enum class Status { reply, incomplete, error };

  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Appends bytes (copied). Returns false once the reader has failed.
  bool feed(const char* data, std::size_t size);
  bool feed(std::string_view bytes) { return feed(bytes.data(), bytes.size()); }

  // The next complete reply, if the fed bytes hold one.
  Status next(Reply& out);

  // Why the reader failed (hiredis's text), "" when it has not.
  std::string_view error_message() const;

  // Discards buffered bytes, partial replies and the error state.
  void reset();

 private:
  redisReader* reader_;
};

// Appends the RESP encoding of one command (an array of bulk strings).
void append_command(std::string& out, std::span<const std::string_view> args);

}  // namespace llmproxy::stores::redis
