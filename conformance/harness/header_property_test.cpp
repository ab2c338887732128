// The whole header and framing space (issue #11): simulated clients send
// hop-by-hop headers, Connection tokens naming other headers, Keep-Alive,
// TE, Upgrade, Proxy-*, Expect: 100-continue, HTTP/1.0, chunked bodies,
// pipelined requests, odd casing, forwarding headers and keys; an echo
// upstream answers with its own hop-by-hop and Connection-named headers.
// Judged from the bytes alone, parsed here with Beast independently of the
// gateway:
//   - the request the upstream receives equals the client's minus exactly
//     the documented changes: hop-by-hop and Connection-listed headers,
//     Host, Content-Length/Transfer-Encoding (the body is re-framed with a
//     Content-Length), Expect, the client's key and its forwarding headers
//     dropped; Host, X-Forwarded-For (the client's list plus its address),
//     X-Forwarded-Proto, X-Request-Id and the backend's headers set; the
//     body byte for byte;
//   - the response the client receives equals the upstream's minus its
//     hop-by-hop and Connection-listed headers and its framing, plus
//     x-request-id; the body byte for byte.
// Choices are drawn uniformly (uniform_gen.h); a failure prints the case.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "proxy/shell/testing/sim_gateway.h"
#include "proxy/shell/worker.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string odd_case(const std::string& name, int style) {
  std::string s = name;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (style == 1) s[i] = static_cast<char>(std::tolower(c));
    if (style == 2) s[i] = static_cast<char>(std::toupper(c));
    if (style == 3 && i % 2 == 0) s[i] = static_cast<char>(std::toupper(c));
  }
  return s;
}

// ---- the case -----------------------------------------------------------------

struct ClientReq {
  bool http10 = false;
  bool post = true;
  bool chunked = false;
  bool expect_continue = false;
  Headers headers;  // as sent, in order (without Host, framing, Expect)
  std::string body;
};

struct Case {
  std::vector<ClientReq> requests;  // sent pipelined on one connection
  Headers upstream_response_headers;  // the echo upstream adds these
  Headers backend_headers;            // backends[].headers
};

const std::vector<std::string> kHopByHop = {"Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                            "Trailer", "Upgrade", "Proxy-Authorization",
                                            "Proxy-Authenticate"};

rc::Gen<Headers> gen_headers(bool request) {
  return rc::gen::exec([request] {
    Headers h;
    const int n = *uniform(0, 7);
    std::vector<std::string> listed;
    for (int i = 0; i < n; ++i) {
      const int style = *uniform(0, 4);
      switch (*uniform(0, 9)) {
        case 0:
        case 1:
          h.emplace_back(odd_case("X-Custom-" + std::to_string(i), style),
                         "v" + std::to_string(*uniform(0, 1000)) + " with  spaces");
          break;
        case 2: {  // a Connection header naming others, which then appear
          const std::string a = "X-Conn-A" + std::to_string(i), b = "X-Conn-B" + std::to_string(i);
          h.emplace_back(odd_case("Connection", style), *coin() ? a + ", " + odd_case(b, 2) : a);
          h.emplace_back(a, "drop-me");
          h.emplace_back(odd_case(b, style), "drop-me-too");
          break;
        }
        case 3: {
          const auto& name = kHopByHop[*uniform<std::size_t>(0, kHopByHop.size())];
          std::string value = "x";
          if (lower(name) == "connection") value = "keep-alive";
          if (lower(name) == "te") value = "trailers";
          if (lower(name) == "keep-alive") value = "timeout=5, max=100";
          if (lower(name) == "upgrade") value = "h2c";
          h.emplace_back(odd_case(name, style), value);
          break;
        }
        case 4:
          if (request) h.emplace_back(odd_case("X-Forwarded-For", style), "203.0.113.7, 10.1.2.3");
          else h.emplace_back("Cache-Control", "no-store");
          break;
        case 5:
          if (request) h.emplace_back(odd_case("Authorization", style), "Bearer sk-secret");
          else h.emplace_back(odd_case("Set-Cookie", style), "a=b");
          break;
        case 6:
          if (request) h.emplace_back(odd_case("X-Api-Key", style), "sk-other");
          else h.emplace_back("X-Upstream", "1");
          break;
        case 7:
          h.emplace_back(odd_case("X-Forwarded-Proto", style), "https");
          break;
        default:
          h.emplace_back(odd_case("Accept", style), "application/json");
          break;
      }
    }
    return h;
  });
}

