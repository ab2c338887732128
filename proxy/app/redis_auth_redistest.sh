#!/usr/bin/env bash
# Keys kept in a team's own Redis (the redis auth provider) used by two
# `llmproxy serve` processes sharing that Redis (issue #13 items 3, 4, 6).
# The test starts its own redis-server on a free loopback port so it can
# stop it.
#   - a hash key and a JSON key work on both instances; an unknown key and
#     a disabled one are refused (401, 403);
#   - the tokens the clients were told they used (their bytes) add up to
#     used_quota in Redis, both instances adding to one counter;
#   - a quota spent across both instances stops the key on both (429);
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
  "$LLMPROXY" check-config "$WORK/$name.yaml" > "$WORK/check-$name.txt" 2>&1 || { cat "$WORK/check-$name.txt"; fail "check-config $name"; }
  "$LLMPROXY" serve --config "$WORK/$name.yaml" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$name=$!"
  listening_port "$WORK/$name.log" > /dev/null
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

# A quota spent across both instances: each lets at most the crossing
# request per worker through, then both refuse.
rc HSET e2e:key:sk-e2e-quota-0004 total_quota 12 > /dev/null
ok=0
for _ in $(seq 6); do
  for gw in "$GW_a" "$GW_b"; do
    case "$(chat "$gw" sk-e2e-quota-0004)" in
      200) ok=$((ok + 1)) ;;
      429) [ "$(code_seen)" = quota_exceeded ] || fail "429 code: $(cat "$WORK/out")" ;;
      *) fail "quota key: $(cat "$WORK/out")" ;;
    esac
  done
done
# At least one request is let in;
# at most two per worker (3 workers): the crossing one after its own charge.
[ "$ok" -ge 1 ] && [ "$ok" -le 6 ] || fail "a 12-token quota let $ok requests through"
sleep 1.1  # every worker's cached record is fetched again: the shared count refuses
for gw in "$GW_a" "$GW_b"; do
  [ "$(chat "$gw" sk-e2e-quota-0004)" = 429 ] || fail "quota on $gw after the TTL: $(cat "$WORK/out")"
done

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
