#!/usr/bin/env bash
# Multi-threaded loopback stress test (DESIGN.md "Hazards": thread
# interleavings are outside the simulator). `llmproxy serve` with 4 workers
# in front of two fake-openai processes, with everything that is shared
# between worker threads switched on: the HealthBoard (one backend's /health
# flaps, worker 0 probes every 100 ms and the others read it), the in-process
# MemoryLimiter (several API keys whose limits are sometimes hit), the logger,
# and the drain driven from the main thread. Many concurrent clients hammer
# it for STRESS_SECONDS (default 10): streams and non-streams, clients that
# disconnect mid-stream, requests with per-request faults (retries, the
# circuit breaker, first-byte timeouts) and, when wrk is installed,
# keep-alive load, a config reload (SIGHUP) halfway. Then SIGTERM while requests are in flight.
# Asserts: no crash, exit 0 after the drain, every status is one of
# 200/429/502/503/504, and no ERROR / error-level line / sanitizer report in
# the logs. Built with TSan (scripts/tsan-stress) it is the race test; in
# the ASan build it runs in the 'stress' suite.
#   stress_e2etest.sh LLMPROXY FAKE_OPENAI
# Environment: STRESS_SECONDS (load duration, whole seconds), STRESS_LOG_DIR (copy the
# proxy's and fakes' logs there), KEEP_WORK=1 (keep the temp dir).
set -euo pipefail
LLMPROXY=$1
FAKE=$2
SECONDS_TO_RUN=${STRESS_SECONDS:-10}
WORK=$(mktemp -d /tmp/llmproxy-stress-e2e.XXXXXX)
PIDS=()
cleanup() {
  touch "$WORK/stop" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # STRESS_LOG_DIR: keep the logs (scripts/tsan-stress reads them).
  if [ -n "${STRESS_LOG_DIR:-}" ]; then
    mkdir -p "$STRESS_LOG_DIR"
    cp "$WORK"/*.log "$STRESS_LOG_DIR"/ 2>/dev/null || true
  fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$WORK"/proxy.log "$WORK"/fake-*.log; do echo "--- $f (last 60 lines)"; tail -n 60 "$f" 2>/dev/null || true; done
  exit 1
}

# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"

# The stress profile: a little slower and longer than e2e_lib's default.
STRESS_PROFILE=(--ttft 3ms --itl 2ms --tokens 8)

PORT_a='' PORT_b=''
start_fake a "${STRESS_PROFILE[@]}"
# b's /health flaps (its timeline starts when it does, just before the
# proxy): worker 0's prober flips the shared board while the other workers
# route by it. One window also fails its completions, for the breakers.
start_fake b "${STRESS_PROFILE[@]}" --fault from=1s,to=2s,health=down --fault from=3500ms,to=4500ms,health=down \
  --fault from=6s,to=7s,health=down --fault from=5s,to=5500ms,status=503 \
  --fault from=8s,to=9s,health=hang

GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF
server:
  listen: "127.0.0.1:$GW_PORT"
  workers: 4
  drain_timeout: 6s
log:
  level: info
  format: text
  output: stderr
backends:
  - {name: a, url: "http://127.0.0.1:$PORT_a"}
  - {name: b, url: "http://127.0.0.1:$PORT_b"}
health_check:
  enabled: true
  interval: 100ms
  timeout: 300ms
  unhealthy_threshold: 1
  healthy_threshold: 1
routing:
  load_balance: least_conn
  timeout: 20s
  connect_timeout: 2s
  first_byte_timeout: 1500ms
  stream_idle_timeout: 1s
  request_timeout: 25s
  retry:
    enabled: true
    max_retries: 2
    initial_wait: 5ms
    max_wait: 50ms
    retry_on: [5xx, connect_failure, timeout, reset]
  circuit_breaker:
    enabled: true
    consecutive_failures: 5
    error_ratio: 0.5
    window: 2s
    min_requests: 20
    cool_down: 300ms
    max_cool_down: 1s
rate_limit:
  enabled: true
  storage: memory
  global:
    enabled: true
    requests_per_second: 1000
    burst_size: 1000
  per_key:
    enabled: true
    requests_per_second: 15
    burst_size: 15
    tokens_per_minute: 20000
    max_concurrent: 4
EOF
"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
PORT=$(listening_port "$WORK/proxy.log") || fail "proxy did not start"
BASE="http://127.0.0.1:$PORT"
URL="$BASE/v1/chat/completions"
KEYS=6

# client KIND ID: requests until $WORK/stop exists; one line per request
# "<curl exit> <http code>" in $WORK/status-KIND-ID.
client() {
  local kind=$1 id=$2 n=0 key code rc body
  local -a extra
  local plain='{"model":"fake-model","messages":[{"role":"user","content":"stress test"}]}'
  local stream='{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"stress test"}]}'
  local usage='{"model":"fake-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}'
  while [ ! -e "$WORK/stop" ]; do
    n=$((n + 1))
    key="sk-stress-$(( (id + n) % KEYS ))"
    extra=()
    local max_time=40
    case $kind in
      chat) body=$plain ;;
      stream) if (( n % 3 )); then body=$stream; else body=$usage; fi ;;
      # Slow streams cut by the client mid-stream (curl exits 28).
      cut) body=$stream; max_time=0.$((2 + n % 6)); extra=(-H 'x-fake-fault: itl=40ms,tokens=30') ;;
      # Per-request faults: every attempt gets the header, so these end in
      # the upstream error, a 502 or a 504 after retries (and trip breakers).
      fault)
        body=$plain
        case $((n % 6)) in
          0) extra=(-H 'x-fake-fault: status=503') ;;
          1) extra=(-H 'x-fake-fault: reset_before_headers') ;;
          2) extra=(-H 'x-fake-fault: hang') ;;
          3) body=$stream; extra=(-H 'x-fake-fault: reset_after=2') ;;
          4) body=$stream; extra=(-H 'x-fake-fault: stall_after=2,for=3s') ;;
          5) extra=(-H 'x-fake-fault: p=0.5,status=502') ;;
        esac ;;
    esac
    rc=0
    code=$(curl -sS -N --max-time "$max_time" -o /dev/null -w '%{http_code}' "$URL" \
      -H 'Content-Type: application/json' -H "Authorization: Bearer $key" "${extra[@]}" \
      -d "$body" 2>>"$WORK/curl-$kind-$id.err") || rc=$?
    echo "$rc $code" >> "$WORK/status-$kind-$id"
  done
}

CLIENT_PIDS=()
for i in 1 2 3 4 5 6; do client chat "$i" & CLIENT_PIDS+=($!); done
for i in 1 2 3 4 5 6; do client stream "$i" & CLIENT_PIDS+=($!); done
for i in 1 2 3; do client cut "$i" & CLIENT_PIDS+=($!); done
for i in 1 2 3; do client fault "$i" & CLIENT_PIDS+=($!); done
PIDS+=("${CLIENT_PIDS[@]}")

# Keep-alive load over several keys with wrk, if installed: many requests
# per connection, so sessions live across many requests.
WRK_PID=
if command -v wrk > /dev/null; then
  cat > "$WORK/stress.lua" <<'EOF'
-- Non-streaming chat completions over keep-alive connections, a different
-- API key per request; counts statuses per thread (printed by done()).
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  counts = {}
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"wrk"}]}'
end
function request()
  n = n + 1
  wrk.headers["Authorization"] = "Bearer sk-wrk-" .. (n % 4)
  return wrk.format()
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, c in pairs(t:get("counts")) do total[status] = (total[status] or 0) + c end
  end
  for status, c in pairs(total) do io.write(string.format("status %d %d\n", status, c)) end
end
EOF
  wrk -t2 -c16 -d"${SECONDS_TO_RUN}s" --timeout 30s -s "$WORK/stress.lua" "$URL" > "$WORK/wrk.out" 2>&1 &
  WRK_PID=$!
  PIDS+=("$WRK_PID")
fi

# Halfway, a SIGHUP: a config reload under load (the same file, so every
# worker builds a new generation and retires the old one while requests
# pinned to it finish; under TSan, the cross-thread reload path).
sleep "$(( SECONDS_TO_RUN / 2 ))"
kill -HUP "$PROXY_PID" 2>/dev/null || fail "proxy died under load"
sleep "$(( SECONDS_TO_RUN - SECONDS_TO_RUN / 2 ))"
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died under load"

# Drain: stop starting requests, let the clients' last connections reach
# the proxy, start slow streams, then SIGTERM while they (and whatever the
# clients still have in flight) are open. Every client request takes less
# than the 6 s drain_timeout (hang: 3 attempts × 1.5 s first-byte timeout).
touch "$WORK/stop"
[ -z "$WRK_PID" ] || wait "$WRK_PID" || fail "wrk failed: $(cat "$WORK/wrk.out")"
sleep 1
SLOW_PIDS=()
for i in 1 2 3 4; do
  curl -sS -N --max-time 40 -o "$WORK/slow-$i.out" -w '%{http_code}' "$URL" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer sk-slow-$i" \
    -H 'x-fake-fault: itl=100ms,tokens=10' \
    -d '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"slow"}]}' \
    > "$WORK/slow-$i.code" 2>&1 &
  SLOW_PIDS+=($!)
done
# One stream outlives server.drain_timeout (6 s): the main thread's drain
# deadline closes it on its worker (no [DONE]).
curl -sS -N --max-time 40 -o "$WORK/long.out" "$URL" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer sk-slow-long" \
  -H 'x-fake-fault: itl=300ms,tokens=60' \
  -d '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"long"}]}' \
  > /dev/null 2>&1 &
LONG_PID=$!
PIDS+=("$LONG_PID")
sleep 0.4
kill -TERM "$PROXY_PID" 2>/dev/null || fail "proxy died before SIGTERM"
for p in "${SLOW_PIDS[@]}"; do wait "$p" || fail "a stream in flight failed during the drain"; done
wait "$LONG_PID" && fail "the stream outliving the drain deadline was not cut"
grep -q 'data: \[DONE\]' "$WORK/long.out" && fail "the stream outliving the drain deadline ended with [DONE]"
for i in 1 2 3 4; do
  code=$(cat "$WORK/slow-$i.code")
  case $code in
    200) grep -q 'data: \[DONE\]' "$WORK/slow-$i.out" || fail "drained stream $i truncated" ;;
    429|502|503|504) ;;
    *) fail "slow stream $i gave $code" ;;
  esac
done
for p in "${CLIENT_PIDS[@]}"; do wait "$p" || fail "a client loop failed"; done
for _ in $(seq 600); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PROXY_PID" 2>/dev/null && fail "serve did not exit within 30 s of SIGTERM"
rc=0
wait "$PROXY_PID" || rc=$?
[ "$rc" = 0 ] || fail "serve exited with $rc after SIGTERM"

# Statuses. Clients that hang up on purpose may see no status (000) or a
# 200 whose body they cut (curl exit 28); a stream broken upstream after its
# headers is a 200 that curl may report as exit 18 or 56 (the chunked body
# ends early). Anything else must be a complete exchange with an expected status.
total=0
declare -A seen=()
for f in "$WORK"/status-*; do
  name=$(basename "$f")
  kind=$(cut -d- -f2 <<<"$name")
  while read -r crc code; do
    total=$((total + 1))
    seen[$code]=$(( ${seen[$code]:-0} + 1 ))
    case "$kind/$crc/$code" in
      */0/200|*/0/429|*/0/502|*/0/503|*/0/504) ;;
      cut/28/000|cut/28/200) ;;
      fault/18/200|fault/56/200) ;;
      *) fail "$name: curl exit $crc, status $code ($(tail -n 3 "$WORK/curl-${name#status-}.err" 2>/dev/null))" ;;
    esac
  done < "$f"
done
summary=""
for c in "${!seen[@]}"; do summary+=" $c:${seen[$c]}"; done
wrk_summary=""
if [ -n "$WRK_PID" ]; then
  grep -q '^status ' "$WORK/wrk.out" || fail "wrk made no requests: $(cat "$WORK/wrk.out")"
  while read -r _ code count; do
    case $code in 200|429|502|503|504) ;; *) fail "wrk saw status $code ($count times)" ;; esac
    wrk_summary+=" $code:$count"
  done < <(grep '^status ' "$WORK/wrk.out")
  grep -q 'Socket errors' "$WORK/wrk.out" && fail "wrk socket errors: $(cat "$WORK/wrk.out")"
fi
[ "${seen[200]:-0}" -gt 0 ] || fail "no request succeeded:$summary"
[ "${seen[429]:-0}" -gt 0 ] || [[ "$wrk_summary" == *" 429:"* ]] || fail "no rate limit was ever hit:$summary"

# Logs: no error-level line, no sanitizer report, in the proxy or the fakes.
for f in "$WORK/proxy.log" "$WORK"/fake-*.log; do
  if grep -nE 'ERROR|WARNING: ThreadSanitizer|runtime error|Sanitizer|^[0-9T:.Z-]+ error ' "$f" > "$WORK/bad-lines"; then
    fail "$(basename "$f") has errors: $(head -n 20 "$WORK/bad-lines")"
  fi
done
grep -q 'backend unhealthy' "$WORK/proxy.log" || fail "the health flap was never seen"
grep -q 'reloaded' "$WORK/proxy.log" || fail "SIGHUP did not reload the config"
grep -q 'drain deadline passed' "$WORK/proxy.log" || fail "the drain deadline never closed the long stream"
echo "stress e2e: ok — $total curl requests:$summary; wrk:${wrk_summary:- (not installed)}"
