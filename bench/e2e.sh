#!/usr/bin/env bash
# End-to-end benchmark, side by side in one run: wrk against fake-openai
# directly, through llmproxy, and through nginx (proxy_pass with upstream
# keep-alive, buffering off), at concurrency 1 and 64, non-stream and stream.
# Prints RPS, p50/p99 latency, added p50/p99 versus direct, errors, the CPU
# the hop spent per request, the added time to the first SSE chunk, and the
# gateway's RSS (idle, after the runs, holding N idle streams). Everything
# runs on loopback; every step is bounded (DURATION seconds per wrk run,
# socket timeouts, a kill -9 fallback at exit).
#
#   bench/e2e.sh                     # needs build-bench (see README) or BUILD_DIR
#   DURATION=5 bench/e2e.sh          # shorter runs
#   IDLE_STREAMS=5000 bench/e2e.sh   # also measure RSS holding N idle streams
#   VARIANTS=0 bench/e2e.sh          # skip the llmproxy variants below
#   ROUNDS=3 bench/e2e.sh            # each cell 3 times, interleaved; medians
#   MODE=ttft bench/e2e.sh           # time to first chunk instead (below)
# MODE=ttft: time to the first chunk of a stream as clients see it, with a
# backend that takes its time (fake-openai --ttft 20ms --itl 1ms --tokens 4),
# direct vs llmproxy (workers: 2) vs nginx (2 workers, buffering off,
# upstream keep-alive). Two clients, each sequential streaming requests on
# one keep-alive connection: bench/ttft_raw.py (raw socket; request written
# -> first `data:` byte of the body) and bench/ttft_node.mjs (Node's http
# module, as the OpenAI SDK uses; req.end() -> first 'data' event of the
# body). TTFT_REQUESTS (default 300) measured requests per target and
# client, split over ROUNDS (default 3) interleaved rounds of one connection
# each, after TTFT_WARMUP (default 10) unmeasured ones per connection. Prints
# median and p90 in µs and the added latency over direct. Needs node, not wrk.
#   MODE=ttft bench/e2e.sh
#   MODE=ttft TTFT_REQUESTS=30 bench/e2e.sh     # a quick check
# Variants, each its own llmproxy process on the same backend:
#   llmp+rt     retry (2 retries), fallback rule, circuit breaker, active health checks every 1s
#   llmp+mem    rate limits (global, per key requests and tokens, concurrency) in memory, never hit
#   llmp+redis  the same limits on a redis-server started here (one EVALSHA per admit and per finish)
#   llmp+auth   auth by a static key (api_keys) + the per-key limits in memory
#   llmp+keys   auth by a key of the admin key store (builtin provider, SQLite; answered from the
#               worker's cache) + the per-key limits in memory
#   llmp+quota  auth by a static key with a quota (counted in SQLite, read from it on every request:
#               auth.quota_check exact) + the per-key limits in memory
# Every request to every target carries `Authorization: Bearer $WRK_KEY`
# (targets without auth pass it on or ignore it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
DURATION=${DURATION:-10}
IDLE_STREAMS=${IDLE_STREAMS:-0}
VARIANTS=${VARIANTS:-1}
MODE=${MODE:-wrk}
if [ "$MODE" = ttft ]; then ROUNDS=${ROUNDS:-3}; else ROUNDS=${ROUNDS:-1}; fi
LLMPROXY="$BUILD_DIR/proxy/app/llmproxy"
FAKE="$BUILD_DIR/fake_backends/fake-openai"
for b in "$LLMPROXY" "$FAKE"; do
  [ -x "$b" ] || { echo "missing $b: meson setup $BUILD_DIR --buildtype=release -Dbenchmarks=true -Dtests=false && ninja -C $BUILD_DIR proxy/app/llmproxy fake_backends/fake-openai"; exit 2; }
done
case $MODE in
  wrk) command -v wrk >/dev/null || { echo "wrk missing: scripts/install-deps"; exit 2; } ;;
  ttft) command -v node >/dev/null || { echo "node missing: apt-get install nodejs"; exit 2; } ;;
  *) echo "MODE must be wrk or ttft"; exit 2 ;;
esac
# Idle streams need two descriptors each in the gateway (client + upstream):
# take the hard limit (every process started below inherits it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 16384 2>/dev/null || true
NOFILE=$(ulimit -n)

. bench/bench_lib.sh

if [ "$MODE" = ttft ]; then
  TTFT_REQUESTS=${TTFT_REQUESTS:-300}
  TTFT_WARMUP=${TTFT_WARMUP:-10}
  PER_ROUND=$(( (TTFT_REQUESTS + ROUNDS - 1) / ROUNDS ))
  FAKE_PORT=$(free_port); PROXY_PORT=$(free_port); NGINX_PORT=$(free_port)
  start_fake "$FAKE_PORT" --ttft 20ms --itl 1ms --tokens 4
  cat > "$WORK/llmproxy.yaml" <<EOF
