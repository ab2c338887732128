# Shared by the end-to-end benchmark scripts (bench/e2e.sh, bench/syscalls.sh):
# a work dir with bounded cleanup, loopback ports, the fake backend, nginx as
# the reference proxy, and the wrk request bodies. Source it after `cd` to
# the repository root and after setting FAKE (the fake-openai binary).

# The work dir; nginx workers run as an unprivileged user when started as root.
WORK=$(mktemp -d /tmp/llmproxy-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()  # processes to stop at exit
stop_pid() {  # TERM, then KILL after 5 s: the exit path is bounded too
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
bench_cleanup() {
  [ -f "$WORK/nginx.pid" ] && stop_pid "$(cat "$WORK/nginx.pid")"
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }

# start_fake PORT [FAKE-OPENAI OPTIONS]: by default the backend answers at
# once (ttft = itl = 0), so what is measured is the cost of the hop, not of
# generation; options given replace those defaults. Sets FAKE_PID.
start_fake() {
  local port=$1; shift
  [ $# -gt 0 ] || set -- --ttft 0ms --itl 0ms --tokens 16
  "$FAKE" --listen 127.0.0.1:"$port" "$@" --seed 1 > "$WORK/fake.log" 2>&1 &
  FAKE_PID=$!
  PIDS+=("$FAKE_PID")
}

# start_nginx FAKE_PORT NGINX_PORT NOFILE [WORKERS]: nginx with proxy_pass and
# upstream keep-alive, buffering off, WORKERS worker processes (default 1).
# Sets NGINX_MASTER and NGINX_WORKER (the first worker) once the port answers.
start_nginx() {
  local nginx; nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx" ] || { echo "nginx missing: scripts/install-deps"; exit 2; }
  mkdir -p "$WORK/nginx-tmp"
  cat > "$WORK/nginx.conf" <<NGX
worker_processes ${4:-1};
worker_rlimit_nofile $3;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections $3; }  # an idle stream holds two
http {
  access_log off;
  # Every temp path explicitly, so nginx never reaches for /var/lib/nginx.
  client_body_temp_path $WORK/nginx-tmp/body;
  proxy_temp_path $WORK/nginx-tmp/proxy;
  fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
  scgi_temp_path $WORK/nginx-tmp/scgi;
  upstream fake { server 127.0.0.1:$1; keepalive 256; }
  server {
    listen 127.0.0.1:$2;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3600s;
    }
  }
}
NGX
  "$nginx" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon on;'
  wait_port "$2"
  NGINX_MASTER=$(cat "$WORK/nginx.pid")
  NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -1)
}

# The requests wrk sends (WRK_BODY picks one), through $WORK/post.lua;
# with WRK_KEY set, each carries it as `Authorization: Bearer`.
BODY='{"model":"fake-model","messages":[{"role":"user","content":"hello benchmark"}]}'
SBODY='{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hello benchmark"}]}'
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("WRK_BODY")
if os.getenv("WRK_KEY") then wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_KEY") end
LUA

# Process readings and one wrk cell (needs DURATION).
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# cpu_ticks PID[,PID…]: user + system ticks, summed over the processes
# (a process's threads are in its own line; nginx's workers are processes).
cpu_ticks() {
  local t=0 p
  for p in ${1//,/ }; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# run PORT CONNS BODY PIDS -> "rps p50_ms p99_ms errors cpu_us_per_request"
# PIDS (comma-separated) are the processes whose CPU the hop costs (the
# backend itself for direct; "" counts nothing).
run() {
  local port=$1 conns=$2 body=$3 pid=$4 threads=1
  if [ "$conns" -gt 1 ]; then threads=2; fi
  local c0; c0=$(cpu_ticks "$pid")
  WRK_BODY=$body timeout $((DURATION + 30)) wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 5s \
    --latency -s "$WORK/post.lua" "http://127.0.0.1:$port/v1/chat/completions" > "$WORK/wrk.out" 2>&1 || true
  local c1; c1=$(cpu_ticks "$pid")
  cat "$WORK/wrk.out" >> "$WORK/wrk-all.out"
  python3 - "$WORK/wrk.out" "$((c1 - c0))" "$CLK_TCK" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
ticks, hz = int(sys.argv[2]), int(sys.argv[3])
def ms(v):
    n, u = re.match(r"([\d.]+)([a-z]+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}[u]
total = re.search(r"(\d+) requests in", t)
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p50 = re.search(r"\s50%\s+(\S+)", t)
p99 = re.search(r"\s99%\s+(\S+)", t)
errs = int(re.search(r"Non-2xx or 3xx responses: (\d+)", t).group(1)) if "Non-2xx" in t else 0
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
if sock: errs += sum(int(x) for x in sock.groups())
n = int(total.group(1)) if total else 0
cpu_us = ticks / hz * 1e6 / n if n else 0
print(f"{float(rps.group(1)) if rps else 0:.0f} {ms(p50.group(1)) if p50 else 0:.3f} "
      f"{ms(p99.group(1)) if p99 else 0:.3f} {errs} {cpu_us:.1f}")
PY
}
