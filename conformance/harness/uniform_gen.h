// Size-independent generators for the simulation properties. RapidCheck's
// gen::inRange and gen::elementOf scale their range with the test size
// (small sizes only reach the low end), so a fault listed last was drawn in
// ~0.5 % of cases (issue #11). These draw uniformly over the whole range at
// every size, and still shrink towards the low end.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <span>
#include <vector>

namespace llmproxy::harness {

// Uniform in [min, max).
template <class T>
rc::Gen<T> uniform(T min, T max) {
  return [=](const rc::Random& random, int /*size*/) {
    const auto range = static_cast<rc::Random::Number>(max) - static_cast<rc::Random::Number>(min);
    const T value = static_cast<T>(rc::Random(random).next() % range + min);
    return rc::shrinkable::shrinkRecur(value, [=](T x) { return rc::shrink::towards<T>(x, min); });
  };
}

// Heads or tails, at every size.
inline rc::Gen<bool> coin() {
  return rc::gen::map(uniform<int>(0, 2), [](int x) { return x == 1; });
}

// One element, each equally likely.
template <class T>
rc::Gen<T> uniform_element(std::span<const T> items) {
  return rc::gen::map(uniform<std::size_t>(0, items.size()),
                      [items](std::size_t i) { return items[i]; });
}

// One of the values given, each equally likely (gen::element scales too).
template <class T, class... Ts>
rc::Gen<T> pick_of(T first, Ts... rest) {
  std::vector<T> items{first, static_cast<T>(rest)...};
  return rc::gen::map(uniform<std::size_t>(0, items.size()),
                      [items](std::size_t i) { return items[i]; });
}

}  // namespace llmproxy::harness
