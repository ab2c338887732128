// A gateway (shell::Worker) on the simulated host "gateway", port 8080, in
// front of one backend at backend:8000: the set-up shared by the fuzz
// targets and the simulation properties that bring their own upstream
// (http_session, upstream_bytes, isolation, header space). Header-only, so
// the fuzz targets need no extra library.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "proxy/shell/worker.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::testing {

// backend:8000 with generous timeouts (a test or fuzz input ends them, not
// the clock).
inline shell::BackendTarget sim_backend(std::string name = "backend") {
  using namespace std::chrono_literals;
  shell::BackendTarget b;
  b.name = std::move(name);
  b.host = "backend";
  b.port = 8000;
  b.host_header = "backend:8000";
  b.timeout = 20s;
  b.first_byte_timeout = 10s;
  b.stream_idle_timeout = 10s;
  return b;
}

class SimGateway {
 public:
  // `cfg` gets one backend (sim_backend) unless it has some already.
  SimGateway(sim::World& world, shell::ShellConfig cfg = {}) : env_(world, "gateway") {
    if (cfg.backends.empty()) cfg.backends.push_back(sim_backend());
    shell::WorkerOptions options;
    options.rethrow_session_failures = true;  // an escaped exception fails the run
    worker_ = std::make_unique<shell::Worker>(env_, std::make_shared<shell::ShellConfig>(cfg),
                                              std::move(options));
    env::error_code ec;
    acceptor_ = env_.listen("", 8080, false, ec);
    world.spawn(worker_->serve(*acceptor_));
  }
  SimGateway(const SimGateway&) = delete;
  SimGateway& operator=(const SimGateway&) = delete;

  shell::Worker& worker() { return *worker_; }
  sim::SimEnv& env() { return env_; }
  // Stops accepting and ends every connection (run the world a little after).
  void stop() {
    acceptor_->close();
    worker_->close_all_sessions();
  }

 private:
  sim::SimEnv env_;
  std::unique_ptr<shell::Worker> worker_;
  std::unique_ptr<env::Acceptor> acceptor_;
};

}  // namespace llmproxy::testing
