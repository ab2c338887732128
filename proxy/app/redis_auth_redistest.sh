#!/usr/bin/env bash
# Keys kept in a team's own Redis (the redis auth provider) used by two
# `llmproxy serve` processes sharing that Redis (issue #13 items 3, 4, 6).
# The test starts its own redis-server on a free loopback port so it can
# stop it.
#   - a hash key and a JSON key work on both instances; an unknown key and
#     a disabled one are refused (401, 403);
#   - the tokens the clients were told they used (their bytes) add up to
#     used_quota in Redis, both instances adding to one counter;
#   - a quota (quota_check exact) lets a request in exactly while Redis's
#     count is under it, on any instance; 8 concurrent clients overrun it
#     by at most 8 requests;
#   - a key disabled in Redis stops on both within auth.cache_ttl;
#   - Redis stopped: a cached key keeps working, an uncached one gets 503
#     auth_unavailable; Redis back: served again, nothing crashed;
#   - after SIGTERM Redis holds every token; no key is in the logs.
#   redis_auth_redistest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir redis-auth-e2e
REDIS_PID=
trap 'stop_redis; e2e_cleanup' EXIT
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
command -v redis-server >/dev/null || fail "redis-server is not installed (run scripts/install-deps)"

REDIS_PORT=$(free_port)
rc() { redis-cli -p "$REDIS_PORT" "$@"; }
start_redis || fail "redis-server did not start"

start_fake fake --tokens 5
# start_proxy NAME WORKERS → sets GW_<NAME>, PID_<NAME>
start_proxy() {
  local name=$1 workers=$2 port
  port=$(free_port)
  cat > "$WORK/$name.yaml" <<EOF2
server: {listen: "127.0.0.1:$port", workers: $workers, drain_timeout: 2s}
storage:
  caches:
    - {name: keys, driver: redis, addr: "127.0.0.1:$REDIS_PORT", read_timeout: 300ms, write_timeout: 300ms, dial_timeout: 300ms}
auth:
  enabled: true
  cache_ttl: 1s
  pipeline:
    - {name: team, type: redis, redis: {storage: keys, key_pattern: "e2e:key:{api_key}"}}
backends:
  - {name: fake, url: "http://127.0.0.1:$PORT_fake"}
EOF2
  start_gateway "$name" "$WORK/$name.yaml"
  eval "PID_$name=$GATEWAY_PID"
  eval "GW_$name=http://127.0.0.1:$port"
}
# One worker on a: the cached-key check below needs to reach the worker
# that cached it.
start_proxy a 1
start_proxy b 2

chat() { keyed_chat "$@"; }  # chat GW KEY -> "STATUS", the body in $WORK/out
code_seen() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"]["code"])' "$WORK/out"; }

rc HSET e2e:key:sk-e2e-hash-0001 name hashed user_id team-a status enabled > /dev/null
rc SET e2e:key:sk-e2e-json-0002 '{"name":"json","status":"enabled"}' > /dev/null
rc HSET e2e:key:sk-e2e-off-0003 status disabled > /dev/null

expected=0
for gw in "$GW_a" "$GW_b" "$GW_a" "$GW_b"; do
  [ "$(chat "$gw" sk-e2e-hash-0001)" = 200 ] || fail "hash key on $gw: $(cat "$WORK/out")"
  expected=$((expected + $(tokens_seen)))
  [ "$(chat "$gw" sk-e2e-json-0002)" = 200 ] || fail "json key on $gw: $(cat "$WORK/out")"
done
[ "$(chat "$GW_a" sk-e2e-nobody)" = 401 ] && [ "$(code_seen)" = invalid_api_key ] || fail "unknown key: $(cat "$WORK/out")"
[ "$(chat "$GW_b" sk-e2e-off-0003)" = 403 ] && [ "$(code_seen)" = key_disabled ] || fail "disabled key: $(cat "$WORK/out")"
for _ in $(seq 100); do [ "$(rc HGET e2e:key:sk-e2e-hash-0001 used_quota)" = "$expected" ] && break; sleep 0.02; done
[ "$(rc HGET e2e:key:sk-e2e-hash-0001 used_quota)" = "$expected" ] || fail "used_quota $(rc HGET e2e:key:sk-e2e-hash-0001 used_quota), the clients saw $expected"
rc GET e2e:key:sk-e2e-json-0002 | grep -q '"used_quota":' || fail "the JSON key's usage: $(rc GET e2e:key:sk-e2e-json-0002)"