rc::Gen<Case> gen_case() {
  return rc::gen::exec([] {
    Case c;
    const int n = *uniform(1, 4);
    for (int i = 0; i < n; ++i) {
      ClientReq r;
      r.http10 = *uniform(0, 5) == 0;
      r.post = *uniform(0, 4) != 0;
      r.chunked = r.post && !r.http10 && *coin();
      r.expect_continue = r.post && !r.http10 && *uniform(0, 4) == 0;
      r.headers = *gen_headers(true);
      if (r.post) r.body = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" +
                           std::string(*uniform<std::size_t>(0, 300), 'p') + "\"}";
      c.requests.push_back(std::move(r));
      if (c.requests.back().http10) break;  // HTTP/1.0 closes after its answer
    }
    c.upstream_response_headers = *gen_headers(false);
    if (*coin()) c.backend_headers.emplace_back("X-Backend-Key", "b1");
    return c;
  });
}

std::string wire(const ClientReq& r, std::size_t index) {
  std::string s = std::string(r.post ? "POST" : "GET") + " /v1/echo/" + std::to_string(index) +
                  (r.http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  s += "Host: gateway\r\n";
  for (const auto& [k, v] : r.headers) s += k + ": " + v + "\r\n";
  if (r.expect_continue) s += "Expect: 100-continue\r\n";
  if (r.chunked) {
    s += "Transfer-Encoding: chunked\r\n\r\n";
    // Two chunks, so the framing really is re-done by the gateway.
    const std::size_t half = r.body.size() / 2;
    for (std::string_view part : {std::string_view(r.body).substr(0, half),
                                  std::string_view(r.body).substr(half)}) {
      if (part.empty()) continue;
      char hex[16];
      std::snprintf(hex, sizeof hex, "%zx", part.size());
      s += std::string(hex) + "\r\n" + std::string(part) + "\r\n";
    }
    s += "0\r\n\r\n";
  } else if (r.post) {
    s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
  } else {
    s += "\r\n";
  }
  return s;
}

// ---- the oracle ----------------------------------------------------------------

std::string kClientIp;  // the client host's address (set per run)

// Every name listed in the Connection fields of `h` (lower case).
std::set<std::string> connection_listed(const Headers& h) {
  std::set<std::string> out;
  for (const auto& [k, v] : h) {
    if (lower(k) != "connection") continue;
    std::stringstream ss(v);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      tok.erase(0, tok.find_first_not_of(" \t"));
      tok.erase(tok.find_last_not_of(" \t") + 1);
      if (!tok.empty()) out.insert(lower(tok));
    }
  }
  return out;
}

bool hop_by_hop(const std::string& name, const std::set<std::string>& listed) {
  const std::string n = lower(name);
  for (const auto& h : kHopByHop)
    if (lower(h) == n) return true;
  return listed.count(n) != 0;
}

Headers expected_upstream_headers(const ClientReq& r, const Case& c, const std::string& rid) {
  const auto listed = connection_listed(r.headers);
  Headers out;
  out.emplace_back("host", "backend:8000");
  std::string prior_xff;
  for (const auto& [k, v] : r.headers) {
    const std::string n = lower(k);
    if (hop_by_hop(k, listed)) continue;
    if (n == "authorization" || n == "x-api-key" || n == "x-forwarded-proto" ||
        n == "x-request-id")
      continue;
    if (n == "x-forwarded-for") {  // several are one list (RFC 9110 §5.3)
      prior_xff += (prior_xff.empty() ? "" : ", ") + v;
      continue;
    }
    out.emplace_back(n, v);
  }
  out.emplace_back("x-forwarded-for", prior_xff.empty() ? std::string(kClientIp)
                                                        : prior_xff + ", " + kClientIp);
  out.emplace_back("x-forwarded-proto", "http");
  out.emplace_back("x-request-id", rid);
  for (const auto& [k, v] : c.backend_headers) out.emplace_back(lower(k), v);
  if (r.post) out.emplace_back("content-length", std::to_string(r.body.size()));
  return out;
}

