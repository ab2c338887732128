#!/usr/bin/env bash
# End-to-end test of keys made through the admin API opening /v1 (the
# builtin auth provider) on the real binary, 2 workers, SQLite key store:
#   - a generated key works at once; an unknown key and no key are 401;
#   - the tokens each response reports (judged from the client's bytes,
#     plain and streamed) add up to the key's used_quota in the store;
#   - a key with a quota of 1 token lets at most one request per worker
#     through, then answers 429 insufficient_quota;
#   - a key disabled through the admin API is refused (403) within
#     auth.cache_ttl;
#   - a second instance on the same key store: the key made through the
#     first works there, its usage adds to the same row, and a disable
#     through the first stops it there within auth.cache_ttl too;
#   - a quota (auth.quota_check exact) lets requests in exactly while the
#     stored count is under it, alternating between the instances;
#   - after SIGTERM the store holds every token (write-behind, nothing
#     lost on a clean shutdown).
# KEY_STORE=postgres or mysql puts the key store in that server's database
# (admin.storage; LLMPROXY_TEST_POSTGRES / LLMPROXY_TEST_MYSQL from
# scripts/services.sh) instead of a SQLite file.
#   builtin_auth_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir builtin-auth-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK"/proxy.log 2>/dev/null || true; exit 1; }

start_fake fake --tokens 5
GW_PORT=$(free_port)
TOKEN="e2e-admin-token-$RANDOM$RANDOM"
case "${KEY_STORE:-sqlite}" in
  sqlite) STORE_YAML="admin: {enabled: true, token: \"$TOKEN\", db_path: \"$WORK/keys.db\"}" ;;
  postgres|mysql)
    var=LLMPROXY_TEST_${KEY_STORE^^}
    [ -n "${!var:-}" ] || fail "$var is not set (scripts/services.sh starts the servers)"
    STORE_YAML="storage: {databases: [{name: keys, driver: $KEY_STORE, dsn: \"${!var}\"}]}
admin: {enabled: true, token: \"$TOKEN\", storage: keys}" ;;
  *) fail "KEY_STORE=$KEY_STORE: sqlite, postgres or mysql" ;;
esac
cat > "$WORK/gw.yaml" <<EOF2
server: {listen: "127.0.0.1:$GW_PORT", workers: 2}
$STORE_YAML
logging: {enabled: true, access: {enabled: true, storage: file, format: json, file: {path: "$WORK/access-$GW_PORT.log"}}}
auth:
  enabled: true
  cache_ttl: 1s
  pipeline:
    - {name: managed, type: builtin}
backends:
  - {name: fake, url: "http://127.0.0.1:$PORT_fake"}
EOF2
start_gateway proxy "$WORK/gw.yaml"
PROXY_PID=$GATEWAY_PID
GW="http://127.0.0.1:$GW_PORT"
# The second instance: the same file, its own port.
GW2_PORT=$(free_port)
sed -e "s/127.0.0.1:$GW_PORT/127.0.0.1:$GW2_PORT/" -e "s/access-$GW_PORT/access-$GW2_PORT/" "$WORK/gw.yaml" > "$WORK/gw2.yaml"
start_gateway proxy2 "$WORK/gw2.yaml"
PROXY2_PID=$GATEWAY_PID
GW2="http://127.0.0.1:$GW2_PORT"

admin() {  # admin PATH BODY -> the response body (fails on a non-200)
  curl -sS --max-time 10 -f "$GW/admin/keys/$1" -H "Authorization: Bearer $TOKEN" -d "$2" || fail "admin $1 $2"
}
# chat KEY [stream] -> "STATUS" and the body in $WORK/out (on $ON: GW or GW2)
ON=
chat() { keyed_chat "${ON:-$GW}" "$@"; }
# used_in_store KEY → the key's used_quota as the store has it (through the
# admin API, which reads the store; any instance: same store).
used_in_store() { json_field "$(curl -sS --max-time 10 "${ADMIN_ON:-$GW}/admin/keys/get" -H "Authorization: Bearer $TOKEN" -d "{\"key\":\"$1\"}")" '["data"]["used_quota"]'; }

KEY=$(json_field "$(admin create '{"name":"e2e","user_id":"team-a"}')" '["data"]["key"]')
[ "$(chat "$KEY")" = 200 ] || fail "a new key: $(cat "$WORK/out")"
expected=$(tokens_seen)
[ "$(chat sk-nobody-has-this)" = 401 ] || fail "unknown key"
grep -q '"code":"invalid_api_key"' "$WORK/out" || fail "unknown key code: $(cat "$WORK/out")"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$GW/v1/chat/completions" -d '{}'); [ "$code" = 401 ] || fail "no key: $code"

for i in 1 2 3 4 5 6 7 8; do
  mode=""; [ $((i % 2)) = 0 ] && mode=stream
  ON=; [ "$i" -gt 6 ] && ON=$GW2  # the key made on the first instance, on the second
  [ "$(chat "$KEY" $mode)" = 200 ] || fail "request $i${ON:+ on the second instance}: $(cat "$WORK/out")"
  seen=$(tokens_seen); [ "$seen" -gt 0 ] || fail "request $i reported no usage: $(cat "$WORK/out")"
  expected=$((expected + seen))
done
ON=
for _ in $(seq 100); do [ "$(used_in_store "$KEY")" = "$expected" ] && break; sleep 0.02; done
[ "$(used_in_store "$KEY")" = "$expected" ] || fail "used_quota $(used_in_store "$KEY"), the client saw $expected tokens"
r=$(admin get "{\"key\":\"$KEY\"}"); [ "$(json_field "$r" '["data"]["used_quota"]')" = "$expected" ] || fail "admin get: $r"

# A quota of 1 token: the request that crosses it is let in, then 429.
SMALL=$(json_field "$(admin create '{"name":"small","total_quota":1}')" '["data"]["key"]')
ok=0; refused=0
for _ in $(seq 6); do
  case "$(chat "$SMALL")" in
    200) ok=$((ok + 1)) ;;
    429) refused=$((refused + 1)); grep -q '"code":"quota_exceeded"' "$WORK/out" || fail "429 code: $(cat "$WORK/out")" ;;
    *) fail "small key: $(cat "$WORK/out")" ;;
  esac
