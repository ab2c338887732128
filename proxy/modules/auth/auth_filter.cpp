#include "proxy/modules/auth/auth_filter.h"

#include <array>
#include <cassert>
#include <span>

#include "proxy/core/auth/forwarded_for.h"
#include "proxy/core/log/log.h"

namespace llmproxy::modules::auth {
namespace {

using openai::ErrorId;
using llmproxy::auth::KeyRecord;

// RFC 9110 §11.6.1: a 401 names the scheme that would work.
constexpr std::string_view kChallenge = "WWW-Authenticate: Bearer\r\n";
constexpr std::string_view kMissing =
    "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
    "(Authorization: Bearer YOUR_KEY).";
constexpr std::string_view kUnknown = "Incorrect API key provided.";
constexpr Duration kWarnEvery = std::chrono::seconds(10);

shell::FilterVerdict refuse(ErrorId id, std::string_view message = {}) {
  return shell::FilterVerdict::reject(id, std::string(message),
                                      id == ErrorId::invalid_api_key ? std::string(kChallenge) : std::string());
}

shell::FilterVerdict verdict_of(const llmproxy::auth::AuthResult& r, shell::Exchange& ex) {
  if (!r.decision.allowed())
    return refuse(*r.decision.error, *r.decision.error == ErrorId::invalid_api_key ? kUnknown : "");
  ex.caller.id = r.caller->id;
  ex.caller.name = r.caller->name;
  ex.caller.user_id = r.caller->user_id;
  ex.caller.key_prefix = r.caller->prefix;
  // For the observers (access log): copied, as the record outlives the
  // caller's table (a reload) and the record's strings keep their capacity.
  ex.record.key_name.assign(r.caller->name);
  ex.record.user_id.assign(r.caller->user_id);
  ex.record.key_prefix.assign(r.caller->prefix);
  return shell::FilterVerdict::proceed();
}

std::optional<std::string_view> presented_key(const llmproxy::auth::Authenticator& auth,
                                              const shell::Exchange& ex) {
  const auto& req = ex.request();
  return llmproxy::auth::extract_key(auth.key_headers(), [&](std::string_view name) {
    const auto v = req[name];
    return std::string_view(v.data(), v.size());
  });
}

// The client auth judges IP rules by: the peer, or behind trusted proxies
// what X-Forwarded-For says (forwarded_for.h). At most kMaxForwardedLines
// header lines are read; a request with more is judged as from an unknown
// client.
constexpr std::size_t kMaxForwardedLines = 8;

std::optional<util::IpAddress> client_of(const llmproxy::auth::Authenticator& auth, const shell::Exchange& ex) {
  if (auth.trusted_proxies().empty()) return util::parse_ip(ex.client_ip).value;
  std::array<std::string_view, kMaxForwardedLines> lines;
  std::size_t n = 0;
  const auto range = ex.request().equal_range("X-Forwarded-For");
  for (auto it = range.first; it != range.second; ++it) {
    if (n == lines.size()) return std::nullopt;
    lines[n++] = std::string_view(it->value().data(), it->value().size());
  }
  return llmproxy::auth::client_address(ex.client_ip, std::span(lines.data(), n), auth.trusted_proxies());
}

}  // namespace

AuthFilter::AuthFilter(std::shared_ptr<const llmproxy::auth::Authenticator> authenticator, StoreProviders stores)
    : auth_(std::move(authenticator)), env_(stores.env), exact_quota_(stores.quota_check == config::QuotaCheck::exact) {
  if (!auth_->uses_stores()) return;
  assert(env_ && stores.sources.size() == auth_->providers() && "store providers need their sources");
  stores_.reserve(auth_->providers());
  for (std::size_t i = 0; i < auth_->providers(); ++i) {
    auto& source = stores.sources[i];
    const bool store = auth_->source(i) == llmproxy::auth::ProviderSource::store;
    assert(store == (source != nullptr) && "a source for each store provider, none for tables");
    auto ledger = store && source->keeps_usage() ? std::make_shared<UsageLedger>(*env_, source) : nullptr;
    stores_.push_back(Store{std::move(source), llmproxy::auth::KeyCache(stores.cache_ttl), std::move(ledger)});
  }
}

// What comes before any provider is asked, the same for both paths: the
// request is marked checked; a skipped path proceeds and a request without
// a key is refused (the verdict); else the key is set.
std::optional<shell::FilterVerdict> AuthFilter::before_providers(shell::Exchange& ex, std::string_view& key) const {
  ex.caller.checked = true;
  if (auth_->skip_paths().matches(ex.path())) return shell::FilterVerdict::proceed();
  const auto presented = presented_key(*auth_, ex);
  if (!presented) return refuse(ErrorId::invalid_api_key, kMissing);
  key = *presented;
  return std::nullopt;
}

shell::FilterVerdict AuthFilter::judge(shell::Exchange& ex) const {
  std::string_view key;
  if (auto decided = before_providers(ex, key)) return std::move(*decided);
  return verdict_of(auth_->check(key, client_of(*auth_, ex), ex.record.wall_start), ex);
}

env::Task<shell::FilterVerdict> AuthFilter::on_request(shell::Exchange& ex) {
  if (!auth_->uses_stores()) co_return judge(ex);
  co_return co_await judge_with_stores(ex);
}

// The providers in order, each answering from its table or its store, folded
// into one Judgement. The caller is the first provider that knows the key
// (both modes), so only that record needs holding.
env::Task<shell::FilterVerdict> AuthFilter::judge_with_stores(shell::Exchange& ex) {
  std::string_view key;
  if (auto decided = before_providers(ex, key)) co_return std::move(*decided);
  const llmproxy::auth::KeyHash hash = llmproxy::auth::hash_key(key);
  const auto client = client_of(*auth_, ex);
  const WallTime now = ex.record.wall_start;
  llmproxy::auth::Judgement judgement(auth_->mode());
  std::shared_ptr<const KeyRecord> held;
  bool known = false;
  for (std::size_t i = 0; i < auth_->providers(); ++i) {
    const KeyRecord* record = nullptr;
    std::int64_t pending = 0;
    if (auth_->source(i) == llmproxy::auth::ProviderSource::table) {
      record = auth_->find(i, hash);
    } else {
      const LookupRequest req{key, hash, i, client, ex};
      auto answer = co_await ask(i, req);
      if (!answer) co_return refuse(ErrorId::auth_unavailable);
      record = answer->record.get();
      if (record && stores_[i].ledger) pending = stores_[i].ledger->pending(hash, answer->mark);
      if (record && !known) held = std::move(answer->record);
    }
    known = known || record;
    if (judgement.fold(record, client, now, pending)) break;
  }
  const auto result = judgement.result();
  if (result.decision.allowed() && held.get() == result.caller) ex.caller.held = held;
  co_return verdict_of(result, ex);
}

env::Task<std::optional<AuthFilter::StoreAnswer>> AuthFilter::ask(std::size_t i, const LookupRequest& req) {
  Store& store = stores_[i];
  const auto hit = store.cache.find(req.hash, env_->now());
  // A cached key with a quota is read again under quota_check exact (and
  // only when its usage is kept: else nothing would change it).
  const bool reread = hit.found && *hit.record && exact_quota_ && store.ledger && (*hit.record)->quota.limited();
  if (hit.found && !reread) co_return StoreAnswer{*hit.record, hit.mark};
  // Copied: the entry may move while the lookup runs.
  StoreAnswer cached = reread ? StoreAnswer{*hit.record, hit.mark} : StoreAnswer{};
  // Taken before the lookup: a write finishing meanwhile is counted as
  // pending (usage_ledger.h).
  const std::int64_t mark = store.ledger ? store.ledger->mark(req.hash) : 0;
  SourceAnswer answer = co_await store.source->lookup(req);
  if (answer.kind == SourceAnswer::Kind::failed) {
    warn_store(auth_->name(i), answer.error);
    if (reread) co_return cached;  // within cache_ttl the cached record still decides
    co_return std::nullopt;
  }
  assert((answer.kind == SourceAnswer::Kind::known) == (answer.record != nullptr));
  assert((!answer.record || answer.record->provider == i) && "a source names the provider it was asked as");
  store.cache.put(req.hash, answer.record, env_->now(), mark);
  co_return StoreAnswer{std::move(answer.record), mark};
}

void AuthFilter::warn_store(std::string_view provider, std::string_view error) {
  const TimePoint now = env_->now();
  if (now < quiet_until_) return;
  quiet_until_ = now + kWarnEvery;
  log::warn("auth: a key store provider failed; until it is back, keys it would answer get 503 auth_unavailable "
            "unless cached (then their cached record decides, quotas included)",
            {{"provider", std::string(provider)}, {"error", std::string(error)}});
}

env::Task<void> AuthFilter::on_end(shell::Exchange& ex) {
  if (!ex.caller.held || ex.record.total_tokens <= 0) co_return;
  const auto& record = *std::static_pointer_cast<const KeyRecord>(ex.caller.held);
  const Store& store = stores_[record.provider];
  if (store.ledger && store.source->counts(record)) store.ledger->charge(record, ex.record.total_tokens);
}

void AuthFilter::close() {
  for (auto& store : stores_) {
    if (!store.source) continue;
    if (!store.ledger) {
      store.source->close();
      continue;
    }
    store.ledger->close_when_idle([source = store.source] { source->close(); });
  }
}

}  // namespace llmproxy::modules::auth
