#!/usr/bin/env bash
# End-to-end test of the real binaries on loopback: fake-openai behind
# `llmproxy serve`, driven by curl. Checks streaming and non-streaming
# answers, usage-chunk stripping, error bodies, /ready, SIGTERM drain (a
# stream in flight finishes, /ready is not served any more, exit 0), and that
# a config with problems keeps serve from starting.
#   serve_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir serve-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK/proxy.log" 2>/dev/null || true; exit 1; }

"$FAKE" --listen 127.0.0.1:0 --ttft 5ms --itl 2ms --tokens 6 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE_PORT=$(listening_port "$WORK/fake.log")

# server.listen must name a real port (1..65535): take a free one.
GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF2
server:
  listen: "127.0.0.1:$GW_PORT"
  workers: 2
  drain_timeout: 10s
log:
  level: warn
backends:
  - name: fake
    url: "http://127.0.0.1:$FAKE_PORT"
EOF2
"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
PORT=$(listening_port "$WORK/proxy.log")
BASE="http://127.0.0.1:$PORT"
CURL=(curl -sS --max-time 20)

# Non-stream.
out=$("${CURL[@]}" "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"fake-model","messages":[{"role":"user","content":"one two three"}]}')
grep -q '"object":"chat.completion"' <<<"$out" || fail "non-stream answer: $out"
grep -q '"completion_tokens":6' <<<"$out" || fail "non-stream usage: $out"

# Stream without include_usage: [DONE], and no usage chunk leaks to the client.
out=$("${CURL[@]}" -N "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hi"}]}')
grep -q 'data: \[DONE\]' <<<"$out" || fail "stream has no [DONE]: $out"
grep -q '"usage":{' <<<"$out" && fail "usage chunk leaked: $out"

# Stream that asked for usage keeps it.
out=$("${CURL[@]}" -N "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"fake-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}')
grep -q '"usage":{' <<<"$out" || fail "asked-for usage missing: $out"

# Errors are OpenAI-shaped and carry x-request-id.
hdrs=$("${CURL[@]}" -D - -o "$WORK/body" "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{bad')
grep -qi '^x-request-id: ' <<<"$hdrs" || fail "no x-request-id: $hdrs"
grep -q 'HTTP/1.1 400' <<<"$hdrs" || fail "malformed JSON not 400: $hdrs"
grep -q '"type":"invalid_request_error"' "$WORK/body" || fail "400 body: $(cat "$WORK/body")"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/v1/chat/completions")
[ "$code" = 405 ] || fail "GET chat/completions gave $code"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/ready")
[ "$code" = 200 ] || fail "/ready gave $code"

# A backend that closes idle keep-alive connections (uvicorn: after 5 s;
# here 200 ms), requests 300 ms apart, retries off: every one is answered
# (issue #10: every other one was a 502 when the pooled connection had been
# closed by the backend).
start_fake idle --idle-timeout 200ms
IDLE_GW_PORT=$(free_port)
cat > "$WORK/idle.yaml" <<EOF2
server: {listen: "127.0.0.1:$IDLE_GW_PORT", workers: 1}
log: {level: warn}
backends: [{name: idle, url: "http://127.0.0.1:$PORT_idle"}]
EOF2
"$LLMPROXY" serve --config "$WORK/idle.yaml" > "$WORK/idle-proxy.log" 2>&1 &
PIDS+=($!)
listening_port "$WORK/idle-proxy.log" > /dev/null
for i in 1 2 3 4; do
  code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$IDLE_GW_PORT/v1/chat/completions"     -H 'Content-Type: application/json'     -d '{"model":"fake-model","messages":[{"role":"user","content":"hi"}]}')
  [ "$code" = 200 ] || { cat "$WORK/idle-proxy.log"; fail "request $i after an idle close: $code"; }
  sleep 0.3
done

# Drain: a slow stream in flight when SIGTERM arrives still finishes.
"${CURL[@]}" -N "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -H 'x-fake-fault: itl=200ms,tokens=5' \
  -d '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"slow"}]}' > "$WORK/slow.out" &
SLOW=$!
sleep 0.3
kill -TERM "$PROXY_PID"
wait "$SLOW" || fail "in-flight stream failed during drain"
grep -q 'data: \[DONE\]' "$WORK/slow.out" || fail "drained stream truncated: $(cat "$WORK/slow.out")"
for _ in $(seq 200); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PROXY_PID" 2>/dev/null && fail "serve did not exit after drain"
wait "$PROXY_PID" || fail "serve exited non-zero after SIGTERM"

# A config with problems never starts serving.
printf 'server:\n  listn: ":0"\nbackends: []\n' > "$WORK/bad.yaml"
if "$LLMPROXY" serve --config "$WORK/bad.yaml" > "$WORK/bad.log" 2>&1; then fail "bad config started"; fi
grep -q 'did you mean' "$WORK/bad.log" || fail "bad config message: $(cat "$WORK/bad.log")"
echo "serve e2e: ok"
