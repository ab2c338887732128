#include "fake_backends/redis_commands.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace llmproxy::fake {
namespace {

using Args = std::span<const std::string>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Like Redis's strtod-based parsing: the whole string, no NaN, ±inf allowed.
bool parse_double(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+' || s.front() == ' ') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !std::isnan(out);
}

// A ZRANGEBYSCORE bound: "(x" is exclusive.
struct Bound {
  double value = 0;
  bool exclusive = false;
};

bool parse_bound(std::string_view s, Bound& b) {
  b.exclusive = !s.empty() && s.front() == '(';
  if (b.exclusive) s.remove_prefix(1);
  return parse_double(s, b.value);
}

bool above_min(double score, const Bound& min) {
  return min.exclusive ? score > min.value : score >= min.value;
}
bool below_max(double score, const Bound& max) {
  return max.exclusive ? score < max.value : score <= max.value;
}

RespValue not_implemented(std::string_view what) {
  return RespValue::error("ERR fake redis: " + std::string(what) + " is not implemented");
}

// The entry of `key` holding a T, or null; `wrong` is set when the key holds
// the other type.
template <class T>
T* typed(CommandContext& c, std::string_view key, bool& wrong) {
  wrong = false;
  RedisEntry* e = find_live(c.db, key, c.now_ms());
  if (e == nullptr) return nullptr;
  T* v = std::get_if<T>(&e->value);
  wrong = v == nullptr;
  return v;
}

// ---------------------------------------------------------------- generic

RespValue ping(CommandContext&, Args a) {
  if (a.size() > 2) return wrong_arity("ping");
  return a.size() == 2 ? RespValue::bulk(a[1]) : RespValue::simple("PONG");
}

RespValue echo(CommandContext&, Args a) { return RespValue::bulk(a[1]); }

RespValue time_of_day(CommandContext& c, Args) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(c.now.time_since_epoch()).count();
  return RespValue::array({RespValue::bulk(std::to_string(us / 1'000'000)),
                           RespValue::bulk(std::to_string(us % 1'000'000))});
}

RespValue del(CommandContext& c, Args a) {
  std::int64_t n = 0;
  for (std::size_t i = 1; i < a.size(); ++i) {
    if (find_live(c.db, a[i], c.now_ms()) == nullptr) continue;
    c.db.erase(c.db.find(a[i]));
    ++n;
  }
  return RespValue::integer_of(n);
}

RespValue exists(CommandContext& c, Args a) {
  std::int64_t n = 0;
  for (std::size_t i = 1; i < a.size(); ++i) n += find_live(c.db, a[i], c.now_ms()) != nullptr;
  return RespValue::integer_of(n);
}

RespValue pexpire(CommandContext& c, Args a) {
  if (a.size() > 3) return not_implemented("PEXPIRE option " + a[3]);
  std::int64_t ms = 0;
  if (!parse_redis_int(a[2], ms)) return not_an_integer();
  const std::int64_t now = c.now_ms();
  if ((ms > 0 && now > std::numeric_limits<std::int64_t>::max() - ms) ||
      (ms < 0 && now < std::numeric_limits<std::int64_t>::min() - ms))
    return RespValue::error("ERR invalid expire time in 'pexpire' command");
  RedisEntry* e = find_live(c.db, a[1], now);
  if (e == nullptr) return RespValue::integer_of(0);
  const std::int64_t when = now + ms;
  if (when <= now) {
    c.db.erase(c.db.find(a[1]));  // a deadline already passed deletes the key, as in Redis
  } else {
    e->expire_at_ms = when;
  }
  return RespValue::integer_of(1);
}

RespValue pttl(CommandContext& c, Args a) {
  const RedisEntry* e = find_live(c.db, a[1], c.now_ms());
  if (e == nullptr) return RespValue::integer_of(-2);
  if (e->expire_at_ms < 0) return RespValue::integer_of(-1);
  return RespValue::integer_of(std::max<std::int64_t>(0, e->expire_at_ms - c.now_ms()));
}

// ---------------------------------------------------------------- hashes

RespValue hget(CommandContext& c, Args a) {
  bool wrong = false;
  const RedisHash* h = typed<RedisHash>(c, a[1], wrong);
  if (wrong) return wrong_type();
  if (h == nullptr) return RespValue::nil();
  const auto it = h->fields.find(a[2]);
  return it == h->fields.end() ? RespValue::nil() : RespValue::bulk(it->second);
}

RespValue hmget(CommandContext& c, Args a) {
  bool wrong = false;
  const RedisHash* h = typed<RedisHash>(c, a[1], wrong);
  if (wrong) return wrong_type();
  RespValue out = RespValue::array({});
  for (std::size_t i = 2; i < a.size(); ++i) {
    if (h == nullptr) {
      out.elements.push_back(RespValue::nil());
      continue;
    }
    const auto it = h->fields.find(a[i]);
    out.elements.push_back(it == h->fields.end() ? RespValue::nil() : RespValue::bulk(it->second));
  }
  return out;
}

RespValue hset(CommandContext& c, Args a) {
  if (a.size() % 2 != 0) return wrong_arity("hset");
  bool wrong = false;
  RedisHash* h = typed<RedisHash>(c, a[1], wrong);
  if (wrong) return wrong_type();
  if (h == nullptr) h = &std::get<RedisHash>(c.db[a[1]].value = RedisHash{});
  std::int64_t added = 0;
  for (std::size_t i = 2; i < a.size(); i += 2) added += h->fields.insert_or_assign(a[i], a[i + 1]).second;
  return RespValue::integer_of(added);
}

// ---------------------------------------------------------------- sorted sets