server:
  listen: "127.0.0.1:$PROXY_PORT"
  workers: 2
log:
  level: warn
backends:
  - name: fake
    url: "http://127.0.0.1:$FAKE_PORT"
EOF
  "$LLMPROXY" serve --config "$WORK/llmproxy.yaml" > "$WORK/llmproxy.log" 2>&1 &
  PIDS+=($!)
  start_nginx "$FAKE_PORT" "$NGINX_PORT" "$NOFILE" 2
  wait_port "$FAKE_PORT"; wait_port "$PROXY_PORT"
  echo "LLMProxy time to first chunk — $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
  echo "backend: fake-openai --ttft 20ms --itl 1ms --tokens 4; llmproxy workers=2; nginx worker_processes=2"
  echo "$ROUNDS interleaved rounds x $PER_ROUND requests per target and client, one keep-alive connection each, after $TTFT_WARMUP warm-up requests"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for round in $(seq "$ROUNDS"); do
    for client in raw node; do
      for target in direct llmproxy nginx; do
        case $target in direct) port=$FAKE_PORT ;; llmproxy) port=$PROXY_PORT ;; nginx) port=$NGINX_PORT ;; esac
        case $client in
          raw) cmd=(python3 bench/ttft_raw.py) ;;
          node) cmd=(node bench/ttft_node.mjs) ;;
        esac
        timeout 300 "${cmd[@]}" "$port" "$PER_ROUND" "$TTFT_WARMUP" "$SBODY" > "$WORK/ttft.out" ||
          { echo "$client client against $target failed"; exit 1; }
        sed "s/^/$round $client $target /" "$WORK/ttft.out" >> "$WORK/ttft.samples"
      done
    done
  done
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  python3 - "$WORK/ttft.samples" <<'PY'
import collections, statistics, sys
samples = collections.defaultdict(list)   # (client, target) -> µs
rounds = collections.defaultdict(list)    # (client, target, round) -> µs
for line in open(sys.argv[1]):
    r, client, target, us = line.split()
    samples[client, target].append(int(us)); rounds[client, target, int(r)].append(int(us))
def p90(xs): return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.9))]
print(f"{'client':6} {'target':9} {'n':>4} {'p50_us':>7} {'p90_us':>7} {'+p50_us':>8} {'+p90_us':>8}  p50 per round")
for client in ("raw", "node"):
    d = samples[client, "direct"]
    for target in ("direct", "llmproxy", "nginx"):
        xs = samples[client, target]
        per_round = " ".join(f"{statistics.median(v):.0f}" for (c, t, _), v in sorted(rounds.items()) if (c, t) == (client, target))
        added = ("-", "-") if target == "direct" else (
            f"{statistics.median(xs) - statistics.median(d):+.0f}", f"{p90(xs) - p90(d):+d}")
        print(f"{client:6} {target:9} {len(xs):4d} {statistics.median(xs):7.0f} {p90(xs):7d} {added[0]:>8} {added[1]:>8}  {per_round}")
PY
  exit 0
fi

FAKE_PORT=$(free_port); PROXY_PORT=$(free_port); NGINX_PORT=$(free_port)
start_fake "$FAKE_PORT"
cat > "$WORK/llmproxy.yaml" <<EOF
server:
  listen: "127.0.0.1:$PROXY_PORT"
  workers: 1
log:
  level: warn
backends:
  - name: fake
    url: "http://127.0.0.1:$FAKE_PORT"
    max_idle_conns: 256
EOF
"$LLMPROXY" serve --config "$WORK/llmproxy.yaml" > "$WORK/llmproxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)

export WRK_KEY=sk-bench-$RANDOM$RANDOM$RANDOM$RANDOM
# The variants: the base config plus one module each.
declare -A VPORT VPID
TARGETS=(llmproxy)
LIMITS='  global: {requests_per_second: 10000000}
  per_key: {requests_per_minute: 1000000000, tokens_per_minute: 100000000000, max_concurrent: 100000}'
start_variant() {  # NAME YAML-TAIL
  local port; port=$(free_port)
  sed "s/127.0.0.1:$PROXY_PORT/127.0.0.1:$port/" "$WORK/llmproxy.yaml" > "$WORK/$1.yaml"
  printf '%s\n' "$2" >> "$WORK/$1.yaml"
  "$LLMPROXY" serve --config "$WORK/$1.yaml" > "$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  VPORT[$1]=$port; VPID[$1]=$!
  TARGETS+=("$1")
}
VPORT[llmproxy]=$PROXY_PORT; VPID[llmproxy]=$PROXY_PID
if [ "$VARIANTS" = 1 ]; then
  start_variant llmp+rt "  - {name: spare, url: \"http://127.0.0.1:$FAKE_PORT/\", max_idle_conns: 256}