// ---- the world ------------------------------------------------------------------

struct Seen {
  std::vector<std::string> raw_requests;  // as the upstream read them
};

// The echo upstream: reads requests (Beast), records each raw request, and
// answers with the case's response headers, a Connection header naming one
// of them, and a body naming the request.
env::Task<void> echo_conn(std::unique_ptr<env::Stream> s, const Case& c, Seen& seen) {
  std::string in;
  char buf[4096];
  for (;;) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    std::size_t consumed = 0;
    std::string raw;
    while (!p.is_done()) {
      env::error_code ec;
      if (!in.empty()) {
        const std::size_t used = p.put(boost::asio::buffer(in.data(), in.size()), ec);
        raw.append(in, 0, used);
        in.erase(0, used);
        consumed += used;
        if (p.is_done()) break;
        if (ec && ec != bhttp::error::need_more) co_return s->close();
        if (used > 0 && !in.empty()) continue;
      }
      const std::size_t n = co_await s->read_some(boost::asio::buffer(buf), kNoDeadline, ec);
      in.append(buf, n);
      if (ec) co_return s->close();
    }
    seen.raw_requests.push_back(raw);
    const std::string body = "echo:" + std::string(p.get().target());
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
    for (const auto& [k, v] : c.upstream_response_headers) out += k + ": " + v + "\r\n";
    out += "Connection: X-Secret-Hop\r\nX-Secret-Hop: 1\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    env::error_code ec;
    co_await s->write(boost::asio::buffer(out), kNoDeadline, ec);
    if (ec) co_return s->close();
  }
}

env::Task<void> echo_server(sim::SimEnv& env, env::Acceptor& acc, const Case& c, Seen& seen) {
  for (;;) {
    env::error_code ec;
    auto s = co_await acc.accept(ec);
    if (ec) co_return;
    boost::asio::co_spawn(env.executor(), echo_conn(std::move(s), c, seen),
                          [](std::exception_ptr e) {
                            if (e) std::rethrow_exception(e);
                          });
  }
}

struct Got {
  std::string raw;  // everything the client read
  bool done = false;
};

env::Task<void> client(sim::SimEnv& env, const Case& c, Got& got) {
  env::error_code ec;
  auto s = co_await env.connect("gateway", 8080, env.now() + 5s, ec);
  if (!s) {
    got.done = true;
    co_return;
  }
  std::string all;
  for (std::size_t i = 0; i < c.requests.size(); ++i) all += wire(c.requests[i], i);
  co_await s->write(boost::asio::buffer(all), env.now() + 10s, ec);
  char buf[4096];
  for (;;) {
    const std::size_t n = co_await s->read_some(boost::asio::buffer(buf), env.now() + 10s, ec);
    got.raw.append(buf, n);
    if (ec) break;
  }
  s->close();
  got.done = true;
}

struct Parsed {
  int status = 0;
  Headers headers;
  std::string body;
  std::string target;
};

// Parses consecutive HTTP messages (requests or responses) from raw bytes.
template <bool IsRequest>
std::vector<Parsed> parse_all(std::string raw, bool skip_interim) {
  std::vector<Parsed> out;
  while (!raw.empty()) {
    bhttp::parser<IsRequest, bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    env::error_code ec;
    const std::size_t used = p.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    if (ec || !p.is_done()) break;
    raw.erase(0, used);
    Parsed m;
    if constexpr (IsRequest) {
      m.target = std::string(p.get().target());
    } else {
      m.status = p.get().result_int();
      if (skip_interim && m.status / 100 == 1) continue;
    }
    for (const auto& f : p.get())
      m.headers.emplace_back(lower(std::string(f.name_string())), std::string(f.value()));
    m.body = p.get().body();
    out.push_back(std::move(m));
  }
  return out;
}

