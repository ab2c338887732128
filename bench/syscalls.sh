#!/usr/bin/env bash
# System calls per request, llmproxy beside nginx: wrk drives each proxy (in
# front of fake-openai) while `perf trace -s` counts the proxy worker's
# system calls; the counts are divided by the requests wrk completed. perf
# tracing slows the traced process a lot, so only the counts mean anything
# here, not the rates (use bench/e2e.sh for those).
#
#   bench/syscalls.sh                    # concurrency 1 and 64, non-stream and stream
#   BUILD_DIR=build-x DURATION=3 bench/syscalls.sh
# Needs perf (Debian: linux-perf) with access to syscall tracepoints (root).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
DURATION=${DURATION:-3}
LLMPROXY="$BUILD_DIR/proxy/app/llmproxy"
FAKE="$BUILD_DIR/fake_backends/fake-openai"
for b in "$LLMPROXY" "$FAKE"; do [ -x "$b" ] || { echo "missing $b (see bench/e2e.sh)"; exit 2; }; done
command -v perf >/dev/null || { echo "perf missing (apt-get install linux-perf)"; exit 2; }
command -v wrk >/dev/null || { echo "wrk missing: scripts/install-deps"; exit 2; }
. bench/bench_lib.sh

FAKE_PORT=$(free_port); PROXY_PORT=$(free_port); NGINX_PORT=$(free_port)
start_fake "$FAKE_PORT"
cat > "$WORK/llmproxy.yaml" <<YAML
server: {listen: "127.0.0.1:$PROXY_PORT", workers: 1}
log: {level: warn}
backends: [{name: fake, url: "http://127.0.0.1:$FAKE_PORT", max_idle_conns: 256}]
YAML
"$LLMPROXY" serve --config "$WORK/llmproxy.yaml" > "$WORK/llmproxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
start_nginx "$FAKE_PORT" "$NGINX_PORT" 4096
wait_port "$FAKE_PORT"; wait_port "$PROXY_PORT"

# count PORT PID CONNS BODY -> "total per-syscall..." (per request)
count() {
  local port=$1 pid=$2 conns=$3 body=$4 threads=1
  [ "$conns" -gt 1 ] && threads=2
  perf trace -s -p "$pid" -o "$WORK/trace.txt" 2>/dev/null &
  local tracer=$!
  sleep 0.5
  WRK_BODY=$body wrk -t"$threads" -c"$conns" -d"${DURATION}s" -s "$WORK/post.lua" \
    "http://127.0.0.1:$port/v1/chat/completions" > "$WORK/wrk.out" 2>&1
  kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
  local n; n=$(grep -oP '\d+(?= requests in)' "$WORK/wrk.out" || echo 0)
  awk -v n="$n" '$2 ~ /^[0-9]+$/ && $1 ~ /^[a-z_0-9]+$/ { c[$1] += $2; e[$1] += $3; t += $2 }
    END { if (n == 0) { print "no requests"; exit }
          printf "%5.1f  ", t / n
          for (s in c) if (c[s] / n >= 0.05) printf "%s %.2f%s  ", s, c[s] / n, (e[s] > 0 ? sprintf(" (%.2f failed)", e[s] / n) : "")
          print "" }' "$WORK/trace.txt"
}

echo "system calls per request (perf trace -s on the proxy's worker; fake-openai ttft 0, itl 0, 16 tokens)"
printf "%-10s %-9s %4s  %s\n" mode proxy conc "total  by call"
for mode in nonstream stream; do
  body=$BODY; [ "$mode" = stream ] && body=$SBODY
  for conns in 1 64; do
    printf "%-10s %-9s %4s  %s\n" "$mode" llmproxy "$conns" "$(count "$PROXY_PORT" "$PROXY_PID" "$conns" "$body")"
    printf "%-10s %-9s %4s  %s\n" "$mode" nginx "$conns" "$(count "$NGINX_PORT" "$NGINX_WORKER" "$conns" "$body")"
  done
done
