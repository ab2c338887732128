#!/usr/bin/env bash
# End-to-end routing on real sockets (issue #4 item 9): the fault kinds where
# the simulator could hide a real-socket difference — HTTP errors, resets
# before headers, a backend that never answers, health probes — through
# `llmproxy serve` against several `fake-openai` processes on loopback.
# Timing-exact behaviour (backoff waits, thresholds) is proven in the
# simulator; here only outcomes are checked.
#   routing_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir routing-e2e
fail() { echo "FAIL: $*"; for f in "$WORK"/proxy*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

# start_proxy NAME CONFIG_BODY → sets BASE
start_proxy() {
  local name=$1 body=$2 port
  port=$(free_port)
  printf 'server:\n  listen: "127.0.0.1:%s"\n  workers: 1\nlog:\n  level: error\n%s\n' "$port" "$body" > "$WORK/$name.yaml"
  "$LLMPROXY" serve --config "$WORK/$name.yaml" > "$WORK/proxy-$name.log" 2>&1 &
  PIDS+=($!)
  listening_port "$WORK/proxy-$name.log" >/dev/null
  BASE="http://127.0.0.1:$port"
}

CURL=(curl -sS --max-time 20)
BODY='{"model":"fake-model","messages":[{"role":"user","content":"hi"}]}'
chat() { "${CURL[@]}" -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' "$BASE/v1/chat/completions" -H 'Content-Type: application/json' "$@" -d "$BODY"; }
served_by() { grep -i '^x-fake-backend:' "$WORK/h" | tr -d '\r' | awk '{print $2}'; }

start_fake err --no-fault-header --fault status=503
start_fake busy --no-fault-header --fault status=429,retry_after=30
start_fake rst --no-fault-header --fault reset_before_headers
start_fake hang --no-fault-header --fault hang
start_fake good
start_fake ctx

# 1. Every primary fails in its own way; each falls back to `good`.
start_proxy fallback "$(cat <<EOF
routing:
  load_balance: round_robin
  timeout: 5s
  first_byte_timeout: 300ms
  retry:
    enabled: true
    max_retries: 1
    initial_wait: 10ms
    max_wait: 100ms
  fallback:
    - primary: "http://127.0.0.1:$PORT_err"
      fallback: ["http://127.0.0.1:$PORT_good"]
    - primary: busy
      fallback: [good]
    - primary: rst
      fallback: [good]
    - primary: hang
      fallback: [good]
backends:
  - {name: err, url: "http://127.0.0.1:$PORT_err"}
  - {name: busy, url: "http://127.0.0.1:$PORT_busy"}
  - {name: rst, url: "http://127.0.0.1:$PORT_rst"}
  - {name: hang, url: "http://127.0.0.1:$PORT_hang"}
  - {name: good, url: "http://127.0.0.1:$PORT_good"}
EOF
)"
for i in 1 2 3 4 5 6 7 8; do
  code=$(chat)
  [ "$code" = 200 ] || fail "request $i through fallbacks gave $code: $(cat "$WORK/b")"
  [ "$(served_by)" = good ] || fail "request $i served by '$(served_by)', not the fallback"
done

# 2. Without fallbacks, the client gets the last upstream error, not a generic 502.
start_proxy noretry "$(cat <<EOF
routing:
  retry: {enabled: true, max_retries: 2, initial_wait: 5ms, max_wait: 20ms}
backends:
  - {name: err, url: "http://127.0.0.1:$PORT_err"}
EOF
)"
code=$(chat)
[ "$code" = 503 ] || fail "persistent 503 gave $code"
[ "$(served_by)" = err ] || fail "last upstream error not relayed: $(cat "$WORK/h")"

# 3. A 400 context_length_exceeded is returned at once with the upstream body.
start_proxy ctx "$(cat <<EOF
routing:
  retry: {enabled: true, max_retries: 3, initial_wait: 1s}
backends:
  - {name: ctx, url: "http://127.0.0.1:$PORT_ctx"}
EOF
)"
start=$(date +%s%N)
code=$(chat -H 'x-fake-fault: status=400,code=context_length_exceeded')
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$code" = 400 ] || fail "context_length_exceeded gave $code"
grep -q context_length_exceeded "$WORK/b" || fail "upstream 400 body not relayed: $(cat "$WORK/b")"
[ "$elapsed_ms" -lt 900 ] || fail "a 400 was retried (took ${elapsed_ms} ms)"

# 4. Active health checks: a backend whose /health fails gets no traffic, and
#    with every backend down /ready and requests answer 503 at once.
start_fake gray --fault health=down
start_proxy health "$(cat <<EOF
health_check:
  enabled: true
  interval: 100ms
  timeout: 1s
  unhealthy_threshold: 1
  healthy_threshold: 1
backends:
  - {name: gray, url: "http://127.0.0.1:$PORT_gray"}
  - {name: good, url: "http://127.0.0.1:$PORT_good"}
EOF
)"
sleep 0.5
for i in 1 2 3 4 5 6; do
  code=$(chat)
  [ "$code" = 200 ] || fail "health-routed request gave $code"
  [ "$(served_by)" = good ] || fail "unhealthy backend got traffic (request $i)"
done
start_proxy alldown "$(cat <<EOF
health_check:
  enabled: true
  interval: 100ms
  unhealthy_threshold: 1
backends:
  - {name: gray, url: "http://127.0.0.1:$PORT_gray"}
EOF
)"
sleep 0.5
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/ready")
[ "$code" = 503 ] || fail "/ready with every backend down gave $code"
code=$(chat)
[ "$code" = 503 ] || fail "request with every backend down gave $code"
grep -q no_backend_available "$WORK/b" || fail "all-down body: $(cat "$WORK/b")"

echo "routing e2e: ok"
