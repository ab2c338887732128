#include "proxy/core/log/log.h"

#include <atomic>
#include <cstdint>
#include <ctime>

namespace llmproxy::log {
namespace {

struct State {
  std::atomic<int> level{static_cast<int>(Level::info)};
  Format format = Format::json;
  std::FILE* sink = nullptr;
  std::function<void(std::string_view)> writer;
  std::function<WallTime()> clock;
};

State& state() {
  static State s;
  return s;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_time(std::string& out, const WallTime& t) {
  const auto ns = t.time_since_epoch().count();
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  const int millis = static_cast<int>((ns / 1'000'000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                              tm.tm_min, tm.tm_sec, millis);
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

void configure(LoggerOptions opts) {
  auto& s = state();
  s.level.store(static_cast<int>(opts.level));
  s.format = opts.format;
  s.sink = opts.sink;
  s.writer = std::move(opts.writer);
  s.clock = std::move(opts.clock);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= state().level.load(std::memory_order_relaxed);
}

std::string render(Level level, std::string_view message, std::initializer_list<Field> fields,
                   Format format, const WallTime* when) {
  std::string out;
  out.reserve(128);
  if (format == Format::json) {
    out.push_back('{');
    if (when) {
      out += "\"ts\":\"";
      append_time(out, *when);
      out += "\",";
    }
    out += "\"level\":\"";
    out += level_name(level);
    out += "\",\"msg\":";
    append_json_string(out, message);
    for (const auto& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      append_json_string(out, f.value);
    }
    out += "}\n";
  } else {
    if (when) {
      append_time(out, *when);
      out.push_back(' ');
    }
    out += level_name(level);
    out.push_back(' ');
    out += message;
    for (const auto& f : fields) {
      out.push_back(' ');
      out += f.key;
      out.push_back('=');
      out += f.value;
    }
    out.push_back('\n');
  }
  return out;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  auto& s = state();
  WallTime t;
  const WallTime* when = nullptr;
  if (s.clock) {
    t = s.clock();
    when = &t;
  }
  const std::string line = render(level, message, fields, s.format, when);
  if (s.writer) {
    s.writer(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), s.sink ? s.sink : stderr);
  std::fflush(s.sink ? s.sink : stderr);
}

}  // namespace llmproxy::log
