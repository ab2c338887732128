#!/usr/bin/env bash
# Rate limits shared through a real redis-server by two `llmproxy serve`
# processes (issue #5 item 5). The test starts its own redis-server on a free
# loopback port so it can kill and restart it.
#   1. A global limit under a load above it, split over both instances:
#      admitted ≤ burst + rate·elapsed, and the burst is fully used.
#   2. A per-key token budget spent across both instances stops the key
#      (overshoot ≤ one request), while another key is still served.
#   3. Redis killed mid-run: the fail_open instance keeps serving, the
#      fail_closed one rejects; nobody crashes. Redis restarted: both recover
#      by themselves, and no concurrency slot is left stuck.
#   ratelimit_redistest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
WORK=$(mktemp -d /tmp/llmproxy-rl-redis.XXXXXX)
PIDS=()
REDIS_PID=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
command -v redis-server >/dev/null || fail "redis-server is not installed (run scripts/install-deps)"

# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"

REDIS_PORT=$(free_port)
start_redis || fail "redis-server did not start"

"$FAKE" --listen 127.0.0.1:0 --ttft 1ms --itl 1ms --tokens 10 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE_PORT=$(listening_port "$WORK/fake.log")

# start_proxy NAME FAIL_MODE RATE_LIMIT_BODY → sets BASE_<NAME>
start_proxy() {
  local name=$1 mode=$2 body=$3 port
  port=$(free_port)
  cat > "$WORK/$name.yaml" <<EOF
server: {listen: "127.0.0.1:$port", workers: 2, drain_timeout: 2s}
log: {level: error}
storage:
  caches:
    - {name: shared, driver: redis, addr: "127.0.0.1:$REDIS_PORT", read_timeout: 200ms, write_timeout: 200ms, dial_timeout: 200ms}
backends:
  - {name: fake, url: "http://127.0.0.1:$FAKE_PORT"}
rate_limit:
  enabled: true
  storage: shared
  fail_mode: $mode
$body
EOF
  "$LLMPROXY" serve --config "$WORK/$name.yaml" > "$WORK/proxy-$name.log" 2>&1 &
  PIDS+=($!)
  printf -v "PID_$name" '%s' "$!"
  listening_port "$WORK/proxy-$name.log" >/dev/null
  printf -v "BASE_$name" '%s' "http://127.0.0.1:$port"
}
stop_proxies() { for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; PIDS=("${PIDS[0]}"); }

CURL=(curl -sS --max-time 10)
BODY='{"model":"fake-model","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}'
# req BASE KEY → prints the status code; headers in $WORK/h, body in $WORK/b
req() { "${CURL[@]}" -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' "$1/v1/chat/completions" \
          -H 'Content-Type: application/json' -H "Authorization: Bearer $2" -d "$BODY"; }

# ---- 1. global limit shared by both instances
GLOBAL='  global: {requests_per_minute: 30, burst_size: 20}'
start_proxy a open "$GLOBAL"
start_proxy b open "$GLOBAL"
start=$(date +%s%N)
for i in $(seq 60); do
  if (( i % 2 )); then echo "$BASE_a"; else echo "$BASE_b"; fi
done | xargs -P 8 -I{} "${CURL[@]}" -o /dev/null -w '%{http_code}\n' "{}/v1/chat/completions" \
    -H 'Content-Type: application/json' -d "$BODY" > "$WORK/codes"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok=$(grep -c '^200$' "$WORK/codes" || true)
limited=$(grep -c '^429$' "$WORK/codes" || true)
# 30 per minute = one every 2 s on top of the burst of 20.
bound=$(( 20 + elapsed_ms / 2000 ))
[ "$ok" -ge 20 ] || fail "global: only $ok admitted, the burst of 20 was not usable"
[ "$ok" -le "$bound" ] || fail "global: $ok admitted in ${elapsed_ms} ms across two instances, bound $bound"
[ $((ok + limited)) -eq 60 ] || fail "global: unexpected statuses: $(sort "$WORK/codes" | uniq -c)"
code=$(req "$BASE_b" k)
[ "$code" = 429 ] || fail "global: limit not shared, got $code"
grep -q rate_limit_exceeded "$WORK/b" || fail "429 body: $(cat "$WORK/b")"
grep -qi '^retry-after: [1-9]' "$WORK/h" || fail "429 without Retry-After: $(cat "$WORK/h")"
grep -qi '^x-ratelimit-remaining-requests: 0' "$WORK/h" || fail "429 headers: $(cat "$WORK/h")"
stop_proxies
redis-cli -p "$REDIS_PORT" flushall >/dev/null

# ---- 2. per-key tokens across both instances
PERKEY='  per_key: {tokens_per_minute: 100, max_concurrent: 1}'
start_proxy a open "$PERKEY"
start_proxy b closed "$PERKEY"
served=0
for i in $(seq 30); do
  if (( i % 2 )); then base=$BASE_a; else base=$BASE_b; fi
  code=$(req "$base" alice)
  if [ "$code" = 429 ]; then break; fi
  [ "$code" = 200 ] || fail "tokens: request $i gave $code"
  grep -qi '^x-ratelimit-limit-tokens: 100' "$WORK/h" || fail "token headers: $(cat "$WORK/h")"
  served=$((served + 1))
done
# Each answer costs its real usage (prompt + 10 completion tokens), so the
# budget of 100 admits a handful, and at most one request past it.
[ "$served" -ge 3 ] && [ "$served" -lt 15 ] || fail "tokens: $served requests served on a 100-token budget"
grep -q 'tokens' "$WORK/b" || fail "token 429 names no token limit: $(cat "$WORK/b")"
code=$(req "$BASE_b" bob)
[ "$code" = 200 ] || fail "another key was limited too ($code)"

# ---- 3. Redis goes away and comes back
stop_redis
code=$(req "$BASE_a" carol)
[ "$code" = 200 ] || fail "fail_open instance gave $code with redis down"
code=$(req "$BASE_b" carol)
[ "$code" = 429 ] || fail "fail_closed instance gave $code with redis down"
kill -0 "$PID_a" && kill -0 "$PID_b" || fail "a gateway died while redis was down"
start_redis || fail "redis-server did not start again"
recovered=
for _ in $(seq 60); do
  code=$(req "$BASE_b" dave)
  if [ "$code" = 200 ]; then recovered=1; break; fi
  sleep 0.1
done
[ -n "$recovered" ] || fail "fail_closed instance did not recover after redis came back"
# max_concurrent 1: sequential requests must all pass on both instances.
for i in 1 2 3 4; do
  for base in "$BASE_a" "$BASE_b"; do
    code=$(req "$base" erin$i)
    [ "$code" = 200 ] || fail "a concurrency slot stayed taken after the restart ($code)"
  done
done
echo "rate limit redis e2e: ok"
