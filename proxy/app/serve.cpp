// `llmproxy serve --config FILE`: loads and checks the config, starts one
// event loop per worker thread (each with its own RealEnv, Worker and
// SO_REUSEPORT listener, so the request path shares nothing between threads),
// and handles signals: SIGTERM/SIGINT drain (stop accepting, /ready → 503,
// in-flight requests finish within server.drain_timeout), SIGHUP reloads
// the config file (docs/reload.md). With admin.listen, worker 0 also serves
// the admin listener (admin traffic is small; its requests run on that
// worker's loop next to the main listener's).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <openssl/rand.h>

#include <atomic>
#include <limits>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/app/commands.h"
#include "proxy/core/config/load.h"
#include "proxy/core/config/print.h"
#include "proxy/core/log/log.h"
#include "proxy/core/util/env_expand.h"
#include "proxy/env/real/real_env.h"
#include "proxy/server/drain.h"
#include "proxy/server/gateway.h"
#include "proxy/server/shell_config_from.h"
#include "proxy/shell/log_file_writer.h"
#include "proxy/shell/worker.h"
#include "proxy/stores/keys/sql_key_store.h"

namespace llmproxy::app {
namespace {

namespace asio = boost::asio;

struct WorkerThread {
  // One thread runs each worker's loop, and every socket and timer of it is
  // used only from that thread (other threads only post()), so the reactor's
  // per-descriptor locks are dropped; the scheduler's queue stays locked for
  // those posts. (A lock/unlock pair per socket operation was ~2 % of the
  // worker's CPU under load.)
  asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::unique_ptr<env::RealEnv> env;
  std::unique_ptr<shell::Worker> worker;
  std::unique_ptr<env::Acceptor> acceptor;
  std::unique_ptr<env::Acceptor> admin_acceptor;  // admin.listen, worker 0 only
  std::atomic<std::size_t> sessions{0};
  std::thread thread;
};

// The drain's clock (server::Drain decides on the environment's TimePoint).
TimePoint steady_now() {
  return TimePoint(std::chrono::duration_cast<Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

WallTime system_now() {
  return WallTime(
      std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()));
}

// Keeps log.output: file's writer alive while the logger may use it: on
// the way out the logger goes back to stderr first, then the writer
// writes what is queued and stops.
struct SystemLogFile {
  std::unique_ptr<shell::LogFileWriter> writer;
  ~SystemLogFile() {
    if (writer) log::configure(log::LoggerOptions{});
  }
};

// The system log (top-level `log`): level, text or json, stdout, stderr or
// a rotated file written by a background thread.
void configure_log(const config::LogConfig& c, SystemLogFile& file) {
  log::LoggerOptions o;
  switch (c.level) {
    case config::LogLevel::debug: o.level = log::Level::debug; break;
    case config::LogLevel::info: o.level = log::Level::info; break;
    case config::LogLevel::warn: o.level = log::Level::warn; break;
    case config::LogLevel::error: o.level = log::Level::error; break;
  }
  o.format = c.format == config::LogFormat::json ? log::Format::json : log::Format::text;
  o.sink = c.output == config::LogOutput::to_stderr ? stderr : stdout;
  o.clock = system_now;
  if (c.output == config::LogOutput::to_file) {
    file.writer = std::make_unique<shell::LogFileWriter>(shell::system_log_writer_options(c, system_now));
    o.writer = [w = file.writer.get()](std::string_view line) { w->submit(line); };
  }
  log::configure(std::move(o));
}

// SIGHUP: the config file again, checked as at start-up. Null when it has
// problems (each logged as file:line:col; the running config stays);
// otherwise `changed` holds the changed keys (logged).
std::shared_ptr<const server::Gateway> reload_gateway(const std::string& path,
                                                      const server::Gateway& current,
                                                      const server::BuildOptions& options,
                                                      std::vector<std::string>& changed) {
  const auto loaded = config::load_config_file(path, util::process_env());
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics)
      log::error("reload: config problem", {{"at", config::format_diagnostic(d)}});
    log::error("reload rejected; the running config stays", {{"config", path}});
    return nullptr;
  }
  std::string error;
  auto next = server::Gateway::build(*loaded.config, error, options);
  if (!next) {
    log::error("reload rejected; the running config stays", {{"config", path}, {"error", error}});
    return nullptr;
  }
  changed = config::changed_keys(current.config(), next->config());
  std::string keys;
  for (const auto& k : changed) keys += (keys.empty() ? "" : ", ") + k;
  log::info("reloading", {{"config", path}, {"changed", keys.empty() ? "nothing" : keys}});
  for (const auto& k : server::Gateway::restart_only_changes(changed))
    log::warn("reload: this setting changed but takes effect only at the next restart",
              {{"key", k}});
  return next;
}

void print_usage() {
  std::fputs(
      "usage: llmproxy serve --config FILE\n"
      "Starts the gateway. The config is checked first (as check-config does);\n"
      "any problem is printed and the gateway does not start.\n",
      stderr);
}

}  // namespace

