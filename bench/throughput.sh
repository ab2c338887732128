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

# Whose CPU a cell counts: llmproxy is one process (its threads are summed
# by /proc/PID/stat); nginx is its master plus every worker; direct, none.
proxy_pids() {
  case $1 in
    llmproxy) echo "$LLMP_PID" ;;
    nginx) echo "$NGINX_MASTER,$(pgrep -P "$NGINX_MASTER" | paste -sd,)" ;;
    direct) echo "" ;;
  esac
}
port_of() { case $1 in llmproxy) echo "$PROXY_PORT" ;; nginx) echo "$NGINX_PORT" ;; direct) echo "$BACKEND_PORT" ;; esac; }

# cell TARGET CONNS -> "rps p50_ms p99_ms errors cpu_us_per_request" (bench_lib's run);
# a cell with any error stops the run: its numbers would not compare.
cell() {
  local r; r=$(run "$(port_of "$1")" "$2" "$BODY" "$(proxy_pids "$1")")
  [ "$(cut -d' ' -f4 <<<"$r")" = 0 ] || { echo "$1 c=$2: errors: $r" >&2; exit 1; }
  echo "$r"
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
    d, l, n = (med(t, conns, 4) for t in ("direct", "llmproxy", "nginx"))
    print(f"| c={conns} proxy CPU µs/request | - | {l:.1f} | {n:.1f} | {l / n:.2f}x |")
d, l, n = (med(t, 1, 1) * 1000 for t in ("direct", "llmproxy", "nginx"))
print(f"| c=1 p50 µs (added over direct) | {d:.0f} | {l:.0f} (+{l - d:.0f}) | {n:.0f} (+{n - d:.0f}) | |")
PY
