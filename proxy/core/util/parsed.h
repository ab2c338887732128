// Result of a small text parser: a value, or a human-readable reason why the
// text was rejected. The message never names the config key; the caller (the
// config loader) prefixes it with the key's path and position.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace llmproxy::util {

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // empty when value is set

  static Parsed success(T v) { return Parsed{std::move(v), {}}; }
  static Parsed failure(std::string message) { return Parsed{std::nullopt, std::move(message)}; }

  bool ok() const { return value.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

}  // namespace llmproxy::util
