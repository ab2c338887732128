// UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
// Config strings must be valid UTF-8 so that printing them is lossless.
#pragma once

#include <string_view>

namespace llmproxy::util {

bool is_valid_utf8(std::string_view s);

}  // namespace llmproxy::util