routing:
  retry: {enabled: true, max_retries: 2, initial_wait: 10ms, max_wait: 100ms}
  fallback: [{primary: fake, fallback: [spare]}]
  circuit_breaker: {enabled: true}
health_check: {enabled: true, interval: 1s, timeout: 1s}"
  start_variant llmp+mem "rate_limit:
  enabled: true
$LIMITS"
  start_variant llmp+auth "api_keys: [{key: \"$WRK_KEY\", name: bench}]
rate_limit:
  enabled: true
$LIMITS"
  start_variant llmp+keys "admin: {enabled: true, token: bench-token, db_path: \"$WORK/keys.db\"}
auth:
  enabled: true
  cache_ttl: 60s
  pipeline: [{name: managed, type: builtin}]
rate_limit:
  enabled: true
$LIMITS"
  start_variant llmp+quota "admin: {db_path: \"$WORK/quota.db\"}
api_keys: [{key: \"$WRK_KEY\", name: bench, total_quota: 1000000000000}]
rate_limit:
  enabled: true
$LIMITS"
  if command -v redis-server >/dev/null; then
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
      --logfile "$WORK/redis.log" &
    PIDS+=($!)
    wait_port "$REDIS_PORT"
    start_variant llmp+redis "storage:
  caches: [{name: rl, driver: redis, addr: \"127.0.0.1:$REDIS_PORT\"}]
rate_limit:
  enabled: true
  storage: rl
$LIMITS"
  fi
fi
start_nginx "$FAKE_PORT" "$NGINX_PORT" "$NOFILE"
wait_port "$FAKE_PORT"; wait_port "$PROXY_PORT"
for t in "${TARGETS[@]}"; do wait_port "${VPORT[$t]}"; done
if [ -n "${VPORT[llmp+keys]:-}" ]; then  # the benchmark's key in the admin key store
  curl -sS -f -o /dev/null "http://127.0.0.1:${VPORT[llmp+keys]}/admin/keys/create" \
    -H "Authorization: Bearer bench-token" -d "{\"key\":\"$WRK_KEY\",\"name\":\"bench\"}"
fi

sub() { python3 -c "print(f'{$1-($2):+.3f}')"; }

echo "LLMProxy end-to-end benchmark — $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), ${DURATION}s per run"
echo "backend: fake-openai (ttft 0, itl 0, 16 tokens); llmproxy workers=1; nginx worker_processes=1; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu_us/req: CPU time of the process under test per request (direct: the backend; llmproxy/nginx: the proxy alone)"
echo
printf "%-10s %-10s %5s %9s %9s %9s %9s %9s %7s %10s\n" mode target conc rps p50_ms p99_ms +p50_ms +p99_ms errors cpu_us/req
RSS_IDLE=$(rss_kb $PROXY_PID)
NGINX_RSS_IDLE=$(( $(rss_kb "$NGINX_MASTER") + $(rss_kb "$NGINX_WORKER") ))
CPU0=$(cpu_ticks $PROXY_PID)
# With ROUNDS > 1 every cell is run ROUNDS times, the targets interleaved
# (direct, llmproxy, …, nginx, then again), and the table shows each
# column's median (errors: the sum), so a noisy moment on the shared machine
# hits every target alike instead of deciding one cell.
median_of() {
  python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
cols = list(zip(*rows))
fmt = ["{:.0f}", "{:.3f}", "{:.3f}", "{:.0f}", "{:.1f}"]
out = [fmt[i].format(sum(map(float, c)) if i == 3 else statistics.median(map(float, c))) for i, c in enumerate(cols)]
print(" ".join(out))'
}
[ "$ROUNDS" -gt 1 ] && echo "each cell: median of $ROUNDS interleaved runs (errors: sum)"
for mode in nonstream stream; do
  body=$BODY; if [ $mode = stream ]; then body=$SBODY; fi
  for conc in 1 64; do
    unset CELL; declare -A CELL=()
    for _ in $(seq "$ROUNDS"); do
      CELL[direct]+="$(run "$FAKE_PORT" "$conc" "$body" "$FAKE_PID")"$'\n'
      for target in "${TARGETS[@]}" nginx; do
        if [ $target = nginx ]; then port=$NGINX_PORT; pid=$NGINX_WORKER; else port=${VPORT[$target]}; pid=${VPID[$target]}; fi
        CELL[$target]+="$(run "$port" "$conc" "$body" "$pid")"$'\n'
      done
    done
    read -r d_rps d_p50 d_p99 d_err d_cpu < <(printf "%s" "${CELL[direct]}" | median_of)
    printf "%-10s %-10s %5d %9s %9s %9s %9s %9s %7s %10s\n" $mode direct "$conc" "$d_rps" "$d_p50" "$d_p99" - - "$d_err" "$d_cpu"
    for target in "${TARGETS[@]}" nginx; do
      read -r rps p50 p99 err cpu < <(printf "%s" "${CELL[$target]}" | median_of)
      printf "%-10s %-10s %5d %9s %9s %9s %9s %9s %7s %10s\n" $mode $target "$conc" "$rps" "$p50" "$p99" \
        "$(sub "$p50" "$d_p50")" "$(sub "$p99" "$d_p99")" "$err" "$cpu"
    done
  done
done
CPU1=$(cpu_ticks $PROXY_PID)
RSS_AFTER=$(rss_kb $PROXY_PID)
echo
echo "llmproxy RSS idle: $((RSS_IDLE / 1024)) MB ($RSS_IDLE kB); after the runs: $((RSS_AFTER / 1024)) MB; peak: $(( $(hwm_kb $PROXY_PID) / 1024 )) MB; CPU during the runs: $(( (CPU1 - CPU0) / CLK_TCK )) s"
echo "nginx RSS idle (master + worker): $((NGINX_RSS_IDLE / 1024)) MB"

# Time to the first SSE chunk of a stream, on one keep-alive connection:
# median and p99 of 1000 sequential requests after 50 warm-up ones.
ttfb() {
  python3 - "$1" "$SBODY" <<'PY'
import socket, sys, time, statistics
port, body = int(sys.argv[1]), sys.argv[2].encode()
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def recv_more(buf):
    b = s.recv(65536)
    if not b: raise SystemExit("connection closed mid-response")
    return buf + b
samples = []
for i in range(1050):
    t0 = time.perf_counter(); s.sendall(req)
    buf = b""
    while b"data: " not in buf: buf = recv_more(buf)
    if i >= 50: samples.append(time.perf_counter() - t0)
    while b"[DONE]" not in buf: buf = recv_more(buf)
    while not buf.endswith(b"0\r\n\r\n"): buf = recv_more(buf)
samples.sort()
print(f"{statistics.median(samples) * 1e6:.0f} {samples[int(len(samples) * 0.99)] * 1e6:.0f}")
PY
}
read -r T_DIRECT T_DIRECT99 < <(ttfb "$FAKE_PORT")
read -r T_PROXY T_PROXY99 < <(ttfb "$PROXY_PORT")
read -r T_NGINX T_NGINX99 < <(ttfb "$NGINX_PORT")
echo "time to first SSE chunk, µs (median / p99): direct $T_DIRECT / $T_DIRECT99;" \
     "llmproxy $T_PROXY / $T_PROXY99 (+$((T_PROXY - T_DIRECT)) median);" \
     "nginx $T_NGINX / $T_NGINX99 (+$((T_NGINX - T_DIRECT)) median)"

# RSS holding N streams that stay open: each gets its head and first token,
# then the backend waits 600 s before the next one. Every stream is checked
# to have started before the RSS is read.
idle_streams() {  # PORT N PID... -> "started rss_kb"
  python3 - "$@" <<'PY'
import socket, sys, time
port, n, pids = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
body = b'{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"idle"}]}'
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"x-fake-fault: itl=600s,tokens=2\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
socks = []
deadline = time.monotonic() + 120
for _ in range(n):
    if time.monotonic() > deadline: break
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10); s.sendall(req); socks.append(s)
    except OSError:
        break
started = 0
for s in socks:
    buf = b""
    try:
        s.settimeout(max(0.1, deadline + 30 - time.monotonic()))
        while b"data: " not in buf:
            b = s.recv(65536)
            if not b: break
            buf += b
    except OSError:
        pass
    if buf.startswith(b"HTTP/1.1 200") and b"data: " in buf: started += 1
time.sleep(2)
rss = 0
for pid in pids:
    rss += int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])
print(started, rss)
for s in socks: s.close()
PY
}
if [ "$IDLE_STREAMS" -gt 0 ]; then
  read -r started rss < <(idle_streams "$PROXY_PORT" "$IDLE_STREAMS" "$PROXY_PID")
  echo "llmproxy RSS holding $started/$IDLE_STREAMS started idle streams: $((rss / 1024)) MB ($rss kB)"
  sleep 2  # let both sides notice the closes
  read -r started rss < <(idle_streams "$NGINX_PORT" "$IDLE_STREAMS" "$NGINX_MASTER" "$NGINX_WORKER")
  echo "nginx RSS (master + worker) holding $started/$IDLE_STREAMS started idle streams: $((rss / 1024)) MB ($rss kB)"
  echo "llmproxy RSS at the end: $(( $(rss_kb $PROXY_PID) / 1024 )) MB; peak: $(( $(hwm_kb $PROXY_PID) / 1024 )) MB"
fi