// Beast's fields keep a repeated name next to its earlier occurrence, so the
// order between different names is not what was on the wire; what HTTP
// gives meaning to is the order of one name's values, which this keeps.
Headers by_name(Headers h) {
  std::stable_sort(h.begin(), h.end(),
                   [](const Header& a, const Header& b) { return a.first < b.first; });
  return h;
}

std::string show(const Headers& h) {
  std::string s;
  for (const auto& [k, v] : h) s += "    " + k + ": " + v + "\n";
  return s;
}

RC_GTEST_PROP(HeaderSpace, UpstreamSeesTheClientsRequestMinusDocumentedChanges, ()) {
  const Case c = *gen_case();
  sim::World world(7);
  sim::SimEnv backend_env(world, "backend");
  Seen seen;
  env::error_code ec;
  auto up_acc = backend_env.listen("", 8000, false, ec);
  world.spawn(echo_server(backend_env, *up_acc, c, seen));

  shell::ShellConfig cfg;
  shell::BackendTarget b = testing::sim_backend("echo");
  b.headers = c.backend_headers;
  cfg.backends.push_back(b);
  testing::SimGateway gateway(world, cfg);
  sim::SimEnv client_env(world, "client");
  kClientIp = client_env.ip();
  Got got;
  world.spawn(client(client_env, c, got));
  world.run_for(60s);
  RC_ASSERT(got.done);

  const auto answers = parse_all<false>(got.raw, true);
  const auto upstream = parse_all<true>([&] {
    std::string all;
    for (const auto& r : seen.raw_requests) all += r;
    return all;
  }(), false);
  RC_ASSERT(answers.size() == c.requests.size());
  RC_ASSERT(upstream.size() == c.requests.size());
  for (std::size_t i = 0; i < c.requests.size(); ++i) {
    const ClientReq& r = c.requests[i];
    const Parsed& a = answers[i];
    const Parsed& u = upstream[i];
    RC_ASSERT(a.status == 200);
    std::string rid;
    for (const auto& [k, v] : a.headers)
      if (k == "x-request-id") rid = v;
    // The request upstream.
    const Headers want = expected_upstream_headers(r, c, rid);
    if (by_name(u.headers) != by_name(want)) {
      RC_FAIL("upstream request " + std::to_string(i) + " headers:\n" + show(u.headers) +
              "  expected:\n" + show(want) + "  client sent:\n" + show(r.headers));
    }
    RC_ASSERT(u.target == "/v1/echo/" + std::to_string(i));
    RC_ASSERT(u.body == r.body);
    // The response to the client: the upstream's minus hop-by-hop and its
    // Connection-listed headers; framing done by the gateway.
    Headers upstream_resp = {{"content-type", "text/plain"}};
    for (const auto& [k, v] : c.upstream_response_headers) upstream_resp.emplace_back(lower(k), v);
    upstream_resp.emplace_back("connection", "X-Secret-Hop");
    upstream_resp.emplace_back("x-secret-hop", "1");
    const auto listed = connection_listed(upstream_resp);
    Headers want_resp;
    for (const auto& [k, v] : upstream_resp)
      if (!hop_by_hop(k, listed)) want_resp.emplace_back(k, v);
    Headers got_resp;
    for (const auto& [k, v] : a.headers)
      if (k != "x-request-id" && k != "content-length" && k != "transfer-encoding" &&
          k != "connection")
        got_resp.emplace_back(k, v);
    if (by_name(got_resp) != by_name(want_resp))
      RC_FAIL("client response " + std::to_string(i) + " headers:\n" + show(a.headers) +
              "  expected (besides framing and x-request-id):\n" + show(want_resp));
    RC_ASSERT(a.body == "echo:/v1/echo/" + std::to_string(i));
  }

  up_acc->close();
  gateway.stop();
  world.run_for(1s);
}

}  // namespace
}  // namespace llmproxy::harness
