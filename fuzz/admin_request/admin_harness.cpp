#include "fuzz/admin_request/admin_harness.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "proxy/core/log/log.h"
#include "proxy/core/random.h"

namespace llmproxy::fuzz {
namespace {

namespace asio = boost::asio;
using stores::keys::Found;
using stores::keys::Outcome;
using stores::keys::Page;
using stores::keys::Status;

Status down() { return Status{Outcome::unavailable, "fuzz: the store is down"}; }

// The log is process-wide: every line of the current call lands here, so the
// target can check what a call logged (a key in full, the token).
std::vector<std::string>& log_lines() {
  static std::vector<std::string> lines;
  return lines;
}

void capture_log() {
  static const bool once = [] {
    log::LoggerOptions o;
    o.level = log::Level::info;
    o.writer = [](std::string_view line) { log_lines().emplace_back(line); };
    log::configure(std::move(o));
    return true;
  }();
  (void)once;
}

}  // namespace

env::Task<Found> CountingStore::find(std::string hash) {
  ++calls;
  if (fail) {
    Found f;
    f.status = down();
    co_return f;
  }
  co_return co_await inner_.find(std::move(hash));
}

env::Task<Status> CountingStore::create(stores::keys::StoredKey key) {
  ++calls;
  if (fail) co_return down();
  co_return co_await inner_.create(std::move(key));
}

env::Task<Status> CountingStore::update(stores::keys::StoredKey key) {
  ++calls;
  if (fail) co_return down();
  co_return co_await inner_.update(std::move(key));
}

env::Task<Status> CountingStore::remove(std::string hash) {
  ++calls;
  if (fail) co_return down();
  co_return co_await inner_.remove(std::move(hash));
}

env::Task<Page> CountingStore::list(std::int64_t offset, std::int64_t limit) {
  ++calls;
  if (fail) {
    Page p;
    p.status = down();
    co_return p;
  }
  co_return co_await inner_.list(offset, limit);
}

env::Task<Status> CountingStore::sync(std::vector<stores::keys::StoredKey> keys, stores::keys::SyncMode mode) {
  ++calls;
  if (fail) co_return down();
  co_return co_await inner_.sync(std::move(keys), mode);
}

env::Task<Status> CountingStore::add_usage(std::string hash, std::int64_t tokens,
                                           std::optional<std::int64_t> period_start) {
  ++calls;
  if (fail) co_return down();
  co_return co_await inner_.add_usage(std::move(hash), tokens, period_start);
}

AdminHarness::AdminHarness() {
  capture_log();
  modules::admin::AdminOptions o;
  o.token = kToken;
  o.store = store_;
  // Deterministic bytes: a run is a pure function of its input.
  o.secure_random = [this](std::span<std::uint8_t> out) {
    if (random_fails) return false;
    for (auto& b : out) b = next_random_++;
    return true;
  };
  api_ = std::make_unique<modules::admin::AdminApi>(std::move(o));
}

Answer AdminHarness::call(std::string_view path, std::string body, const Credentials& who, bool post) {
  namespace http = boost::beast::http;
  shell::ClientRequest req{post ? http::verb::post : http::verb::get, std::string(path), 11};
  const char* authz = "Authorization";
  const char* x_token = "X-Admin-Token";
  if (!who.token.empty()) {
    if (who.x_admin_token) req.set(x_token, who.token);
    else req.set(authz, (who.lower_scheme ? "bearer " : "Bearer ") + who.token);
  }
  if (who.empty_other) req.set(who.x_admin_token ? authz : x_token, "");
  req.body() = std::move(body);
  shell::Exchange ex;
  Rng rng(1);
  ex.begin(req, TimePoint{}, WallTime(std::chrono::seconds(1767225600)), rng);  // 2026-01-01T00:00:00Z
  ex.client_ip = "203.0.113.9";

  log_lines().clear();
  Answer a;
  shell::EndpointResponse r;
  std::exception_ptr thrown;
  bool done = false;
  asio::io_context io;
  asio::co_spawn(io, api_->handle_async(ex, a.body),
                 [&](std::exception_ptr e, shell::EndpointResponse got) {
                   thrown = e;
                   r = std::move(got);
                   done = true;
                 });
  io.run();
  if (thrown || !done) {
    std::fprintf(stderr, "admin_request invariant violated: the handler %s\n",
                 thrown ? "threw" : "did not finish");
    std::abort();
  }
  a.status = r.status;
  a.log = std::move(log_lines());
  log_lines().clear();
  return a;
}

Answer AdminHarness::admin(std::string_view path, std::string body) {
  Credentials who;
  who.token = kToken;
  return call(path, std::move(body), who);
}

}  // namespace llmproxy::fuzz
