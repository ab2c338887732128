// Rotated log files (the `file:` block of log, logging.request and
// logging.access: rotate, max_size, max_age, compress): when a file is
// rotated, what the rotated file is called, and when it is old enough to
// delete. Pure; the writer (proxy/shell/log_file_writer.h) does the I/O.
//
// The live file keeps its configured path. Rotating renames it to
//   <path>.<stamp>[.<n>][.gz]
//   daily   stamp YYYY-MM-DD           the UTC day its lines were written in
//   hourly  stamp YYYY-MM-DDTHH        the UTC hour its lines were written in
//   size    stamp YYYY-MM-DDTHH-MM-SS  the UTC second it was rotated
//   .<n>    1, 2, … only when the name is taken (two size rotations in one
//           second, a clock set back)
//   .gz     once compressed
// daily/hourly rotate when the first line of a later day/hour is written (a
// clock set back never rotates); size rotates before a write would take the
// file past max_size bytes, at a line boundary (a file exceeds it only when
// a single line is longer than max_size).
// A rotated file's age counts from when it stopped receiving lines: the end
// of its day or hour, or the second in its name. It is deleted once that is
// more than max_age before now; max_age 0 keeps rotated files forever.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/config/common.h"
#include "proxy/core/time.h"

namespace llmproxy::log {

// The start of the UTC day (daily) or hour (hourly) holding t; for size, t
// itself. Two times are in the same period when their period_start is equal.
WallTime period_start(config::Rotate rotate, WallTime t);

// The rotated name for a file: `stamp` is the period start (daily, hourly)
// or the rotation time (size); n = 0 adds no ".<n>".
std::string rotated_name(std::string_view path, config::Rotate rotate, WallTime stamp, int n = 0);

struct RotatedFile {
  WallTime closed_at;  // when it stopped receiving lines
  bool compressed = false;
};

// Whether `file_name` (no directory) is a rotated file of the log whose
// file name (no directory) is `base_name`, under any of the three stamps —
// so files rotated under an earlier `rotate` setting still age out.
std::optional<RotatedFile> parse_rotated_name(std::string_view file_name, std::string_view base_name);

// Whether a rotated file closed at `closed_at` is past max_age at `now`.
bool expired(WallTime closed_at, Duration max_age, WallTime now);

// Config → bytes and age: max_size is in MB of 1,000,000 bytes (as sizes
// are everywhere in the config, docs/configuration.md), max_age in days.
std::uint64_t max_size_bytes(const config::LogFileConfig& f);
Duration max_age(const config::LogFileConfig& f);

}  // namespace llmproxy::log
