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
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/llmproxy-syscalls.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }
FAKE_PORT=$(free_port); PROXY_PORT=$(free_port); NGINX_PORT=$(free_port)

"$FAKE" --listen 127.0.0.1:"$FAKE_PORT" --ttft 0ms --itl 0ms --tokens 16 --seed 1 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
cat > "$WORK/llmproxy.yaml" <<YAML
server: {listen: "127.0.0.1:$PROXY_PORT", workers: 1}
log: {level: warn}
backends: [{name: fake, url: "http://127.0.0.1:$FAKE_PORT", max_idle_conns: 256}]
YAML
"$LLMPROXY" serve --config "$WORK/llmproxy.yaml" > "$WORK/llmproxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
mkdir -p "$WORK/tmp"
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;
  upstream fake { server 127.0.0.1:$FAKE_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://fake; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_buffering off; proxy_request_buffering off;
    }
  }
}
NGX
"$NGINX" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon on;'
wait_port "$FAKE_PORT"; wait_port "$PROXY_PORT"; wait_port "$NGINX_PORT"
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx.pid")" | head -1)

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("WRK_BODY")
LUA
BODY='{"model":"fake-model","messages":[{"role":"user","content":"hello benchmark"}]}'
SBODY='{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hello benchmark"}]}'

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