int run_serve(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--config" || a == "-c") && i + 1 < argc) {
      path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      path = a.substr(9);
    } else if (a == "--help" || a == "-h") {
      print_usage();
      return 0;
    } else {
      std::fprintf(stderr, "serve: unknown argument '%s'\n", a.c_str());
      print_usage();
      return 2;
    }
  }
  if (path.empty()) {
    print_usage();
    return 2;
  }

  const auto loaded = config::load_config_file(path, util::process_env());
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics)
      std::fprintf(stderr, "%s\n", config::format_diagnostic(d).c_str());
    std::fprintf(stderr, "serve: %s has problems; not starting\n", path.c_str());
    return 1;
  }
  const auto& cfg = *loaded.config;
  SystemLogFile system_log_file;
  configure_log(cfg.log, system_log_file);
  std::string build_error;
  server::BuildOptions build_options;
  build_options.wall_clock = system_now;
  build_options.open_key_store = [stores = std::make_shared<stores::keys::KeyStores>()](
                                     const config::DatabaseConfig& db, stores::keys::KeyRows rows,
                                     std::string& error) {
    return stores->open(db, rows, error);
  };
  build_options.secure_random = [](std::span<std::uint8_t> out) {
    return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
  };
  const unsigned workers = cfg.server.workers > 0 ? static_cast<unsigned>(cfg.server.workers)
                                                  : std::max(1u, std::thread::hardware_concurrency());
  build_options.workers = workers;
  std::shared_ptr<const server::Gateway> gateway =
      server::Gateway::build(cfg, build_error, build_options);
  if (!gateway) {
    std::fprintf(stderr, "serve: %s\n", build_error.c_str());
    return 1;
  }
  const auto shell_cfg = gateway->shell_config();

  const std::uint64_t seed = env::RealEnv::entropy_seed();
  log::info("starting", {{"config", path},
                         {"workers", std::to_string(workers)},
                         {"backends", std::to_string(shell_cfg->backends.size())},
                         {"seed", std::to_string(seed)}});

  std::vector<std::unique_ptr<WorkerThread>> threads;
  std::uint16_t port = shell_cfg->listen_port;
  auto process = gateway->start_process();
  for (unsigned i = 0; i < workers; ++i) {
    auto t = std::make_unique<WorkerThread>();
    t->env = std::make_unique<env::RealEnv>(t->ioc, seed + i);
    t->worker = std::make_unique<shell::Worker>(*t->env, shell_cfg,
                                                gateway->worker_options(process, *t->env, i));
    env::error_code ec;
    t->acceptor = t->env->listen(shell_cfg->listen_host, port, workers > 1, ec);
    if (ec) {
      log::error("cannot listen", {{"address", cfg.server.listen}, {"error", ec.message()}});
      std::fprintf(stderr, "serve: cannot listen on %s: %s\n", cfg.server.listen.c_str(),
                   ec.message().c_str());
      return 1;
    }
    port = t->acceptor->port();  // port 0: every worker shares the first one's
    threads.push_back(std::move(t));
  }
  log::info("listening", {{"address", shell_cfg->listen_host + ":" + std::to_string(port)}});
  std::printf("llmproxy listening on %s:%u\n",
              shell_cfg->listen_host.empty() ? "0.0.0.0" : shell_cfg->listen_host.c_str(),
              static_cast<unsigned>(port));
  if (process->admin_listener) {
    std::string host;
    std::uint16_t admin_port = 0;
    server::split_listen(cfg.admin.listen, host, admin_port);  // checked by check-config
    env::error_code ec;
    WorkerThread& w = *threads.front();
    w.admin_acceptor = w.env->listen(host, admin_port, false, ec);
    if (ec) {
      log::error("cannot listen", {{"address", cfg.admin.listen}, {"error", ec.message()}});
      std::fprintf(stderr, "serve: cannot listen on %s (admin.listen): %s\n",
                   cfg.admin.listen.c_str(), ec.message().c_str());
      return 1;
    }
    log::info("admin API listening", {{"address", host + ":" + std::to_string(admin_port)}});
    std::printf("llmproxy admin API listening on %s:%u\n", host.empty() ? "0.0.0.0" : host.c_str(),
                static_cast<unsigned>(admin_port));
  }
  std::fflush(stdout);

  const auto spawn_serve = [](WorkerThread* w, env::Acceptor& acceptor, shell::Listener listener) {
    asio::co_spawn(w->ioc, w->worker->serve(acceptor, listener), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  };
  for (auto& t : threads) {
    WorkerThread* w = t.get();
    spawn_serve(w, *w->acceptor, shell::Listener::main);
    if (w->admin_acceptor) spawn_serve(w, *w->admin_acceptor, shell::Listener::admin);
    w->worker->start_background();
    w->thread = std::thread([w] {
      try {
        w->ioc.run();
      } catch (const std::exception& e) {
        log::error("worker stopped by an exception", {{"error", e.what()}});
        std::abort();
      }
    });
  }

  // The main thread only waits for signals and then drives the drain.
  asio::io_context main_ioc(1);
  asio::signal_set signals(main_ioc, SIGINT, SIGTERM, SIGHUP);
  asio::steady_timer poll(main_ioc);
  std::optional<server::Drain> drain;  // server/drain.h: the steps the simulator checks
  bool draining = false;

  std::function<void()> check_drained = [&] {
    std::size_t open = 0;
    bool unknown = false;
    for (auto& t : threads) {
      const std::size_t n = t->sessions.load();
      if (n == std::numeric_limits<std::size_t>::max()) {
        unknown = true;
      } else {
        open += n;
      }
    }
    if (drain->next(unknown ? std::nullopt : std::optional(open), steady_now()) ==
        server::Drain::Next::close_all) {
      if (open > 0) log::warn("drain deadline passed; closing open connections",
                              {{"open", std::to_string(open)}});
      for (auto& t : threads) {
        WorkerThread* w = t.get();
        asio::post(w->ioc, [w] { server::end_drain(*w->worker); });
      }
      return;
    }
    for (auto& t : threads) {
      WorkerThread* w = t.get();
      asio::post(w->ioc, [w] { w->sessions.store(w->worker->sessions()); });
    }
    poll.expires_after(server::kDrainPollInterval);
    poll.async_wait([&](env::error_code ec) {
      if (!ec) check_drained();
    });
  };

  std::function<void(const env::error_code&, int)> on_signal = [&](const env::error_code& ec,
                                                                  int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      if (draining) {
        log::warn("SIGHUP ignored: draining");
      } else if (std::vector<std::string> changed;
                 auto next = reload_gateway(path, *gateway, build_options, changed)) {
        process = next->reload_process(*gateway, *process, changed);
        gateway = std::move(next);
        for (unsigned i = 0; i < threads.size(); ++i) {
          WorkerThread* w = threads[i].get();
          // Built on the worker's own thread: its store clients use its loop.
          asio::post(w->ioc, [w, i, g = gateway, p = process] {
            w->worker->reload(g->shell_config(), g->worker_options(p, *w->env, i));
          });
        }
        log::info("reloaded", {{"config", path}});
      }
      signals.async_wait(on_signal);
      return;
    }
    if (draining) {
      log::warn("second signal: stopping now");
      for (auto& t : threads) asio::post(t->ioc, [w = t.get()] { server::end_drain(*w->worker); });
      return;
    }
    draining = true;
    log::info("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                           {"deadline_s", std::to_string(to_seconds(gateway->shell_config()->drain_timeout))}});
    drain.emplace(steady_now(), gateway->shell_config()->drain_timeout);
    for (auto& t : threads) {
      WorkerThread* w = t.get();
      // Unknown until the worker answers: never read as "nothing open".
      w->sessions.store(std::numeric_limits<std::size_t>::max());
      asio::post(w->ioc, [w] {
        server::begin_drain(*w->worker, *w->acceptor, w->admin_acceptor.get());
        w->sessions.store(w->worker->sessions());
      });
    }
    signals.async_wait(on_signal);
    check_drained();
  };
  signals.async_wait(on_signal);

  // Runs until a signal and the drain completed (the poll timer and signal
  // wait are the only work here). Worker threads end when their loops run
  // out of work: acceptor closed and every session finished.
  std::thread waiter([&] {
    for (auto& t : threads) t->thread.join();
    asio::post(main_ioc, [&] { main_ioc.stop(); });
  });
  main_ioc.run();
  waiter.join();
  log::info("stopped");
  return 0;
}

}  // namespace llmproxy::app
