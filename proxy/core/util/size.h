// Byte sizes: a plain integer is a number of bytes ("10485760"); a unit may
// follow, optionally after one space. Decimal units are powers of 1000
// (B, KB, MB, GB, TB), binary units powers of 1024 (KiB, MiB, GiB, TiB), as in
// IEC 80000-13; unit letters are case-insensitive ("10mb" = 10 MB = 10^7 bytes).
// Only whole numbers are accepted ("1.5MB" is rejected: say 1500KB).
#pragma once

#include <cstdint>
#include <string_view>

#include "proxy/core/util/parsed.h"

namespace llmproxy::util {

Parsed<std::uint64_t> parse_size(std::string_view text);

}  // namespace llmproxy::util