done
[ "$ok" -ge 1 ] && [ "$ok" -le 2 ] || fail "a 1-token quota let $ok requests through (at most one per worker)"
[ "$refused" -ge 4 ] || fail "only $refused refusals"

# quota_check exact: each request reads the key from the store, so with
# one request at a time (its usage stored before the next) a request is let
# in exactly while the count is under total_quota, on either instance.
EXACT=$(json_field "$(admin create '{"name":"exact","total_quota":12}')" '["data"]["key"]')
used=0
for i in $(seq 8); do
  ON=$GW; [ $((i % 2)) = 0 ] && ON=$GW2
  code=$(chat "$EXACT")
  if [ "$used" -lt 12 ]; then
    [ "$code" = 200 ] || fail "request $i with $used of 12 tokens used on $ON: $code $(cat "$WORK/out")"
    used=$((used + $(tokens_seen)))
    for _ in $(seq 100); do [ "$(used_in_store "$EXACT")" = "$used" ] && break; sleep 0.01; done
  else
    [ "$code" = 429 ] && grep -q '"code":"quota_exceeded"' "$WORK/out" || fail "request $i with $used of 12 used on $ON: $code $(cat "$WORK/out")"
  fi
done
ON=
[ "$used" -ge 12 ] || fail "the quota was never crossed ($used)"

# Disabled through the admin API: refused within cache_ttl (1 s), on both
# instances.
admin update "{\"key\":\"$KEY\",\"status\":\"disabled\"}" > /dev/null
start=$(date +%s%N)
for ON in "$GW" "$GW2"; do
  code=200
  while [ "$code" = 200 ]; do
    code=$(chat "$KEY")
    [ "$code" = 200 ] && expected=$((expected + $(tokens_seen)))  # still cached as enabled: charged
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ] || fail "a disabled key still works on $ON after 3 s"
  done
  [ "$code" = 403 ] && grep -q '"code":"key_disabled"' "$WORK/out" || fail "disabled key on $ON: $code $(cat "$WORK/out")"
done
ON=

# Every token is in the store after a clean shutdown.
admin update "{\"key\":\"$KEY\",\"status\":\"enabled\"}" > /dev/null
sleep 1.1  # the workers' cached "disabled" expires
[ "$(chat "$KEY")" = 200 ] || fail "enabled again: $(cat "$WORK/out")"
expected=$((expected + $(tokens_seen)))
kill -TERM "$PROXY_PID" "$PROXY2_PID"; wait "$PROXY_PID" || fail "serve did not exit cleanly"
wait "$PROXY2_PID" || fail "the second serve did not exit cleanly"
# The access log (flushed at shutdown) names the caller (key name,
# user_id, prefix), never the key.
python3 - "$WORK/access-$GW_PORT.log" "$KEY" <<'PY' || fail "access log: $(tail -3 "$WORK/access-$GW_PORT.log")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
key = sys.argv[2]
mine = [l for l in lines if l["key_name"] == "e2e"]
assert mine and all(l["user_id"] == "team-a" and key.startswith(l["api_key"].rstrip("\u2026")) and l["api_key"] != key for l in mine), mine[:2]
assert any(l["status"] == 401 and l["key_name"] == "" for l in lines)
assert not any(key in json.dumps(l) for l in lines)
PY
# A third instance, started after both stopped, reads the store.
GW3_PORT=$(free_port)
sed -e "s/127.0.0.1:$GW_PORT/127.0.0.1:$GW3_PORT/" -e "s/access-$GW_PORT/access-$GW3_PORT/" "$WORK/gw.yaml" > "$WORK/gw3.yaml"
start_gateway proxy3 "$WORK/gw3.yaml"
ADMIN_ON="http://127.0.0.1:$GW3_PORT"
[ "$(used_in_store "$KEY")" = "$expected" ] || fail "after shutdown used_quota $(used_in_store "$KEY"), the client saw $expected"
grep -q "$KEY" "$WORK/proxy.log" "$WORK/proxy2.log" "$WORK/proxy3.log" && fail "a key is in the log"
echo "builtin auth e2e (${KEY_STORE:-sqlite}): admin keys open /v1 on two instances, usage adds up, exact quota across them, disable within the TTL on both, shutdown keeps usage: pass"
