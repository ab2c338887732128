#!/usr/bin/env bash
# End-to-end test of the database auth provider on the real binary, 2
# workers, keys in the operator's own SQLite table (made with the sqlite3
# CLI, as an operator's application would):
#   - a misspelt table stops `serve` at start-up, naming it;
#   - a key in the table is 200, an unknown key 401, a disabled row 403;
#   - a key that tries to be SQL is 401 and the table is intact;
#   - the tokens each response reports add up to the row's used_quota,
#     written while serving and complete after SIGTERM;
#   - no key appears in the log.
#   database_auth_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir database-auth-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK"/proxy.log 2>/dev/null || true; exit 1; }
command -v sqlite3 > /dev/null || fail "sqlite3 is not installed (scripts/install-deps)"

DB="$WORK/users.db"
# The operator's side: waits for a lock the gateway holds instead of failing.
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
KEY="sk-db-e2e-$RANDOM$RANDOM$RANDOM"
OFF="sk-db-off-$RANDOM$RANDOM$RANDOM"
sql <<EOF2
CREATE TABLE customer_keys (
  "key" TEXT PRIMARY KEY, name TEXT, user_id TEXT, status TEXT,
  total_quota INTEGER, used_quota INTEGER, quota_reset_period TEXT, quota_reset_at INTEGER);
INSERT INTO customer_keys ("key", name, user_id, status, total_quota, used_quota)
  VALUES ('$KEY', 'e2e', 'team-a', 'enabled', 1000000, 0),
         ('$OFF', 'off', 'team-b', 'disabled', NULL, NULL);
EOF2

start_fake fake --tokens 5
GW_PORT=$(free_port)
config() {  # config TABLE -> the gateway config on stdout
  cat <<EOF2
server: {listen: "127.0.0.1:$GW_PORT", workers: 2}
storage:
  databases: [{name: users, driver: sqlite, path: "$DB"}]
auth:
  enabled: true
  cache_ttl: 1s
  pipeline:
    - name: customers
      type: database
      database:
        storage: users
        table: $1
        key_column: key
        fields: [name, user_id, status, total_quota, used_quota, quota_reset_period, quota_reset_at]
backends:
  - {name: fake, url: "http://127.0.0.1:$PORT_fake"}
EOF2
}

# A table that is not there: check-config cannot know, serve refuses.
config customer_kyes > "$WORK/typo.yaml"
"$LLMPROXY" check-config "$WORK/typo.yaml" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check-config typo.yaml"; }
if timeout 20 "$LLMPROXY" serve --config "$WORK/typo.yaml" > "$WORK/typo.log" 2>&1; then fail "serve started on a missing table"; fi
grep -q "customer_kyes" "$WORK/typo.log" || fail "the start-up error does not name the table: $(cat "$WORK/typo.log")"

config customer_keys > "$WORK/gw.yaml"
start_gateway proxy "$WORK/gw.yaml"
PROXY_PID=$GATEWAY_PID
GW="http://127.0.0.1:$GW_PORT"

# chat KEY [stream] -> "STATUS" and the body in $WORK/out
chat() { keyed_chat "$GW" "$@"; }
used_in_table() { sql "SELECT COALESCE(used_quota, -1) FROM customer_keys WHERE \"key\" = '$1'"; }

[ "$(chat "$KEY")" = 200 ] || fail "a key in the table: $(cat "$WORK/out")"
expected=$(tokens_seen)
[ "$expected" -gt 0 ] || fail "no usage reported: $(cat "$WORK/out")"
[ "$(chat sk-nobody-has-this)" = 401 ] || fail "unknown key: $(cat "$WORK/out")"
grep -q '"code":"invalid_api_key"' "$WORK/out" || fail "unknown key code: $(cat "$WORK/out")"
[ "$(chat "$OFF")" = 403 ] || fail "disabled row: $(cat "$WORK/out")"
grep -q '"code":"key_disabled"' "$WORK/out" || fail "disabled code: $(cat "$WORK/out")"
for attack in "' OR '1'='1" "x'; DROP TABLE customer_keys; --"; do
  [ "$(chat "$attack")" = 401 ] || fail "a key that tries to be SQL: $(cat "$WORK/out")"
done
[ "$(sql 'SELECT COUNT(*) FROM customer_keys')" = 2 ] || fail "the table changed"

for i in 1 2 3 4; do
  mode=""; [ $((i % 2)) = 0 ] && mode=stream
  [ "$(chat "$KEY" $mode)" = 200 ] || fail "request $i: $(cat "$WORK/out")"
  expected=$((expected + $(tokens_seen)))
done
# Written while serving (the ledger writes after each request).
for _ in $(seq 100); do [ "$(used_in_table "$KEY")" = "$expected" ] && break; sleep 0.02; done
[ "$(used_in_table "$KEY")" = "$expected" ] || fail "used_quota $(used_in_table "$KEY"), the client saw $expected tokens"

# Disabled by the operator's application: refused within cache_ttl (1 s).
sql "UPDATE customer_keys SET status = 'disabled' WHERE \"key\" = '$KEY'"
start=$(date +%s%N); code=200
while [ "$code" = 200 ]; do
  code=$(chat "$KEY")
  [ "$code" = 200 ] && expected=$((expected + $(tokens_seen)))  # still cached as enabled: charged
  [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ] || fail "a disabled row still works after 3 s"
done
[ "$code" = 403 ] || fail "disabled in the table: $code $(cat "$WORK/out")"

kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || fail "serve did not exit cleanly"
[ "$(used_in_table "$KEY")" = "$expected" ] || fail "after shutdown used_quota $(used_in_table "$KEY"), the client saw $expected"
grep -q -e "$KEY" -e "$OFF" "$WORK/proxy.log" "$WORK/typo.log" && fail "a key is in the log"
echo "database auth e2e: keys from the operator's table, 200/401/403, SQL in keys finds nothing, usage written and kept at shutdown: pass"
