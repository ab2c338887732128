// The Lua scripts of the Redis limiter store (limiter_scripts.cpp documents
// their keys, arguments and replies).
#pragma once

#include <string_view>

namespace llmproxy::stores::redis {

// One admission: every request rule, the token bucket and the concurrency
// slots of one key, checked and committed atomically.
extern const std::string_view kAdmitScript;
// The end of an admitted request: frees its slot, settles its tokens.
extern const std::string_view kFinishScript;

// Indexes of kAdmitScript's reply array.
enum AdmitReply : int {
  kAdmitted = 0,       // 1 or 0
  kRejectedBy,         // 0, a rule index 1..n, n+1 tokens, n+2 concurrency
  kWaitUs,             // when rejected: µs until the rejecting rule admits
  kTightRule,          // 0 or the rule index 1..n with the fewest remaining requests
  kRemainingRequests,
  kResetRequestsUs,
  kRemainingTokens,    // -1 without a token limit
  kResetTokensUs,
  kAdmitReplySize,
};

}  // namespace llmproxy::stores::redis
