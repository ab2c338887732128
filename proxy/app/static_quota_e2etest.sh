#!/usr/bin/env bash
# End-to-end test of quotas on static keys (top-level api_keys) on the real
# binary: two instances of 2 workers on one SQLite file (admin.db_path,
# admin itself off), where what static keys use is counted:
#   - the count starts at the config's used_quota and is made in the
#     database at the key's first request; requests one at a time,
#     alternating between the instances, are let in exactly while the
#     stored count is under total_quota (auth.quota_check exact), then
#     429 quota_exceeded; a key without a quota is never counted;
#   - the count equals the config's used_quota plus the tokens the clients
#     were told they used;
#   - after both stop (SIGTERM), a new instance still refuses the key: the
#     count outlives restarts; deleting the key's row starts it again.
#   static_quota_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir static-quota-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy logs"; cat "$WORK"/proxy*.log 2>/dev/null || true; exit 1; }

start_fake fake --tokens 5
CAPPED=sk-static-capped-$RANDOM$RANDOM
OPEN=sk-static-open-$RANDOM$RANDOM
QUOTA=40
SEED=6
write_config() {  # write_config FILE PORT
  cat > "$1" <<EOF2
server: {listen: "127.0.0.1:$2", workers: 2}
admin: {db_path: "$WORK/keys.db"}
auth: {cache_ttl: 10s}
api_keys:
  - {key: "$CAPPED", name: capped, total_quota: $QUOTA, used_quota: $SEED, quota_reset_period: monthly}
  - {key: "$OPEN", name: open}
backends:
  - {name: fake, url: "http://127.0.0.1:$PORT_fake"}
EOF2
}
GW_PORT=$(free_port); GW2_PORT=$(free_port)
write_config "$WORK/gw.yaml" "$GW_PORT"
write_config "$WORK/gw2.yaml" "$GW2_PORT"
start_gateway proxy "$WORK/gw.yaml"; PROXY_PID=$GATEWAY_PID
start_gateway proxy2 "$WORK/gw2.yaml"; PROXY2_PID=$GATEWAY_PID
GW="http://127.0.0.1:$GW_PORT"
GW2="http://127.0.0.1:$GW2_PORT"

# counted KEY → the key's used_quota in the database ("none": no row yet).
counted() {
  python3 - "$WORK/keys.db" "$1" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT used_quota FROM llmproxy_static_key_usage WHERE key_hash = ?",
                 (hashlib.sha256(sys.argv[2].encode()).hexdigest(),)).fetchone()
print(row[0] if row else "none")
PY
}

[ "$(counted "$CAPPED")" = none ] || fail "a row before any request: $(counted "$CAPPED")"
used=$SEED
for i in $(seq 12); do
  on=$GW; [ $((i % 2)) = 0 ] && on=$GW2
  code=$(keyed_chat "$on" "$CAPPED")
  if [ "$used" -lt "$QUOTA" ]; then
    [ "$code" = 200 ] || fail "request $i with $used of $QUOTA used on $on: $code $(cat "$WORK/out")"
    used=$((used + $(tokens_seen)))
    for _ in $(seq 200); do [ "$(counted "$CAPPED")" = "$used" ] && break; sleep 0.01; done
    [ "$(counted "$CAPPED")" = "$used" ] || fail "after request $i the database counts $(counted "$CAPPED"), the clients $used"
  else
    [ "$code" = 429 ] && grep -q '"code":"quota_exceeded"' "$WORK/out" ||
      fail "request $i with $used of $QUOTA used on $on: $code $(cat "$WORK/out")"
  fi
done
[ "$used" -ge "$QUOTA" ] || fail "the quota was never crossed ($used)"
for on in "$GW" "$GW2"; do
  [ "$(keyed_chat "$on" "$OPEN")" = 200 ] || fail "the open key on $on: $(cat "$WORK/out")"
done
[ "$(counted "$OPEN")" = none ] || fail "a key without a quota was counted: $(counted "$OPEN")"

kill -TERM "$PROXY_PID" "$PROXY2_PID"
wait "$PROXY_PID" || fail "serve did not exit cleanly"
wait "$PROXY2_PID" || fail "the second serve did not exit cleanly"
[ "$(counted "$CAPPED")" = "$used" ] || fail "after shutdown the database counts $(counted "$CAPPED"), the clients $used"

# A restart keeps the count; deleting the row starts it again.
GW3_PORT=$(free_port)
write_config "$WORK/gw3.yaml" "$GW3_PORT"
start_gateway proxy3 "$WORK/gw3.yaml"
GW3="http://127.0.0.1:$GW3_PORT"
code=$(keyed_chat "$GW3" "$CAPPED")
[ "$code" = 429 ] || fail "after a restart the exhausted key got $code $(cat "$WORK/out")"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM llmproxy_static_key_usage"); c.commit()' "$WORK/keys.db"
code=$(keyed_chat "$GW3" "$CAPPED")
[ "$code" = 200 ] || fail "with its row deleted the key got $code $(cat "$WORK/out")"
for _ in $(seq 200); do [ "$(counted "$CAPPED")" = "$((SEED + $(tokens_seen)))" ] && break; sleep 0.01; done
[ "$(counted "$CAPPED")" = "$((SEED + $(tokens_seen)))" ] || fail "a new count: $(counted "$CAPPED")"
grep -q "$CAPPED\|$OPEN" "$WORK"/proxy*.log && fail "a key is in the log"
echo "static quota e2e: api_keys quotas counted in the database from used_quota, exact across two instances, kept across a restart: pass"
