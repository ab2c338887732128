#!/usr/bin/env bash
# How far past a 200-token quota a Redis-kept key goes with 8 concurrent
# clients spread over two `serve` processes (2 workers each, cache_ttl
# 10s), under auth.quota_check exact and cached (docs/auth.md, quotas).
# Prints, per mode, the requests let in and the tokens they used. Needs
# redis-server (scripts/install-deps).
#   bench/auth/quota_overrun.sh [LLMPROXY] [FAKE_OPENAI]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LLMPROXY=${1:-$ROOT/build-test/proxy/app/llmproxy}
FAKE=${2:-$ROOT/build-test/fake_backends/fake-openai}
# shellcheck source=proxy/app/e2e_lib.sh
source "$ROOT/proxy/app/e2e_lib.sh"
e2e_workdir quota-overrun
REDIS_PID=
trap 'stop_redis; e2e_cleanup' EXIT
REDIS_PORT=$(free_port)
start_redis
start_fake fake --tokens 5
for mode in exact cached; do
  ports=()
  for n in a b; do
    port=$(free_port)
    cat > "$WORK/$n.yaml" <<EOF2
server: {listen: "127.0.0.1:$port", workers: 2}
storage: {caches: [{name: keys, driver: redis, addr: "127.0.0.1:$REDIS_PORT"}]}
auth: {enabled: true, cache_ttl: 10s, quota_check: $mode, pipeline: [{name: team, type: redis, redis: {storage: keys, key_pattern: "cmp:{api_key}"}}]}
backends: [{name: fake, url: "http://127.0.0.1:$PORT_fake"}]
EOF2
    "$LLMPROXY" serve --config "$WORK/$n.yaml" > "$WORK/$n-$mode.log" 2>&1 &
    PIDS+=($!)
    listening_port "$WORK/$n-$mode.log" > /dev/null
    ports+=("http://127.0.0.1:$port")
  done
  redis-cli -p "$REDIS_PORT" HSET cmp:sk-$mode total_quota 200 > /dev/null
  python3 - "${ports[0]}" "${ports[1]}" sk-$mode <<'PY'
import json, sys, threading, urllib.request, urllib.error
gws, key = sys.argv[1:3], sys.argv[3]
body = json.dumps({"model": "fake-model", "messages": [{"role": "user", "content": "hello there"}]}).encode()
ok, tokens, lock = 0, 0, threading.Lock()
def one(gw):
    global ok, tokens
    req = urllib.request.Request(gw + "/v1/chat/completions", data=body, headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            t = json.load(r)["usage"]["total_tokens"]
            with lock: ok, tokens = ok + 1, tokens + t
    except urllib.error.HTTPError as e:
        pass
for _ in range(200):
    before = ok
    ts = [threading.Thread(target=one, args=(gws[i % 2],)) for i in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    if ok == before: break
print(f"quota_check {key[3:]}: {ok} requests let in, {tokens} tokens used of a 200-token quota")
PY
  for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null || true; done
done
