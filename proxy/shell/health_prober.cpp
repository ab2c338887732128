#include "proxy/shell/health_prober.h"

#include <boost/asio/co_spawn.hpp>

#include <charconv>
#include <string>

#include "proxy/core/log/log.h"
#include "proxy/shell/upstream_request.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
using env::error_code;

// Reads the status code of an HTTP/1.x status line at the start of `head`;
// 0 while incomplete, -1 if it is not a status line.
int status_of(std::string_view head) {
  if (head.size() < 12) return 0;
  if (head.substr(0, 7) != "HTTP/1." || head[8] != ' ') return -1;
  int status = 0;
  auto r = std::from_chars(head.data() + 9, head.data() + 12, status);
  if (r.ec != std::errc() || r.ptr != head.data() + 12 || status < 100) return -1;
  return status;
}

}  // namespace

// The probes of one round; the round waits until all have reported.
struct HealthProber::Round {
  std::size_t pending = 0;
  std::unique_ptr<env::Timer> joined;
};

HealthProber::HealthProber(env::Env& env, std::shared_ptr<const ShellConfig> config,
                           std::shared_ptr<HealthBoard> board)
    : env_(env),
      config_(std::move(config)),
      board_(std::move(board)),
      tracker_(config_->backends.size(), config_->health.unhealthy_threshold,
               config_->health.healthy_threshold),
      wait_(env_.make_timer()),
      open_(config_->backends.size(), nullptr) {
  // The board may come from before a config reload: go on from its states.
  for (std::size_t i = 0; i < board_->size(); ++i) tracker_.start_as(i, board_->healthy(i));
}

HealthProber::~HealthProber() = default;

void HealthProber::stop() {
  stopped_ = true;
  wait_->cancel();
  for (env::Stream* s : open_)
    if (s) s->close();
}

env::Task<void> HealthProber::run() {
  const auto& h = config_->health;
  while (!stopped_) {
    const TimePoint round_start = env_.now();
    auto round = std::make_shared<Round>();
    round->joined = env_.make_timer();
    round->pending = config_->backends.size();
    for (std::size_t i = 0; i < config_->backends.size(); ++i) {
      asio::co_spawn(env_.executor(), probe(i, round), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    }
    while (round->pending > 0) {
      error_code ec;
      co_await round->joined->sleep_until(kNoDeadline, ec);
    }
    if (stopped_) break;
    error_code ec;
    co_await wait_->sleep_until(round_start + h.interval, ec);
  }
}

env::Task<void> HealthProber::probe(std::size_t i, std::shared_ptr<Round> round) {
  const bool ok = co_await probe_once(i);
  if (!stopped_) {
    const bool changed = tracker_.record(i, ok);
    if (changed) {
      board_->set(i, tracker_.healthy(i));
      const auto& b = config_->backends[i];
      if (tracker_.healthy(i))
        log::info("backend healthy again", {{"backend", b.name}});
      else
        log::warn("backend unhealthy", {{"backend", b.name}});
    }
    if (on_probe) on_probe(i, ok, changed);
  }
  if (--round->pending == 0) round->joined->cancel();
}

env::Task<bool> HealthProber::probe_once(std::size_t i) {
  const auto& h = config_->health;
  const BackendTarget& b = config_->backends[i];
  const TimePoint deadline = env_.now() + h.timeout;
  error_code ec;
  auto s = co_await env_.connect(b.host, b.port, deadline, ec);
  if (ec || !s) co_return false;
  if (stopped_) co_return false;
  open_[i] = s.get();
  std::string req;
  append_request_line(req, h.method, b, h.path);
  req += "User-Agent: llmproxy-health-check\r\nConnection: close\r\n";
  append_backend_headers(req, b);
  req += "\r\n";
  co_await s->write(asio::buffer(req), deadline, ec);
  int status = 0;
  std::string head;
  char buf[512];
  while (!ec && status == 0) {
    const std::size_t n = co_await s->read_some(asio::buffer(buf), deadline, ec);
    head.append(buf, n);
    status = status_of(head);
  }
  open_[i] = nullptr;
  s->close();
  co_return status == h.expected_status;
}

}  // namespace llmproxy::shell
