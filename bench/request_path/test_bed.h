// A simulated world for measuring the request path: one fake backend, an
// optional middle hop (the real gateway Worker, built from a config through
// the composition root as `serve` builds it, or a dumb byte relay), and a
// set of clients that each hold one keep-alive connection, as wrk does.
// Batches of requests run to completion on virtual time; the caller measures
// the real time a batch takes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fake_backends/fake_config.h"
#include "fake_backends/fake_server.h"
#include "proxy/shell/worker.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::bench {

enum class Path {
  direct,   // client -> backend
  relay,    // client -> byte relay -> backend (the cost of one more hop)
  gateway,  // client -> shell::Worker (server::Gateway's) -> backend
};
const char* to_string(Path path);

struct BatchResult {
  std::size_t ok = 0;      // 200 and complete
  std::size_t failed = 0;  // anything else
  std::size_t body_bytes = 0;
};

class TestBed {
 public:
  TestBed(Path path, const fake::Profile& profile, std::size_t clients);
  ~TestBed();
  TestBed(const TestBed&) = delete;
  TestBed& operator=(const TestBed&) = delete;

  // Every client sends `request` `per_client` times in a row on its
  // connection (reading each response before the next request); returns once
  // all are answered. Throws if the batch does not finish within a virtual
  // minute (something is broken, not slow).
  BatchResult run_batch(const std::string& request, std::size_t per_client);

  sim::World& world() { return world_; }
  const fake::FakeServer& backend() const { return *fake_; }
  shell::Worker* worker() { return worker_.get(); }

 private:
  struct Client {
    std::unique_ptr<sim::SimEnv> env;
    std::unique_ptr<env::Stream> stream;
    std::string carry;  // bytes read past the previous response
  };
  void start_gateway();
  void run_until_count(const std::size_t& count, std::size_t target);

  sim::World world_;
  sim::SimEnv backend_env_;
  sim::SimEnv front_env_;  // the gateway's or the relay's host
  std::unique_ptr<fake::FakeServer> fake_;
  std::unique_ptr<env::Acceptor> backend_acceptor_;
  std::unique_ptr<env::Acceptor> front_acceptor_;
  std::unique_ptr<shell::Worker> worker_;
  std::vector<Client> clients_;
  std::string target_host_;
  std::uint16_t target_port_ = 0;
};

// A chat completion request as a client would send it.
std::string chat_request(bool stream);

}  // namespace llmproxy::bench