RespValue zadd(CommandContext& c, Args a) {
  for (const char* flag : {"nx", "xx", "gt", "lt", "ch", "incr"})
    if (lower(a[2]) == flag) return not_implemented("ZADD option " + a[2]);
  if (a.size() % 2 != 0) return syntax_error();
  std::vector<double> scores;
  for (std::size_t i = 2; i < a.size(); i += 2) {
    double s = 0;
    if (!parse_double(a[i], s)) return RespValue::error("ERR value is not a valid float");
    scores.push_back(s);
  }
  bool wrong = false;
  RedisZSet* z = typed<RedisZSet>(c, a[1], wrong);
  if (wrong) return wrong_type();
  if (z == nullptr) z = &std::get<RedisZSet>(c.db[a[1]].value = RedisZSet{});
  std::int64_t added = 0;
  for (std::size_t i = 2; i < a.size(); i += 2) added += z->add(a[i + 1], scores[(i - 2) / 2]);
  return RespValue::integer_of(added);
}

RespValue zcard(CommandContext& c, Args a) {
  bool wrong = false;
  const RedisZSet* z = typed<RedisZSet>(c, a[1], wrong);
  if (wrong) return wrong_type();
  return RespValue::integer_of(z == nullptr ? 0 : static_cast<std::int64_t>(z->scores.size()));
}

// Deletes a sorted set left empty: Redis never keeps empty collections.
void drop_if_empty(CommandContext& c, const std::string& key, const RedisZSet& z) {
  if (z.scores.empty()) c.db.erase(c.db.find(key));
}

RespValue zrem(CommandContext& c, Args a) {
  bool wrong = false;
  RedisZSet* z = typed<RedisZSet>(c, a[1], wrong);
  if (wrong) return wrong_type();
  if (z == nullptr) return RespValue::integer_of(0);
  std::int64_t removed = 0;
  for (std::size_t i = 2; i < a.size(); ++i) removed += z->remove(a[i]);
  drop_if_empty(c, a[1], *z);
  return RespValue::integer_of(removed);
}

RespValue zrangebyscore(CommandContext& c, Args a) {
  Bound min, max;
  if (!parse_bound(a[2], min) || !parse_bound(a[3], max))
    return RespValue::error("ERR min or max is not a float");
  bool with_scores = false;
  std::int64_t offset = 0, count = -1;
  for (std::size_t i = 4; i < a.size(); ++i) {
    const std::string opt = lower(a[i]);
    if (opt == "withscores") {
      with_scores = true;
    } else if (opt == "limit" && i + 2 < a.size()) {
      if (!parse_redis_int(a[i + 1], offset) || !parse_redis_int(a[i + 2], count)) return not_an_integer();
      i += 2;
    } else {
      return syntax_error();
    }
  }
  bool wrong = false;
  const RedisZSet* z = typed<RedisZSet>(c, a[1], wrong);
  if (wrong) return wrong_type();
  RespValue out = RespValue::array({});
  if (z == nullptr || offset < 0) return out;
  for (const auto& [score, member] : z->order) {
    if (!above_min(score, min)) continue;
    if (!below_max(score, max) || count == 0) break;
    if (offset > 0) {
      --offset;
      continue;
    }
    out.elements.push_back(RespValue::bulk(member));
    if (with_scores) out.elements.push_back(RespValue::bulk(format_double(score)));
    if (count > 0) --count;
  }
  return out;
}

RespValue zremrangebyscore(CommandContext& c, Args a) {
  Bound min, max;
  if (!parse_bound(a[2], min) || !parse_bound(a[3], max))
    return RespValue::error("ERR min or max is not a float");
  bool wrong = false;
  RedisZSet* z = typed<RedisZSet>(c, a[1], wrong);
  if (wrong) return wrong_type();
  if (z == nullptr) return RespValue::integer_of(0);
  std::vector<std::string> doomed;
  for (const auto& [score, member] : z->order) {
    if (!above_min(score, min)) continue;
    if (!below_max(score, max)) break;
    doomed.push_back(member);
  }
  for (const auto& m : doomed) z->remove(m);
  drop_if_empty(c, a[1], *z);
  return RespValue::integer_of(static_cast<std::int64_t>(doomed.size()));
}

constexpr std::array kCommands = {
    DataCommand{"ping", -1, ping},
    DataCommand{"echo", 2, echo},
    DataCommand{"time", 1, time_of_day},
    DataCommand{"del", -2, del},
    DataCommand{"exists", -2, exists},
    DataCommand{"pexpire", -3, pexpire},
    DataCommand{"pttl", 2, pttl},
    DataCommand{"hget", 3, hget},
    DataCommand{"hmget", -3, hmget},
    DataCommand{"hset", -4, hset},
    DataCommand{"zadd", -4, zadd},
    DataCommand{"zcard", 2, zcard},
    DataCommand{"zrem", -3, zrem},
    DataCommand{"zrangebyscore", -4, zrangebyscore},
    DataCommand{"zremrangebyscore", 4, zremrangebyscore},
};

}  // namespace

std::int64_t CommandContext::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

const DataCommand* find_data_command(std::string_view name) {
  const std::string l = lower(name);
  for (const DataCommand& c : kCommands)
    if (c.name == l) return &c;
  return nullptr;
}

bool parse_redis_int(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.front() == '+') return false;
  const std::string_view digits = s.front() == '-' ? s.substr(1) : s;
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool arity_ok(const DataCommand& c, std::size_t argc) {
  const auto n = static_cast<std::size_t>(c.arity < 0 ? -c.arity : c.arity);
  return c.arity < 0 ? argc >= n : argc == n;
}

std::string format_double(double d) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace llmproxy::fake
