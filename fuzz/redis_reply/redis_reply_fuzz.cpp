// Fuzz target redis_reply. The input is what a server might send (corpus
// files are readable RESP). It is parsed three ways: whole, one byte at a
// time, and cut at points drawn from a generator seeded by a hash of the
// input. Any difference in the replies taken out or in whether the reader
// failed aborts; sanitizers catch crashes and leaks of partial replies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "proxy/core/random.h"
#include "proxy/stores/redis/reply.h"
#include "proxy/core/util/fnv1a.h"

namespace {

namespace redis = llmproxy::stores::redis;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Result {
  std::vector<redis::Reply> replies;
  bool failed = false;
  bool operator==(const Result&) const = default;
};

template <class NextCut>
Result run(std::string_view input, NextCut next_cut) {
  redis::ReplyReader reader;
  Result out;
  std::size_t pos = 0;
  while (pos < input.size() && !out.failed) {
    const std::size_t len = next_cut(input.size() - pos);
    if (!reader.feed(input.substr(pos, len))) {
      out.failed = true;
      break;
    }
    pos += len;
    for (;;) {
      redis::Reply r;
      const auto st = reader.next(r);
      if (st == redis::ReplyReader::Status::reply) {
        out.replies.push_back(std::move(r));
        continue;
      }
      if (st == redis::ReplyReader::Status::error) {
        out.failed = true;
        check(!reader.error_message().empty());
      }
      break;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Result whole = run(input, [](std::size_t rest) { return rest; });
  const Result bytes = run(input, [](std::size_t) { return std::size_t{1}; });
  llmproxy::Rng rng(llmproxy::util::fnv1a(input));
  const Result cuts = run(input, [&](std::size_t rest) { return 1 + rng.below(rest); });
  check(whole == bytes);
  check(whole == cuts);
  // A reply rendered for logs never crashes either.
  for (const auto& r : whole.replies) check(!r.describe().empty());
  return 0;
}
