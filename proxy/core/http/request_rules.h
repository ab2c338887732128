// Pure HTTP rules of the gateway's front door (no I/O): which route a request
// takes, whether its method is allowed, which headers are hop-by-hop, and the
// request id. (Written by the lead to unblock the shell; owner: the OpenAI
// core engineer — extend it, keep the API.)
#pragma once

#include <string>
#include <string_view>

#include "proxy/core/random.h"

namespace llmproxy::http {

enum class Route {
  chat_completions,  // POST /v1/chat/completions
  completions,       // POST /v1/completions
  embeddings,        // POST /v1/embeddings
  models,            // GET  /v1/models (and /v1/models/{id})
  v1_passthrough,    // any other /v1/* path, any method
  health,            // GET/HEAD /health
  ready,             // GET/HEAD /ready
  metrics,           // GET metrics.path
  admin,             // /admin/*
  not_found,
};

const char* route_name(Route r);

struct RouteMatch {
  Route route = Route::not_found;
  bool method_allowed = true;
  std::string_view allow;  // value for the Allow header when !method_allowed
};

// `path` excludes the query string. `metrics_path` is metrics.path.
RouteMatch classify(std::string_view method, std::string_view path, std::string_view metrics_path);

// Routes whose body must be a JSON object (400 invalid_request_json otherwise).
bool needs_json_body(Route r);
// The request goes to a backend (the /v1 routes), not to a built-in endpoint.
bool is_proxied(Route r);

// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded: the fixed list plus
// every name listed in the message's Connection header (case-insensitive).
bool is_hop_by_hop(std::string_view name, std::string_view connection_header);

// Several fields of one name are one comma-separated list (RFC 9110 §5.3).
// Adds `value` to `list`: the first value is only viewed; from the second on
// the list is copied into `scratch` and `list` views that. Start with an
// empty (null) view; no allocation unless a name repeats.
void join_list(std::string_view& list, std::string_view value, std::string& scratch);

// ASCII case-insensitive comparisons for header names and token values.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

// A client-supplied X-Request-Id is kept when it is 1–128 visible ASCII
// characters (no spaces or controls); otherwise the gateway makes one.
bool valid_request_id(std::string_view id);
// 32 lower-case hex characters from the environment's generator.
std::string generate_request_id(Rng& rng);
// The same, written into `out` (its capacity is reused).
void generate_request_id(Rng& rng, std::string& out);

// X-Forwarded-For for the upstream request, appended to `out`: the incoming
// header's list followed by ", " and the peer address (what nginx's
// $proxy_add_x_forwarded_for does), or just the peer when the incoming value
// is empty or unusable (controls or non-ASCII bytes: never forward what could
// split a header). Multiple incoming X-Forwarded-For headers should be joined
// with ", " by the caller first (RFC 9110 §5.3).
void append_forwarded_for(std::string& out, std::string_view incoming, std::string_view peer_ip);

}  // namespace llmproxy::http
