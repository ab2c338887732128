# Starts the real services integration tests need, each on a free loopback
# port in a temp dir, and exports where they are (LLMPROXY_TEST_REDIS=host:port).
# Sourced by scripts/test. A service whose binary is missing is reported and
# skipped; tests that need it then fail with a clear message.

_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

services_start() {
  SERVICES_DIR=$(mktemp -d /tmp/llmproxy-services.XXXXXX)
  export SERVICES_DIR
  if command -v redis-server >/dev/null; then
    local port; port=$(_free_port)
    redis-server --port "$port" --bind 127.0.0.1 --dir "$SERVICES_DIR" \
      --save "" --appendonly no --daemonize yes \
      --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
    for _ in $(seq 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    export LLMPROXY_TEST_REDIS="127.0.0.1:$port"
    echo "services: redis-server on $LLMPROXY_TEST_REDIS"
  else
    echo "services: redis-server not installed (run scripts/install-deps)"
  fi
}

services_stop() {
  [ -n "${SERVICES_DIR:-}" ] || return 0
  if [ -f "$SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$SERVICES_DIR"
}
