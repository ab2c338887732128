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

# start_fake PORT: the backend answers at once (ttft = itl = 0), so what is
# measured is the cost of the hop, not of generation. Sets FAKE_PID.
start_fake() {
  "$FAKE" --listen 127.0.0.1:"$1" --ttft 0ms --itl 0ms --tokens 16 --seed 1 > "$WORK/fake.log" 2>&1 &
  FAKE_PID=$!
  PIDS+=("$FAKE_PID")
}

# start_nginx FAKE_PORT NGINX_PORT NOFILE: nginx with proxy_pass and upstream
# keep-alive, buffering off, one worker. Sets NGINX_MASTER and NGINX_WORKER
# once the port answers.
start_nginx() {
  local nginx; nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx" ] || { echo "nginx missing: scripts/install-deps"; exit 2; }
  mkdir -p "$WORK/nginx-tmp"
  cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
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

# The requests wrk sends (WRK_BODY picks one), through $WORK/post.lua.
BODY='{"model":"fake-model","messages":[{"role":"user","content":"hello benchmark"}]}'
SBODY='{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hello benchmark"}]}'
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("WRK_BODY")
LUA
