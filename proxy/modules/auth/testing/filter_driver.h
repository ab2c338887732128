// Unit tests of the auth filter drive it by hand: one io_context run to
// completion per step, a hand-set clock (ManualEnv), and one request at a
// time through on_request and, when let in, on_end with the tokens it
// used. A test fixture derives from FilterDriver and sets filter_.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/env/testing/manual_env.h"
#include "proxy/modules/auth/auth_filter.h"

namespace llmproxy::modules::auth::testing {

class FilterDriver {
 public:
  struct Answer {
    std::optional<openai::ErrorId> error;
    std::string caller;  // the caller's name when allowed
  };

  // One request from 10.1.2.3 with `key` (Bearer) and forwarded_for_ as
  // its X-Forwarded-For lines, ending with `tokens` used.
  Answer request(const std::string& key, std::int64_t tokens = 0) {
    shell::ClientRequest req{boost::beast::http::verb::post, "/v1/chat/completions", 11};
    req.set(boost::beast::http::field::authorization, "Bearer " + key);
    for (const auto& line : forwarded_for_) req.insert("X-Forwarded-For", line);
    shell::Exchange ex;
    Rng rng(1);
    ex.begin(req, env_.now_, env_.wall_, rng);
    ex.client_ip = "10.1.2.3";
    shell::FilterVerdict v;
    run([&]() -> boost::asio::awaitable<void> { v = co_await filter_->on_request(ex); });
    Answer a{v.error, std::string(ex.caller.name)};
    if (v.proceeds()) {
      ex.record.total_tokens = tokens;
      run([&]() -> boost::asio::awaitable<void> { co_await filter_->on_end(ex); });
    }
    return a;
  }

  // Runs `f` (a coroutine) and everything it starts to completion.
  template <class F>
  void run(F f) {
    boost::asio::co_spawn(io_, f, boost::asio::detached);
    io_.run();
    io_.restart();
  }

 protected:
  boost::asio::io_context io_;
  env::testing::ManualEnv env_{io_.get_executor()};
  std::unique_ptr<AuthFilter> filter_;
  std::vector<std::string> forwarded_for_;
};

}  // namespace llmproxy::modules::auth::testing
