#include "proxy/shell/builtin_endpoints.h"

#include "proxy/shell/worker.h"

namespace llmproxy::shell {

EndpointResponse HealthEndpoint::handle(const Exchange&, std::string& body) {
  body.assign(R"({"status":"ok"})");
  return {};
}

EndpointResponse ReadyEndpoint::handle(const Exchange&, std::string& body) {
  EndpointResponse r;
  if (worker_.draining()) {
    r.error = openai::ErrorId::draining;
  } else if (!worker_.any_backend_routable()) {
    r.error = openai::ErrorId::no_backend_available;
  } else {
    body.assign(R"({"status":"ready"})");
  }
  return r;
}

}  // namespace llmproxy::shell
