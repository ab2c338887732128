#include "proxy/modules/admin/admin_api.h"

#include <array>
#include <boost/json.hpp>

#include "proxy/core/http/request_rules.h"
#include "proxy/core/log/log.h"
#include "proxy/modules/admin/key_json.h"

namespace llmproxy::modules::admin {
namespace {

namespace json = boost::json;
using shell::EndpointResponse;
using shell::Exchange;
using stores::keys::KeyStore;
using stores::keys::Outcome;
using stores::keys::StoredKey;

constexpr std::array<std::string_view, 6> kPaths{"/admin/keys/create", "/admin/keys/get", "/admin/keys/update",
                                                  "/admin/keys/delete", "/admin/keys/list", "/admin/keys/sync"};
constexpr std::size_t kMaxKeyBytes = 256;
constexpr std::int64_t kDefaultPage = 100, kMaxPage = 1000;
constexpr std::size_t kGeneratedKeyBytes = 32;

// One call's answer, before it becomes the envelope.
struct Reply {
  int status = 200;
  std::string message = "ok";
  json::value data = nullptr;
  std::string error;  // "" on success
};

Reply failure(int status, std::string error, std::string message) {
  Reply r;
  r.status = status;
  r.error = std::move(error);
  r.message = std::move(message);
  return r;
}

Reply bad_field(std::string_view field, std::string_view message) {
  return failure(400, "invalid_field", std::string(field) + ": " + std::string(message));
}

Reply store_failed(const stores::keys::Status& s) {
  if (s.outcome == Outcome::not_found) return failure(404, "key_not_found", "no such key");
  if (s.outcome == Outcome::duplicate) return failure(409, "key_exists", "a key with this value exists");
  log::warn("admin: key store failed", {{"error", s.message}});
  return failure(503, "store_unavailable", "the key store failed; the gateway log says why");
}

// The request's `key`: a non-empty string of at most kMaxKeyBytes.
std::optional<std::string> read_key(const json::object& in, Reply& error) {
  const auto* v = in.if_contains("key");
  if (!v || !v->is_string() || v->get_string().empty() || v->get_string().size() > kMaxKeyBytes) {
    error = bad_field("key", "required: the API key, 1-" + std::to_string(kMaxKeyBytes) + " characters");
    return std::nullopt;
  }
  return std::string(v->get_string().data(), v->get_string().size());
}

std::string generate_key(const SecureRandom& random) {
  std::array<std::uint8_t, kGeneratedKeyBytes> bytes{};
  if (!random || !random(bytes)) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key = "sk-";
  for (std::uint8_t b : bytes) {
    key += kHex[b >> 4];
    key += kHex[b & 15];
  }
  return key;
}

// A key's row identity in the store: the hex SHA-256 of the key.
std::string key_id(std::string_view key) { return auth::to_hex(auth::hash_key(key)); }

StoredKey new_record(const std::string& key, std::int64_t now) {
  StoredKey k;
  k.hash = key_id(key);
  k.prefix = auth::key_prefix(key);
  k.created_at = k.updated_at = now;
  return k;
}

env::Task<Reply> create(KeyStore& store, const json::object& in, std::int64_t now, const SecureRandom& random) {
  std::string key;
  bool generated = false;
  if (in.contains("key")) {
    Reply error;
    auto given = read_key(in, error);
    if (!given) co_return error;
    key = std::move(*given);
  } else {
    key = generate_key(random);
    if (key.empty()) co_return failure(503, "no_randomness", "no secure random bytes to generate a key; pass `key`");
    generated = true;
  }
  StoredKey record = new_record(key, now);
  if (auto e = apply_key_fields(in, record)) co_return bad_field(e->field, e->message);
  const auto s = co_await store.create(record);
  if (!s.ok()) co_return store_failed(s);
  Reply r;
  json::object data = key_to_json(record);
  if (generated) data["key"] = key;  // shown this once; the store keeps only its digest
  r.data = std::move(data);
  r.message = "key created";
  co_return r;
}

env::Task<Reply> get(KeyStore& store, const json::object& in) {
  Reply r;
  const auto key = read_key(in, r);
  if (!key) co_return r;
  const auto found = co_await store.find(key_id(*key));
  if (!found.status.ok()) co_return store_failed(found.status);
  r.data = key_to_json(*found.key);
  co_return r;
}

env::Task<Reply> update(KeyStore& store, const json::object& in, std::int64_t now) {
  Reply r;
  const auto key = read_key(in, r);
  if (!key) co_return r;
  auto found = co_await store.find(key_id(*key));
  if (!found.status.ok()) co_return store_failed(found.status);
  StoredKey record = std::move(*found.key);
  if (auto e = apply_key_fields(in, record)) co_return bad_field(e->field, e->message);
  record.updated_at = now;
  const auto s = co_await store.update(record);
  if (!s.ok()) co_return store_failed(s);
  r.data = key_to_json(record);
  r.message = "key updated";
  co_return r;
}

env::Task<Reply> remove(KeyStore& store, const json::object& in) {
  Reply r;
  const auto key = read_key(in, r);
  if (!key) co_return r;
  const auto s = co_await store.remove(key_id(*key));
  if (!s.ok()) co_return store_failed(s);
  r.message = "key deleted";
  co_return r;
}

// offset / limit: whole numbers; limit 1..kMaxPage.
std::optional<std::int64_t> read_count(const json::object& in, std::string_view name, std::int64_t fallback,
                                       std::int64_t lo, std::int64_t hi, Reply& error) {
  const auto* v = in.if_contains(name);
  if (!v) return fallback;
  if (v->is_int64() && v->get_int64() >= lo && v->get_int64() <= hi) return v->get_int64();
  error = bad_field(name, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return std::nullopt;
}

env::Task<Reply> list(KeyStore& store, const json::object& in) {
  Reply r;
  for (const auto& [name, v] : in)
    if (name != "offset" && name != "limit") co_return bad_field(std::string_view(name.data(), name.size()), "unknown field");
  const auto offset = read_count(in, "offset", 0, 0, INT64_MAX, r);
  if (!offset) co_return r;
  const auto limit = read_count(in, "limit", kDefaultPage, 1, kMaxPage, r);
  if (!limit) co_return r;
  const auto page = co_await store.list(*offset, *limit);
  if (!page.status.ok()) co_return store_failed(page.status);
  json::array keys;
  for (const auto& k : page.keys) keys.push_back(key_to_json(k));
  r.data = json::object{{"keys", std::move(keys)}, {"total", page.total}, {"offset", *offset}, {"limit", *limit}};
  co_return r;
}

env::Task<Reply> sync(KeyStore& store, const json::object& in, std::int64_t now) {
  const auto* mode = in.if_contains("mode");
  if (!mode || !mode->is_string() || (mode->get_string() != "full" && mode->get_string() != "incremental"))
    co_return bad_field("mode", "required: full or incremental");
  const auto* list = in.if_contains("keys");
  if (!list || !list->is_array()) co_return bad_field("keys", "required: a list of key objects");
  // The store refuses a larger set as `unavailable` (a 503 a client would
  // retry forever); it is the caller's to split, so it is a 400 here.
  if (list->get_array().size() > stores::keys::kMaxSyncKeys)
    co_return bad_field("keys", "at most " + std::to_string(stores::keys::kMaxSyncKeys) + " keys in one sync");
  std::vector<StoredKey> records;
  for (std::size_t i = 0; i < list->get_array().size(); ++i) {
    const std::string where = "keys[" + std::to_string(i) + "]";
    const auto& item = list->get_array()[i];
    if (!item.is_object()) co_return bad_field(where, "must be a key object");
    Reply error;
    const auto key = read_key(item.get_object(), error);
    if (!key) co_return bad_field(where + ".key", error.message.substr(error.message.find(": ") + 2));
    StoredKey record = new_record(*key, now);
    if (auto e = apply_key_fields(item.get_object(), record)) co_return bad_field(where + "." + e->field, e->message);
    records.push_back(std::move(record));
  }
  const std::size_t n = records.size();
  const auto s = co_await store.sync(std::move(records), mode->get_string() == "full"
                                                             ? stores::keys::SyncMode::full
                                                             : stores::keys::SyncMode::incremental);
  if (!s.ok()) co_return store_failed(s);
  Reply r;
  r.data = json::object{{"synced", n}, {"mode", mode->get_string()}};
  r.message = "keys synced";
  co_return r;
}

void write_envelope(const Reply& r, std::string& body) {
  json::object o;
  o["success"] = r.error.empty();
  o["message"] = r.message;
  o["data"] = r.data;
  o["error"] = r.error.empty() ? json::value(nullptr) : json::value(r.error);
  body = json::serialize(o);
}

std::string_view header(const Exchange& ex, std::string_view name) {
  const auto& req = ex.request();
  const auto it = req.find(boost::beast::string_view(name.data(), name.size()));
  if (it == req.end()) return {};
  return std::string_view(it->value().data(), it->value().size());
}

}  // namespace

AdminApi::AdminApi(AdminOptions options)
    : options_(std::move(options)), token_hash_(auth::hash_key(options_.token)) {}

std::span<const std::string_view> AdminApi::paths() { return kPaths; }

bool AdminApi::authorized(const Exchange& ex) const {
  std::string_view given = header(ex, "X-Admin-Token");
  if (given.empty()) {
    const std::string_view authz = header(ex, "Authorization");
    if (http::istarts_with(authz, "Bearer ")) given = authz.substr(7);
  }
  // Digests of equal length, compared in constant time: the answer's time
  // says nothing about how much of the token a guess matched.
  return !given.empty() && !options_.token.empty() && auth::hashes_equal(auth::hash_key(given), token_hash_);
}

EndpointResponse AdminApi::handle(const Exchange&, std::string& body) {
  // Every call comes through handle_async (the store is asynchronous).
  write_envelope(failure(500, "internal", "admin API called synchronously"), body);
  return EndpointResponse{500, "application/json", std::nullopt, {}};
}

env::Task<EndpointResponse> AdminApi::handle_async(const Exchange& ex, std::string& body) {
  const std::string_view path = ex.path();
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(ex.record.wall_start.time_since_epoch()).count();
  Reply r;
  json::object in;
  if (ex.record.method != "POST") {
    r = failure(405, "method_not_allowed", "the admin API takes POST with a JSON object body");
  } else if (!authorized(ex)) {
    r = failure(401, "unauthorized", "missing or wrong admin token (Authorization: Bearer or X-Admin-Token)");
  } else {
    boost::system::error_code ec;
    json::value parsed = json::parse(ex.request().body(), ec);
    if (ec || !parsed.is_object()) r = failure(400, "invalid_json", "the body must be a JSON object");
    else in = std::move(parsed.get_object());
  }
  if (r.error.empty()) {
    KeyStore& store = *options_.store;
    if (path == kPaths[0]) r = co_await create(store, in, now, options_.secure_random);
    else if (path == kPaths[1]) r = co_await get(store, in);
    else if (path == kPaths[2]) r = co_await update(store, in, now);
    else if (path == kPaths[3]) r = co_await remove(store, in);
    else if (path == kPaths[4]) r = co_await list(store, in);
    else r = co_await sync(store, in, now);
  }
  // The key as a prefix only; a sync names its count instead.
  std::string prefix;
  if (const auto* k = in.if_contains("key"); k && k->is_string())
    prefix = auth::key_prefix(std::string_view(k->get_string().data(), k->get_string().size()));
  log::info("admin call", {{"path", std::string(path)},
                           {"status", std::to_string(r.status)},
                           {"error", r.error},
                           {"key_prefix", prefix},
                           {"client_ip", std::string(ex.client_ip)}});
  write_envelope(r, body);
  co_return EndpointResponse{r.status, "application/json", std::nullopt, {}};
}

}  // namespace llmproxy::modules::admin
