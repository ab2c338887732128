// The admin API (proxy/modules/admin) on any request body, route and token
// choice, against the rules admin_api.h, key_json.h and docs/admin.md state:
//   - the handler never throws; the status is one the API documents
//     (200 400 401 404 405 409 503) with the matching `error` code, and the
//     body is the {success, message, data, error} envelope;
//   - a call without the right token, or not a POST, never reaches the store;
//     a call answered with an error leaves the store as it was;
//   - 503 only when the store or the randomness failed;
//   - no answer and no log line holds a key the caller sent, or the admin
//     token; the only key an answer shows is the one the gateway generated,
//     in the create answer (data.key), and no log line shows that one;
//   - what a call did shows in a get right after it (create/update: the same
//     fields; delete: 404; sync: every key there).
// The key check runs the call twice: as given, and with every key in the
// body replaced by a canary of the same length made of a control byte the
// input does not hold, on a store seeded the same way (a seed key the body
// names is renamed alike). A canary found in an answer or a log line can
// only have come from the key.
//
// Input: byte 0 picks the route (mod 6), byte 1 the call's options (bits
// below), the rest is the body.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/admin_request/admin_harness.h"

namespace {

namespace json = boost::json;
using llmproxy::fuzz::AdminHarness;
using llmproxy::fuzz::Answer;
using llmproxy::fuzz::Credentials;

[[noreturn]] void fail(const char* what, const Answer* a = nullptr) {
  std::fprintf(stderr, "admin_request invariant violated: %s\n", what);
  if (a) std::fprintf(stderr, "  status %d, body %s\n", a->status, a->body.c_str());
  std::abort();
}

void check(bool ok, const char* what, const Answer* a = nullptr) {
  if (!ok) fail(what, a);
}

constexpr std::string_view kRoutes[] = {"/admin/keys/create", "/admin/keys/get",  "/admin/keys/update",
                                        "/admin/keys/delete", "/admin/keys/list", "/admin/keys/sync"};
enum Route { create, get, update, remove, list, sync };

// Byte 1.
struct Options {
  int token_mode = 2;  // bits 0-1: 0 none, 1 wrong (one byte differs), 2 right, 3 a prefix of it
  Credentials who;     // bit 2 X-Admin-Token, bit 3 "bearer", bit 4 the other header empty
  bool post = true;    // bit 5: GET
  bool store_fails = false;   // bit 6
  bool random_fails = false;  // bit 7
};

Options read_options(std::uint8_t b) {
  Options o;
  o.token_mode = b & 3;
  const std::string right = AdminHarness::kToken;
  if (o.token_mode == 1) o.who.token = right.substr(0, right.size() - 1) + "q";
  if (o.token_mode == 2) o.who.token = right;
  if (o.token_mode == 3) o.who.token = right.substr(0, right.size() - 1);
  o.who.x_admin_token = (b & 4) != 0;
  o.who.lower_scheme = (b & 8) != 0;
  o.who.empty_other = (b & 16) != 0;
  o.post = (b & 32) == 0;
  o.store_fails = (b & 64) != 0;
  o.random_fails = (b & 128) != 0;
  return o;
}

// Every string in a JSON value, member names included (decoded).
void strings_of(const json::value& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    out.emplace_back(v.get_string());
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) strings_of(e, out);
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.get_object()) {
      out.emplace_back(k);
      strings_of(e, out);
    }
  }
}

bool any_contains(const std::vector<std::string>& hay, std::string_view needle) {
  for (const auto& s : hay)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

// Whether any object in `v` (at any depth) has a member `name`.
bool has_member(const json::value& v, std::string_view name) {
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (has_member(e, name)) return true;
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.get_object())
      if (k == name || has_member(e, name)) return true;
  }
  return false;
}

// The envelope and the status/error pairs of docs/admin.md; the parsed body.
json::object check_envelope(const Answer& a, Route route) {
  boost::system::error_code ec;
  json::value v = json::parse(a.body, ec);
  check(!ec && v.is_object(), "the answer is not a JSON object", &a);
  json::object& o = v.get_object();
  check(o.size() == 4 && o.contains("success") && o.contains("message") && o.contains("data") && o.contains("error"),
        "the answer is not exactly {success, message, data, error}", &a);
  check(o["success"].is_bool() && o["message"].is_string(), "success or message of the wrong type", &a);
  const bool ok = o["success"].get_bool();
  check(ok == (a.status == 200), "success disagrees with the status", &a);
  if (ok) {
    check(o["error"].is_null(), "a success with an error", &a);
    return std::move(o);
  }
  check(o["error"].is_string() && o["data"].is_null(), "a failure without an error code, or with data", &a);
  const std::string_view e = o["error"].get_string();
  switch (a.status) {
    case 400: check(e == "invalid_json" || e == "invalid_field", "400 with another error code", &a); break;
    case 401: check(e == "unauthorized", "401 with another error code", &a); break;
    case 404:
      check(e == "key_not_found" && (route == get || route == update || route == remove), "404 out of place", &a);
      break;
    case 405: check(e == "method_not_allowed", "405 with another error code", &a); break;
    case 409: check(e == "key_exists" && route == create, "409 out of place", &a); break;
    case 503: check(e == "store_unavailable" || e == "no_randomness", "503 with another error code", &a); break;
    default: fail("a status the API does not document", &a);
  }
  if (e == "invalid_field")
    check(o["message"].get_string().subview().find(": ") != std::string_view::npos,
          "invalid_field without the field named", &a);
  return std::move(o);
}

