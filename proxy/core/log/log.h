// The system log (`log:` in the config): level, json or text lines, to stdout
// or stderr. One process-wide logger, configured once at start-up; the time
// source is injected so simulator runs log virtual time.
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/core/time.h"

namespace llmproxy::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { json, text };

struct Field {
  std::string_view key;
  std::string value;
};

struct LoggerOptions {
  Level level = Level::info;
  Format format = Format::json;
  std::FILE* sink = nullptr;  // null = stderr
  // When set, each line goes here instead of `sink` (log.output: file goes
  // through the shell's background log writer).
  std::function<void(std::string_view)> writer;
  std::function<WallTime()> clock;  // null = no timestamp field
};

void configure(LoggerOptions opts);
bool enabled(Level level);
// Writes one line. Each line is one fwrite, so lines from several worker
// threads never interleave.
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::debug)) write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::info)) write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::warn)) write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::error)) write(Level::error, m, f);
}

// Renders one line without writing it (for tests).
std::string render(Level level, std::string_view message, std::initializer_list<Field> fields,
                   Format format, const WallTime* when);

}  // namespace llmproxy::log
