#!/usr/bin/env bash
# End-to-end test of config reload on SIGHUP (BEHAVIOR §13, docs/reload.md)
# on the real binaries: `llmproxy serve` (2 workers) in front of fake-openai
# processes.
#   - under sustained load (wrk, 16 connections), a reload that replaces a
#     backend and changes weights loses no request (no socket error, no
#     non-2xx), and new requests go to the new backend;
#   - a stream open across the reload completes;
#   - an invalid file is rejected with its problems logged as file:line:col,
#     and the running config keeps serving;
#   - a reload that adds a rate limit puts it in effect (429s), and /ready
#     stays 200 throughout.
#   reload_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir reload-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK/proxy.log" 2>/dev/null || true; exit 1; }
command -v wrk >/dev/null || fail "wrk missing: scripts/install-deps"

start_fake a
start_fake b
# The slow one serves its own model: a stream of 30 tokens, 100 ms apart.
start_fake slow --model slow-model --itl 100ms --tokens 30
GW_PORT=$(free_port)

write_config() {  # write_config BACKEND_NAME PORT [extra YAML]
  cat > "$WORK/gw.yaml.tmp" <<EOF2
server:
  listen: "127.0.0.1:$GW_PORT"
  workers: 2
${3:-}
backends:
  - name: $1
    url: "http://127.0.0.1:$2"
    models: ["fake-model"]
    weight: 3
  - name: slow
    url: "http://127.0.0.1:$PORT_slow"
    models: ["slow-model"]
EOF2
  mv "$WORK/gw.yaml.tmp" "$WORK/gw.yaml"
}

write_config a "$PORT_a"
"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
PORT=$(listening_port "$WORK/proxy.log")
BASE="http://127.0.0.1:$PORT"
BODY='{"model":"fake-model","messages":[{"role":"user","content":"hi"}]}'

served_by() {  # the x-fake-backend of one answer
  curl -sS --max-time 10 -D - -o /dev/null "$BASE/v1/chat/completions" \
    -H 'Content-Type: application/json' -d "$BODY" | tr -d '\r' |
    awk -F': ' 'tolower($1)=="x-fake-backend" {print $2}'
}
hup_and_wait() {  # hup_and_wait PATTERN: SIGHUP, then wait for one more log line with PATTERN
  local before
  before=$(grep -c "$1" "$WORK/proxy.log" || true)
  kill -HUP "$PROXY_PID"
  for _ in $(seq 100); do
    [ "$(grep -c "$1" "$WORK/proxy.log" || true)" -gt "$before" ] && return 0
    sleep 0.05
  done
  fail "no '$1' in the log after SIGHUP"
}

[ "$(served_by)" = a ] || fail "before reload: not served by a"

# A stream that runs across the reload (about 3 s).
curl -sS -N --max-time 30 "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"slow-model","stream":true,"messages":[{"role":"user","content":"hi"}]}' \
  > "$WORK/stream.out" 2>&1 &
STREAM_PID=$!

# Sustained load with the reload in the middle.
cat > "$WORK/post.lua" <<'EOF2'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"hi"}]}'
EOF2
wrk -t2 -c16 -d6s --timeout 5s -s "$WORK/post.lua" "$BASE/v1/chat/completions" > "$WORK/wrk.out" 2>&1 &
WRK_PID=$!
sleep 2
write_config b "$PORT_b"
hup_and_wait reloaded
for _ in $(seq 50); do [ "$(served_by)" = b ] && break; sleep 0.05; done
[ "$(served_by)" = b ] || fail "after reload: not served by b"
wait "$WRK_PID" || fail "wrk failed: $(cat "$WORK/wrk.out")"
cat "$WORK/wrk.out"
grep -q 'requests in' "$WORK/wrk.out" || fail "wrk printed no totals"
grep -q 'Non-2xx' "$WORK/wrk.out" && fail "requests failed across the reload"
grep -q 'Socket errors' "$WORK/wrk.out" && fail "connections failed across the reload"
for _ in $(seq 20); do [ "$(served_by)" = b ] || fail "a request after the reload went elsewhere"; done

wait "$STREAM_PID" || fail "the stream across the reload failed: $(cat "$WORK/stream.out")"
grep -q 'data: \[DONE\]' "$WORK/stream.out" || fail "the stream across the reload did not complete: $(cat "$WORK/stream.out")"
grep -q '"error"' "$WORK/stream.out" && fail "the stream across the reload carried an error"

# An invalid file: rejected with file:line:col, the old config keeps serving.
cp "$WORK/gw.yaml" "$WORK/good.yaml"
printf 'routing:\n  load_balance: fastest_guess\n' >> "$WORK/gw.yaml"
hup_and_wait 'reload rejected'
grep -Eq "gw.yaml:[0-9]+:[0-9]+" "$WORK/proxy.log" || fail "problem not logged as file:line:col"
[ "$(served_by)" = b ] || fail "after a rejected reload: not served by b"

# A reload that adds a rate limit: in effect at once.
write_config b "$PORT_b" "rate_limit:
  enabled: true
  global:
    enabled: true
    requests_per_minute: 2
    burst_size: 2"
hup_and_wait reloaded
codes=""
for _ in $(seq 6); do
  codes+=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} ' "$BASE/v1/chat/completions" \
    -H 'Content-Type: application/json' -d "$BODY")
done
grep -q 429 <<<"$codes" || fail "the new rate limit is not in effect: $codes"
ready=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/ready")
[ "$ready" = 200 ] || fail "/ready is $ready after the reloads"
kill -0 "$PROXY_PID" || fail "the gateway died"
echo "PASS reload_e2e: $codes"
