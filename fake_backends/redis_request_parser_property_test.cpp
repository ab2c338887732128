// The fake Redis server's request parser: commands come out the same
// however the bytes are split, and any bytes at all end in commands, a wait
// for more, or a protocol error — never a crash (ASan and UBSan watch).
#include "fake_backends/redis_request_parser.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace llmproxy::fake {
namespace {

using Command = std::vector<std::string>;

std::string encode_command(const Command& c) {
  std::string out = "*" + std::to_string(c.size()) + "\r\n";
  for (const auto& a : c) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// Feeds `bytes` in pieces of the given sizes (cycled); collects commands.
RedisRequestParser::Status parse(const std::string& bytes, const std::vector<std::size_t>& pieces,
                                 std::vector<Command>& out) {
  RedisRequestParser p(1024);
  std::size_t at = 0, k = 0;
  RedisRequestParser::Status st = RedisRequestParser::Status::incomplete;
  while (at < bytes.size()) {
    const std::size_t n = std::min(bytes.size() - at, pieces.empty() ? bytes.size() : pieces[k++ % pieces.size()]);
    p.feed(std::string_view(bytes).substr(at, n));
    at += n;
    Command c;
    while ((st = p.next(c)) == RedisRequestParser::Status::command) out.push_back(c);
    if (st == RedisRequestParser::Status::error) return st;
  }
  return st;
}

RC_GTEST_PROP(RedisRequestParser, AnySplitGivesTheSameCommands, ()) {
  const auto commands = *rc::gen::container<std::vector<Command>>(
      rc::gen::nonEmpty(rc::gen::container<Command>(rc::gen::string<std::string>())));
  std::string bytes;
  for (const auto& c : commands) bytes += encode_command(c);
  RC_PRE(std::all_of(commands.begin(), commands.end(), [](const Command& c) {
    return std::all_of(c.begin(), c.end(), [](const std::string& a) { return a.size() <= 1024; });
  }));
  const auto pieces = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 9));
  std::vector<Command> got;
  const auto st = parse(bytes, pieces, got);
  RC_ASSERT(st == RedisRequestParser::Status::incomplete);
  RC_ASSERT(got == commands);
}

RC_GTEST_PROP(RedisRequestParser, AnyBytesEndInCommandsAWaitOrAnError, ()) {
  // Mostly RESP-looking bytes, so the parser gets deep before it fails.
  const auto alphabet = rc::gen::element('*', '$', '\r', '\n', '-', '0', '1', '2', '3', '9', 'a', '\0');
  const std::string bytes = *rc::gen::container<std::string>(alphabet);
  const auto pieces = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 9));
  std::vector<Command> got;
  const auto st = parse(bytes, pieces, got);
  RC_ASSERT(st != RedisRequestParser::Status::command);
  for (const auto& c : got) RC_ASSERT(!c.empty());
}

}  // namespace
}  // namespace llmproxy::fake