// None of `secrets` in the answer or its log lines; every log line is JSON.
void check_absent(const Answer& a, const json::object& answer, const std::vector<std::string>& secrets) {
  std::vector<std::string> said;
  strings_of(answer, said);
  for (const auto& line : a.log) {
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    check(!ec, "a log line is not JSON", &a);
    strings_of(v, said);
  }
  for (const auto& s : secrets) check(!any_contains(said, s), "a key or the token in an answer or a log line", &a);
}

struct Context {
  std::vector<std::string> secrets;  // never in an answer or log line
};

// A call made to check what an earlier one did: the right token, the store up.
json::object follow_up(AdminHarness& h, Route route, const json::object& body, const Context& ctx, int want,
                       const char* what) {
  const Answer a = h.admin(kRoutes[route], json::serialize(body));
  const json::object o = check_envelope(a, route);
  check_absent(a, o, ctx.secrets);
  check(!has_member(o, "key"), "a key in an answer", &a);
  check(a.status == want, what, &a);
  return o;
}

json::object key_body(std::string_view key) { return json::object{{"key", key}}; }

// One call of the input on `h` (seeded), its invariants, and the follow-ups.
void run(AdminHarness& h, Route route, const Options& opt, const std::string& body, Context ctx) {
  boost::system::error_code ec;
  const json::value request = json::parse(body, ec);
  const bool is_object = !ec && request.is_object();

  const std::string before = h.admin(kRoutes[list], "{\"limit\":1000}").body;
  h.store().calls = 0;
  h.store().fail = opt.store_fails;
  h.random_fails = opt.random_fails;
  const Answer a = h.call(kRoutes[route], body, opt.who, opt.post);
  h.store().fail = false;
  h.random_fails = false;
  const json::object o = check_envelope(a, route);

  // The key the gateway generated: shown once, in the create answer only.
  const bool generated = route == create && a.status == 200 && is_object && !request.get_object().contains("key");
  std::string new_key;
  if (generated) {
    const auto& data = o.at("data").as_object();
    check(data.contains("key") && data.at("key").is_string(), "a generated key not returned", &a);
    new_key = std::string(data.at("key").get_string());
    check(new_key.size() == 3 + 64 && new_key.starts_with("sk-") &&
              new_key.find_first_not_of("0123456789abcdef", 3) == std::string::npos,
          "a generated key is not sk- and 64 hex digits", &a);
    json::object without = data;
    without.erase("key");
    check(!has_member(without, "key"), "a key in an answer", &a);
  } else {
    check(!has_member(o, "key"), "a key in an answer", &a);
  }
  check_absent(a, o, ctx.secrets);
  if (generated)
    for (const auto& line : a.log) check(line.find(new_key) == std::string::npos, "a generated key logged", &a);

  // The door: method, then token, before the store.
  if (!opt.post) {
    check(a.status == 405 && h.store().calls == 0, "a call that is not POST was served", &a);
    return;
  }
  if (opt.token_mode != 2) {
    check(a.status == 401 && h.store().calls == 0, "a call without the right token was served", &a);
    return;
  }
  check(a.status != 401, "the right token was refused", &a);
  check(a.status != 503 || opt.store_fails || opt.random_fails, "503 though the store and randomness are up", &a);
  check((a.status == 400 && o.at("error") == "invalid_json") == !is_object,
        "invalid_json disagrees with what the body is", &a);

  if (a.status != 200) {
    // A refused call changed nothing (a sync is all or nothing).
    check(h.admin(kRoutes[list], "{\"limit\":1000}").body == before, "a refused call changed the store", &a);
    return;
  }

  // What the call did, seen by the next one.
  const json::object& in = request.get_object();
  const auto given_key = [&]() -> std::string_view { return in.at("key").get_string(); };
  switch (route) {
    case create: {
      if (generated) ctx.secrets.push_back(new_key);
      const json::object got = follow_up(h, get, key_body(generated ? std::string_view(new_key) : given_key()), ctx,
                                         200, "a created key is not found");
      json::object created = o.at("data").as_object();
      created.erase("key");
      check(got.at("data") == json::value(created), "a get shows other fields than the create", &a);
      break;
    }
    case update: {
      const json::object got = follow_up(h, get, key_body(given_key()), ctx, 200, "an updated key is not found");
      check(got.at("data") == o.at("data"), "a get shows other fields than the update", &a);
      break;
    }
    case remove:
      follow_up(h, get, key_body(given_key()), ctx, 404, "a deleted key is still found");
      break;
    case sync: {
      const auto& keys = in.at("keys").as_array();
      check(o.at("data").at("synced") == json::value(keys.size()), "synced is not the number of keys", &a);
      std::set<std::string_view> distinct;
      for (const auto& k : keys) distinct.insert(k.at("key").get_string());
      std::size_t asked = 0;
      for (auto k : distinct)
        if (++asked <= 32) follow_up(h, get, key_body(k), ctx, 200, "a synced key is not found");
      if (in.at("mode").get_string() == "full") {
        const json::object all = follow_up(h, list, json::object{{"limit", 1000}}, ctx, 200, "list failed");
        check(all.at("data").at("total") == json::value(distinct.size()), "a full sync left other keys", &a);
      }
      break;
    }
    case list: {
      const auto& data = o.at("data").as_object();
      const auto n = static_cast<std::int64_t>(data.at("keys").as_array().size());
      check(n <= data.at("limit").as_int64() && n <= data.at("total").as_int64(), "a page larger than asked", &a);
      break;
    }
    case get:
      break;
  }
}

