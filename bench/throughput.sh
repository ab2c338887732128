#!/usr/bin/env bash
# Throughput against nginx as a new user would compare them (issue #12 item
# 10): llmproxy with its default `workers` (one per core) and nginx 1.22 with
# 2 worker processes (proxy_pass, upstream keep-alive, buffering off), both
# in front of the same static backend (a second nginx answering every POST
# with one fixed chat-completion JSON, so the backend costs little and the
# proxies' own CPU decides the result). wrk POST at concurrency 64 and 1,
# ROUNDS interleaved rounds of DURATION-second cells, medians. Prints
# requests/s, p50, added p50 over direct (concurrency 1) and the proxy's CPU
# per request (all its processes and threads).
#
#   bench/throughput.sh                      # 3 rounds of 5 s cells
#   ROUNDS=5 DURATION=3 bench/throughput.sh
#   LLMPROXY=old/llmproxy bench/throughput.sh  # another binary
# Everything shares the machine's cores with wrk and the backend: rank only
# by interleaved medians, and read the load average printed at the start.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
LLMPROXY=${LLMPROXY:-build-bench/proxy/app/llmproxy}
FAKE=${FAKE:-build-bench/fake_backends/fake-openai}  # bench_lib.sh wants it; unused here
[ -x "$LLMPROXY" ] || { echo "missing $LLMPROXY (see bench/e2e.sh)"; exit 2; }
command -v wrk >/dev/null || { echo "wrk missing: scripts/install-deps"; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
. bench/bench_lib.sh

# The static backend: its own nginx (2 workers), one fixed JSON answer.
BACKEND_PORT=$(free_port)
mkdir -p "$WORK/backend/tmp"
cat > "$WORK/backend/nginx.conf" <<NGX
worker_processes 2;
pid $WORK/backend/nginx.pid;
error_log $WORK/backend/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/backend/tmp/body;
  proxy_temp_path $WORK/backend/tmp/proxy;
  fastcgi_temp_path $WORK/backend/tmp/fastcgi;
  uwsgi_temp_path $WORK/backend/tmp/uwsgi;
  scgi_temp_path $WORK/backend/tmp/scgi;
  server {
    listen 127.0.0.1:$BACKEND_PORT;
    keepalive_requests 1000000;
    location / {
      default_type application/json;
      return 200 '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"fake-model","choices":[{"index":0,"message":{"role":"assistant","content":"hello from the static backend"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}';
    }
  }
}
NGX
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -e "$WORK/backend/error.log" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" -g 'daemon on;'
wait_port "$BACKEND_PORT"
backend_cleanup() { [ -f "$WORK/backend/nginx.pid" ] && stop_pid "$(cat "$WORK/backend/nginx.pid")"; bench_cleanup; }
trap backend_cleanup EXIT

PROXY_PORT=$(free_port)
cat > "$WORK/llmproxy.yaml" <<YAML
server: {listen: "127.0.0.1:$PROXY_PORT"}
log: {level: warn}
backends: [{name: static, url: "http://127.0.0.1:$BACKEND_PORT", max_idle_conns: 256}]
YAML
"$LLMPROXY" serve --config "$WORK/llmproxy.yaml" > "$WORK/llmproxy.log" 2>&1 &
LLMP_PID=$!
PIDS+=("$LLMP_PID")
wait_port "$PROXY_PORT"

NGINX_PORT=$(free_port)
start_nginx "$BACKEND_PORT" "$NGINX_PORT" "$NOFILE" 2

# CPU of a proxy: llmproxy is one process (its threads are summed by
# /proc/PID/stat); nginx is its master plus every worker.
proxy_ticks() {
  case $1 in
    llmproxy) cpu_ticks "$LLMP_PID" ;;
    nginx) local t=0 p; for p in "$NGINX_MASTER" $(pgrep -P "$NGINX_MASTER"); do
             t=$((t + $(cpu_ticks "$p"))); done; echo "$t" ;;
    direct) echo 0 ;;
  esac
}
port_of() { case $1 in llmproxy) echo "$PROXY_PORT" ;; nginx) echo "$NGINX_PORT" ;; direct) echo "$BACKEND_PORT" ;; esac; }

# cell TARGET CONNS -> "rps p50_ms cpu_us_per_request"
cell() {
  local threads=1; [ "$2" -gt 1 ] && threads=2
  local c0; c0=$(proxy_ticks "$1")
  WRK_BODY=$BODY timeout $((DURATION + 30)) wrk -t"$threads" -c"$2" -d"${DURATION}s" --timeout 5s \
    --latency -s "$WORK/post.lua" "http://127.0.0.1:$(port_of "$1")/v1/chat/completions" > "$WORK/wrk.out" 2>&1 || true
  local c1; c1=$(proxy_ticks "$1")
  python3 - "$WORK/wrk.out" "$((c1 - c0))" "$CLK_TCK" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
ticks, hz = int(sys.argv[2]), int(sys.argv[3])
def ms(v):
    n, u = re.match(r"([\d.]+)([a-z]+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[u]
n = int(re.search(r"(\d+) requests in", t).group(1))
bad = int(re.search(r"Non-2xx or 3xx responses: (\d+)", t).group(1)) if "Non-2xx" in t else 0
if bad: sys.exit(f"{bad} non-2xx responses")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1))
print(f"{rps:.0f} {p50:.3f} {ticks / hz * 1e6 / n:.1f}")
PY
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds of ${DURATION}s cells"
for conns in 64 1; do
  for target in direct llmproxy nginx; do : > "$WORK/res.$target.$conns"; done
done
for round in $(seq "$ROUNDS"); do
  for conns in 64 1; do
    for target in direct llmproxy nginx; do
      r=$(cell "$target" "$conns")
      echo "round $round c=$conns $target: $r"
      echo "$r" >> "$WORK/res.$target.$conns"
    done
  done
done

python3 - "$WORK" <<'PY'
import statistics, sys
work = sys.argv[1]
def med(target, conns, col):
    rows = [l.split() for l in open(f"{work}/res.{target}.{conns}") if l.strip()]
    return statistics.median(float(r[col]) for r in rows)
print()
print("| cell | direct | llmproxy | nginx | llmproxy / nginx |")
print("|---|---|---|---|---|")
for conns in (64, 1):
    d, l, n = (med(t, conns, 0) for t in ("direct", "llmproxy", "nginx"))
    print(f"| c={conns} requests/s | {d:.0f} | {l:.0f} | {n:.0f} | {l / n:.2f}x |")
    d, l, n = (med(t, conns, 2) for t in ("direct", "llmproxy", "nginx"))
    print(f"| c={conns} proxy CPU µs/request | - | {l:.1f} | {n:.1f} | {l / n:.2f}x |")
d, l, n = (med(t, 1, 1) * 1000 for t in ("direct", "llmproxy", "nginx"))
print(f"| c=1 p50 µs (added over direct) | {d:.0f} | {l:.0f} (+{l - d:.0f}) | {n:.0f} (+{n - d:.0f}) | |")
PY
