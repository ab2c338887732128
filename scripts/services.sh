# Starts the real services integration tests need, each on a free loopback
# port in a temp dir, and exports where they are: LLMPROXY_TEST_REDIS
# (host:port), LLMPROXY_TEST_POSTGRES and LLMPROXY_TEST_MYSQL (dsn).
# Sourced by scripts/test. A service whose binary is missing is reported and
# skipped; tests that need it then fail with a clear message.

_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

services_start() {
  SERVICES_DIR=$(mktemp -d /tmp/llmproxy-services.XXXXXX)
  chmod 755 "$SERVICES_DIR"  # the postgres user must reach its data dir
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
  _start_postgres
  _start_mariadb
}

# Runs a command as the unprivileged `postgres` user when we are root
# (PostgreSQL refuses to run as root), as ourselves otherwise.
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_start_postgres() {
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "services: postgresql not installed (run scripts/install-deps)"
    return 0
  fi
  local dir="$SERVICES_DIR/pg" port; port=$(_free_port)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  _as_pg "$bin/initdb" -D "$dir/data" -U llmproxy --auth=trust -E UTF8 > "$SERVICES_DIR/pg-initdb.log" 2>&1 \
    || { echo "services: initdb failed:"; cat "$SERVICES_DIR/pg-initdb.log"; return 0; }
  _as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start > /dev/null \
    || { echo "services: postgres did not start:"; cat "$dir/pg.log"; return 0; }
  PG_CTL="$bin/pg_ctl"
  export LLMPROXY_TEST_POSTGRES="host=127.0.0.1 port=$port user=llmproxy dbname=postgres"
  echo "services: postgres on 127.0.0.1:$port"
}

_start_mariadb() {
  local mariadbd; mariadbd=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
  if [ -z "$mariadbd" ] || ! command -v mariadb-install-db >/dev/null; then
    echo "services: mariadb-server not installed (run scripts/install-deps)"
    return 0
  fi
  local dir="$SERVICES_DIR/mariadb" port; port=$(_free_port)
  mkdir -p "$dir/data"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db > "$SERVICES_DIR/mariadb-install.log" 2>&1 \
    || { echo "services: mariadb-install-db failed:"; cat "$SERVICES_DIR/mariadb-install.log"; return 0; }
  # Tests connect as root over TCP; grant tables would refuse root@127.0.0.1
  # on some installs, and nothing but this test run can reach the port.
  "$mariadbd" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" --port="$port" \
    --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$dir/mysqld.pid" --skip-grant-tables \
    --innodb-flush-log-at-trx-commit=0 --log-error="$dir/error.log" > /dev/null 2>&1 &
  for _ in $(seq 100); do
    mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -e 'CREATE DATABASE IF NOT EXISTS llmproxy_test' \
      > /dev/null 2>&1 && break
    sleep 0.2
  done
  export LLMPROXY_TEST_MYSQL="mysql://root@127.0.0.1:$port/llmproxy_test"
  echo "services: mariadb on 127.0.0.1:$port"
}

services_stop() {
  [ -n "${SERVICES_DIR:-}" ] || return 0
  if [ -f "$SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
  fi
  if [ -n "${PG_CTL:-}" ]; then
    _as_pg "$PG_CTL" -D "$SERVICES_DIR/pg/data" -m immediate stop > /dev/null 2>&1 || true
  fi
  if [ -f "$SERVICES_DIR/mariadb/mysqld.pid" ]; then
    kill "$(cat "$SERVICES_DIR/mariadb/mysqld.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$SERVICES_DIR/mariadb/mysqld.pid" ] || break; sleep 0.1; done
  fi
  rm -rf "$SERVICES_DIR"
}