// Keys the store holds before the call: a body that names one reaches the
// found, update and delete paths.
constexpr std::string_view kSeedKeys[] = {"sk-seed-0123456789abcdef", "k-1"};

void seed(AdminHarness& h, const std::map<std::string, std::string>& rename) {
  for (std::string_view k : kSeedKeys) {
    const auto it = rename.find(std::string(k));
    const std::string key = it == rename.end() ? std::string(k) : it->second;
    const Answer a = h.admin(kRoutes[create], json::serialize(json::object{{"key", key}, {"name", "seed"},
                                                                           {"total_quota", 1000}}));
    check(a.status == 200, "seeding failed", &a);
  }
}

// The keys a body names: its `key`, and each `keys[i].key`.
std::vector<json::string*> keys_in(json::value& v) {
  std::vector<json::string*> out;
  if (!v.is_object()) return out;
  auto& o = v.get_object();
  if (auto* k = o.if_contains("key"); k && k->is_string() && !k->get_string().empty()) out.push_back(&k->get_string());
  if (auto* ks = o.if_contains("keys"); ks && ks->is_array())
    for (auto& item : ks->get_array())
      if (auto* k = item.is_object() ? item.get_object().if_contains("key") : nullptr;
          k && k->is_string() && !k->get_string().empty())
        out.push_back(&k->get_string());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto route = static_cast<Route>(data[0] % 6);
  const Options opt = read_options(data[1]);
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);

  // What the request itself holds may come back (a name is echoed): only
  // secrets it does not hold are looked for.
  std::vector<std::string> in_request{body};
  boost::system::error_code ec;
  json::value request = json::parse(body, ec);
  if (!ec) strings_of(request, in_request);
  Context ctx;
  for (const std::string& s : {std::string(AdminHarness::kToken), opt.who.token})
    if (!s.empty() && !any_contains(in_request, s)) ctx.secrets.push_back(s);

  {
    AdminHarness h;
    seed(h, {});
    run(h, route, opt, body, ctx);
  }

  // Again with canaries for the keys: one control byte per distinct key,
  // none the input holds, repeated to the key's length (validity unchanged).
  if (ec) return 0;
  std::set<char> used;
  for (const auto& s : in_request) used.insert(s.begin(), s.end());
  std::map<std::string, std::string> rename;
  char fill = 1;
  for (json::string* k : keys_in(request)) {
    std::string key(*k);
    auto it = rename.find(key);
    if (it == rename.end()) {
      while (fill < 32 && used.count(fill)) ++fill;
      if (fill == 32) return 0;  // more distinct keys than free bytes: no canary run
      it = rename.emplace(key, std::string(key.size(), fill++)).first;
      ctx.secrets.push_back(it->second);
    }
    *k = it->second;
  }
  if (rename.empty()) return 0;
  AdminHarness h;
  seed(h, rename);
  run(h, route, opt, json::serialize(request), ctx);
  return 0;
}
