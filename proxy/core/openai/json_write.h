// Writing JSON text for the bodies the gateway itself produces (errors). The
// escaping is total: any bytes in, valid JSON out (invalid UTF-8 becomes
// U+FFFD), because messages may quote client input such as a path or a model.
#pragma once

#include <string>
#include <string_view>

namespace llmproxy::json {

// Appends `s` as a quoted JSON string.
void append_string(std::string& out, std::string_view s);

}  // namespace llmproxy::json
