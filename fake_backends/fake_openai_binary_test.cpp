// End-to-end test of the fake-openai binary: starts it on 127.0.0.1:0,
// reads the "listening on" line for the port, sends a streaming request with
// a fault header, then SIGTERM must end it cleanly (exit status 0).
// Usage: fake_openai_binary_test <path to fake-openai>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fake_backends/test_client.h"
#include "proxy/env/real/real_env.h"

extern char** environ;

namespace {

std::string g_binary;

using namespace std::chrono_literals;
using llmproxy::fake::testing::ClientResponse;

TEST(FakeOpenAiBinary, ListensServesAndStopsOnSigterm) {
  ASSERT_FALSE(g_binary.empty()) << "pass the fake-openai path as the first argument";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string a0 = g_binary, a1 = "--listen", a2 = "127.0.0.1:0", a3 = "--tokens", a4 = "3",
              a5 = "--ttft", a6 = "1ms", a7 = "--itl", a8 = "1ms", a9 = "--seed", a10 = "5";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data(),
                  a6.data(), a7.data(), a8.data(), a9.data(), a10.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, g_binary.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);

  FILE* child_out = fdopen(out[0], "r");
  char line[256] = {};
  ASSERT_NE(fgets(line, sizeof line, child_out), nullptr);
  const std::string text(line);
  const std::string prefix = "fake-openai listening on 127.0.0.1:";
  ASSERT_EQ(text.rfind(prefix, 0), 0u) << text;
  const auto port = static_cast<std::uint16_t>(std::stoi(text.substr(prefix.size())));
  ASSERT_NE(port, 0);

  boost::asio::io_context ioc(1);
  llmproxy::env::RealEnv env(ioc, 1);
  ClientResponse response;
  bool done = false;
  const std::string request = llmproxy::fake::testing::make_request(
      "POST", "/v1/chat/completions",
      R"({"model":"fake-model","messages":[{"role":"user","content":"hi"}],"stream":true})",
      "x-fake-fault: no_done\r\n");
  boost::asio::co_spawn(
      ioc,
      [](llmproxy::env::Env& e, std::uint16_t p, std::string req, ClientResponse& r,
         bool& finished) -> llmproxy::env::Task<void> {
        r = co_await llmproxy::fake::testing::roundtrip(e, p, std::move(req), e.now() + 10s);
        finished = true;
      }(env, port, request, response, done),
      [](std::exception_ptr) {});
  ioc.run_for(15s);
  EXPECT_TRUE(done);
  EXPECT_TRUE(response.complete) << response.ec.message();
  EXPECT_EQ(response.status(), 200);
  const auto events = llmproxy::fake::testing::sse_payloads(response.body());
  EXPECT_EQ(events.size(), 5u);  // role, 3 tokens, finish; no [DONE] (fault header)

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fclose(child_out);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) g_binary = argv[1];
  alarm(60);  // global bound: a hung child or loop cannot stall CI
  return RUN_ALL_TESTS();
}
