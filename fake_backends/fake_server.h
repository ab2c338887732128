// A fake OpenAI-compatible inference server, written only against the
// environment seam (proxy/env/env.h) so the same code serves real loopback
// sockets (fake-openai, end-to-end tests, benchmarks) and the deterministic
// simulator's virtual network.
//
// One coroutine per connection; HTTP/1.1 keep-alive and pipelining; requests
// parsed with Beast's request_parser fed from Stream::read_some; responses
// formatted by hand. While it waits (TTFT, inter-token gaps, stalls, the
// concurrency queue, hangs) a connection keeps reading, so a client that
// closes is noticed at once and generation stops (FakeStats::client_cancels).
#pragma once

#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "fake_backends/fake_config.h"
#include "fake_backends/fake_stats.h"
#include "fake_backends/openai_request.h"
#include "proxy/env/env.h"

namespace llmproxy::fake {

class FakeServer {
 public:
  FakeServer(env::Env& env, FakeConfig config);
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;
  ~FakeServer();

  // Accepts and serves connections until stop() (or until the acceptor is
  // closed), then waits for every connection coroutine to end. The fault
  // timeline's clock starts here. Never throws. Destroy the server only
  // after run() has returned (connection coroutines refer to it).
  env::Task<void> run(env::Acceptor& acceptor);

  // Closes the acceptor and every connection (pending waits end at once).
  // Call it on the server's executor. Idempotent.
  void stop();

  const FakeStats& stats() const { return stats_; }
  const FakeConfig& config() const { return config_; }
  // Replaces the fault timeline (windows stay relative to run()'s start).
  void set_faults(std::vector<FaultWindow> faults) { config_.faults = std::move(faults); }

 private:
  struct Connection;
  enum class Outcome { keep_alive, close, gone };
  enum class Wake { elapsed, granted, peer_gone, stopped };
  enum class ReadStatus { ok, closed, bad_request, body_too_large, header_too_large };

  env::Task<void> serve_connection(std::unique_ptr<env::Stream> stream);
  env::Task<void> connection_loop(Connection& c);
  env::Task<ReadStatus> read_request(Connection& c);
  env::Task<Outcome> handle_request(Connection& c, const HttpRequest& req, bool keep_alive);
  env::Task<Outcome> serve_health(Connection& c, const FaultSpec& f, bool keep_alive);
  env::Task<Outcome> serve_inference(Connection& c, Endpoint ep, const HttpRequest& req,
                                     const FaultSpec& f, bool keep_alive);
  env::Task<Outcome> answer_inference(Connection& c, Endpoint ep, const HttpRequest& req,
                                      const FaultSpec& f, bool keep_alive);
  env::Task<Outcome> stream_answer(Connection& c, Endpoint ep, const InferenceRequest& ir,
                                   const FaultSpec& f, bool keep_alive);
  env::Task<Outcome> whole_answer(Connection& c, Endpoint ep, const InferenceRequest& ir,
                                  const FaultSpec& f, bool keep_alive);
  env::Task<Outcome> send_response(Connection& c, int status, std::string_view content_type,
                                    std::string_view body, bool keep_alive,
                                    std::string_view extra_headers = {});
  env::Task<Outcome> send_error(Connection& c, const ApiError& e, bool keep_alive,
                                std::string_view extra_headers = {});

  // Waits until `until` while reading from the peer (buffering any pipelined
  // bytes), so a close, a queue grant or stop() ends the wait early.
  env::Task<Wake> park(Connection& c, TimePoint until);
  // Writes the views in order; false (and the connection is gone) on error.
  env::Task<bool> write(Connection& c, std::string_view a, std::string_view b = {},
                        std::string_view d = {});
  // FIFO concurrency slots (Profile::max_concurrency).
  env::Task<bool> acquire_slot(Connection& c);
  void release_slot();
  void take_slot();

  Outcome lost(Wake w);
  void reset(Connection& c);
  // Active timeline windows plus the request's x-fake-fault header.
  bool resolve_faults(const HttpRequest& req, FaultSpec& out, std::string& error);
  bool fires(double probability);
  bool serves_model(std::string_view model) const;
  std::string next_id(std::string_view prefix);
  std::int64_t created_now() const;
  void log(std::string_view message) const;

  env::Env& env_;
  FakeConfig config_;
  FakeStats stats_;
  TimePoint start_;
  bool stopping_ = false;
  env::Acceptor* acceptor_ = nullptr;
  std::list<Connection*> connections_;
  std::list<Connection*> waiters_;  // FIFO queue for a generation slot
  std::unique_ptr<env::Timer> drain_timer_;
  std::uint64_t next_seq_ = 0;
  std::string common_headers_;  // "x-fake-backend: name\r\n"
};

}  // namespace llmproxy::fake
