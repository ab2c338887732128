// The request pipeline: where modules plug into the request path, the way
// Envoy has filter chains. The order of phases is fixed (docs/architecture.md):
//
//   1 built-in endpoints   handlers registered by exact path (/health,
//                          /ready, metrics.path, the admin API), per
//                          listener (below); /v1/* goes on
//   2 filters, by phase    observe → cors → auth → request_hooks → rate_limit
//                          (observe: counting filters that never reject,
//                          e.g. metrics' requests in flight). observe and
//                          cors run before the method check (405) and the
//                          answer to a bad JSON body (400), so a preflight
//                          is answered and every error carries CORS
//                          headers; the body's fields (model, stream) are
//                          read before them.
//   3 route                retry/fallback over attempts (shell/forward.h)
//   4 response head        every filter that ran adds its header lines
//                          (Exchange::response_headers, on every answer)
//   5 end                  filters' on_end in reverse order, then every
//                          observer gets the finished RequestRecord
//
// A filter's on_request returns proceed, or an error from the catalogue
// (the gateway answers it through the one error funnel; later phases and
// the route do not run, earlier filters' on_end still do). Observers only
// watch: metrics, logs, usage and the simulator's checkers are observers.
// Chains are built once per worker and never change while it serves
// (reload builds a new worker's pipeline), so no lock is needed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/openai/error_catalogue.h"
#include "proxy/env/env.h"
#include "proxy/shell/exchange.h"

namespace llmproxy::shell {

// A filter's answer to a request: go on, refuse with a catalogue error, or
// answer it (an empty response, e.g. a CORS preflight's 204).
struct FilterVerdict {
  std::optional<openai::ErrorId> error;  // refuse
  std::string message;                   // for the error body
  std::string extra_headers;             // for the error or the answer only
  int respond_status = 0;                // answer with this status, no body

  bool proceeds() const { return !error && respond_status == 0; }
  static FilterVerdict proceed() { return {}; }
  static FilterVerdict reject(openai::ErrorId id, std::string message = {},
                              std::string extra_headers = {}) {
    return {id, std::move(message), std::move(extra_headers), 0};
  }
  static FilterVerdict respond(int status, std::string headers) {
    return {std::nullopt, {}, std::move(headers), status};
  }
};

enum class FilterPhase : std::uint8_t { observe, cors, auth, request_hooks, rate_limit };
// Phases before this one run ahead of the method check and the JSON body.
inline constexpr FilterPhase kFirstPhaseAfterBody = FilterPhase::auth;

class Filter {
 public:
  virtual ~Filter() = default;
  virtual FilterPhase phase() const = 0;
  // Runs for every proxied request (not for built-in endpoints). May add
  // header lines to ex.response_headers for every answer of the request.
  virtual env::Task<FilterVerdict> on_request(Exchange& ex) = 0;
  // Once per request whose on_request ran, when it ends (in reverse order).
  virtual env::Task<void> on_end(Exchange& /*ex*/) { co_return; }
  // The worker is closing (drained, or its generation retired): drop store
  // connections, so nothing keeps the event loop running. Work already
  // started may finish first (a write of usage that must not be lost).
  virtual void close() {}
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_request_end(const RequestRecord& record) = 0;
};

// What a built-in endpoint answers.
struct EndpointResponse {
  int status = 200;
  std::string_view content_type = "application/json";
  std::optional<openai::ErrorId> error;  // set: answered through the error funnel
  std::string_view error_message;
};

class EndpointHandler {
 public:
  virtual ~EndpointHandler() = default;
  // Methods it answers, for the Allow header of a 405 (e.g. "GET, HEAD").
  virtual std::string_view allow() const { return "GET, HEAD"; }
  // Writes the body into `body` (reused) and says the status.
  virtual EndpointResponse handle(const Exchange& ex, std::string& body) = 0;
  // The session calls this one. Endpoints that wait on a store (the admin
  // API) override it; the rest answer at once through handle().
  virtual env::Task<EndpointResponse> handle_async(const Exchange& ex, std::string& body) {
    co_return handle(ex, body);
  }
};

// The listener a connection came in on. Each has its own endpoint table:
// the main one serves /v1 and its built-in endpoints; the admin one
// (admin.listen) serves its endpoints and nothing else, so an operator who
// moves the admin API off the public port has it answer nowhere else.
enum class Listener : std::uint8_t { main, admin };
inline constexpr std::size_t kListeners = 2;

class Pipeline {
 public:
  void add_filter(std::unique_ptr<Filter> filter);
  void add_observer(std::shared_ptr<RequestObserver> observer);
  // Convenience for tests and small observers.
  void observe(std::function<void(const RequestRecord&)> fn);
  // `path` exact (no query), served on `on`. A second handler for a path
  // on the same listener replaces the first.
  void add_endpoint(std::string path, std::shared_ptr<EndpointHandler> handler,
                    Listener on = Listener::main);

  EndpointHandler* endpoint(std::string_view path, Listener on = Listener::main) const;
  // Ordered by phase (stable within a phase: the order they were added).
  const std::vector<std::unique_ptr<Filter>>& filters() const { return filters_; }
  void close() {
    for (const auto& f : filters_) f->close();
  }
  void notify_end(const RequestRecord& record) const {
    for (const auto& o : observers_) o->on_request_end(record);
  }

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
  std::vector<std::shared_ptr<RequestObserver>> observers_;
  using Endpoints = std::vector<std::pair<std::string, std::shared_ptr<EndpointHandler>>>;
  std::array<Endpoints, kListeners> endpoints_;  // by Listener
};

}  // namespace llmproxy::shell