# A quota with auth.quota_check exact (the default): every request reads
# the key from Redis, so with one request at a time (each one's usage in
# Redis before the next starts) a request is let in exactly while the
# count is under total_quota, whichever instance and worker it reaches,
# although every worker may hold the key in its cache.
rc HSET e2e:key:sk-e2e-quota-0004 total_quota 12 > /dev/null
used=0
for i in $(seq 8); do
  gw=$GW_a; [ $((i % 2)) = 0 ] && gw=$GW_b
  code=$(chat "$gw" sk-e2e-quota-0004)
  if [ "$used" -lt 12 ]; then
    [ "$code" = 200 ] || fail "request $i with $used of 12 tokens used on $gw: $code $(cat "$WORK/out")"
    used=$((used + $(tokens_seen)))
    for _ in $(seq 100); do [ "$(rc HGET e2e:key:sk-e2e-quota-0004 used_quota)" = "$used" ] && break; sleep 0.01; done
  else
    [ "$code" = 429 ] && [ "$(code_seen)" = quota_exceeded ] || fail "request $i with $used of 12 used on $gw: $code $(cat "$WORK/out")"
  fi
done
[ "$used" -ge 12 ] || fail "the quota was never crossed ($used)"

# Concurrent clients on both instances (8 at a time, 4 each): the overrun
# past total_quota is at most the requests in flight when Redis's count
# crossed it, here at most 8 requests' tokens; the clients were told
# exactly what Redis counts.
rc HSET e2e:key:sk-e2e-busy-0005 total_quota 200 > /dev/null
chats_until_refused sk-e2e-busy-0005 "$GW_a" "$GW_b" > "$WORK/busy.txt" 2>&1 || fail "concurrent quota clients: $(cat "$WORK/busy.txt")"
read -r busy_ok busy_tokens busy_most < "$WORK/busy.txt"
for _ in $(seq 100); do [ "$(rc HGET e2e:key:sk-e2e-busy-0005 used_quota)" = "$busy_tokens" ] && break; sleep 0.02; done
busy_used=$(rc HGET e2e:key:sk-e2e-busy-0005 used_quota)
[ "$busy_used" = "$busy_tokens" ] || fail "busy key: Redis counts $busy_used, the clients were told $busy_tokens"
[ "$busy_used" -ge 200 ] || fail "busy key refused at $busy_used of 200"
[ "$busy_used" -le $((199 + 8 * busy_most)) ] || fail "busy key overran to $busy_used: more than 8 requests past 200"
echo "concurrent quota: $busy_ok requests, $busy_used tokens of 200 (bound $((199 + 8 * busy_most)))"

# Disabled in Redis: refused on both within cache_ttl (1 s).
rc HSET e2e:key:sk-e2e-hash-0001 status disabled > /dev/null
start=$(date +%s%N)
for gw in "$GW_a" "$GW_b"; do
  code=200
  while [ "$code" = 200 ]; do
    code=$(chat "$gw" sk-e2e-hash-0001)
    [ "$code" = 200 ] && expected=$((expected + $(tokens_seen)))
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ] || fail "a disabled key still works on $gw after 3 s"
  done
  [ "$code" = 403 ] || fail "disabled on $gw: $code $(cat "$WORK/out")"
done
rc HSET e2e:key:sk-e2e-hash-0001 status enabled > /dev/null
sleep 1.1

# Redis stopped: the key just used is cached and works; a key not seen
# before is 503 auth_unavailable. Redis back: served again.
[ "$(chat "$GW_a" sk-e2e-json-0002)" = 200 ] || fail "json key before the stop"
stop_redis
[ "$(chat "$GW_a" sk-e2e-json-0002)" = 200 ] || fail "a cached key with Redis stopped: $(cat "$WORK/out")"
[ "$(chat "$GW_a" sk-e2e-never-seen)" = 503 ] && [ "$(code_seen)" = auth_unavailable ] || fail "uncached key with Redis stopped: $(cat "$WORK/out")"
start_redis || fail "redis-server did not start again"
rc HSET e2e:key:sk-e2e-hash-0001 status enabled used_quota "$expected" > /dev/null  # a fresh server: put the key back
ok=
for _ in $(seq 60); do [ "$(chat "$GW_b" sk-e2e-hash-0001)" = 200 ] && { ok=1; break; }; sleep 0.1; done
[ -n "$ok" ] || fail "not served after Redis came back: $(cat "$WORK/out")"
expected=$((expected + $(tokens_seen)))
kill -0 "$PID_a" && kill -0 "$PID_b" || fail "an instance died"

# Every token written after a clean shutdown.
[ "$(chat "$GW_a" sk-e2e-hash-0001)" = 200 ] || fail "last request"
expected=$((expected + $(tokens_seen)))
kill -TERM "$PID_a" "$PID_b"; wait "$PID_a" || fail "a did not exit cleanly"; wait "$PID_b" || fail "b did not exit cleanly"
[ "$(rc HGET e2e:key:sk-e2e-hash-0001 used_quota)" = "$expected" ] || fail "after shutdown used_quota $(rc HGET e2e:key:sk-e2e-hash-0001 used_quota), the clients saw $expected"
grep -l "sk-e2e-" "$WORK"/a.log "$WORK"/b.log && fail "a key is in a log"
echo "redis auth e2e: two instances, hash and JSON keys, shared usage and quota, disable within the TTL, Redis down and back: pass"
