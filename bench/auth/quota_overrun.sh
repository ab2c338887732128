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
fail() { echo "FAIL: $*" >&2; exit 1; }
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
    start_gateway "$n-$mode" "$WORK/$n.yaml"
    ports+=("http://127.0.0.1:$port")
  done
  redis-cli -p "$REDIS_PORT" HSET cmp:sk-$mode total_quota 200 > /dev/null
  read -r let_in tokens _ < <(chats_until_refused "sk-$mode" "${ports[@]}")
  echo "quota_check $mode: $let_in requests let in, $tokens tokens used of a 200-token quota"
  for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null || true; done
done
