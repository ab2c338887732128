#!/usr/bin/env bash
# End-to-end test of the CORS, access-log and system-log modules on the real
# binaries: `llmproxy serve` in front of fake-openai with server.cors,
# logging.access (json, to a file) and log.output: file.
#   - an allowed preflight is answered 204 by the gateway with the
#     Access-Control-Allow-* headers; a refused one is a 403 without them;
#   - a request from an allowed origin carries Allow-Origin and Vary on its
#     answer, on a stream, and on the gateway's own 400;
#   - every request is one JSON line in the access log, with its request id;
#   - the system log goes to its file.
#   modules_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir modules-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK/proxy.log" 2>/dev/null || true; exit 1; }

"$FAKE" --listen 127.0.0.1:0 --ttft 1ms --itl 1ms --tokens 3 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE_PORT=$(listening_port "$WORK/fake.log")
GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF2
server:
  listen: "127.0.0.1:$GW_PORT"
  workers: 2
  cors:
    enabled: true
    allowed_origins: ["https://app.example.com"]
    allowed_methods: ["GET", "POST"]
    allowed_headers: ["Authorization", "Content-Type"]
    allow_credentials: true
    max_age: 600
log:
  level: info
  format: json
  output: file
  file:
    path: "$WORK/system.log"
logging:
  enabled: true
  access:
    enabled: true
    storage: file
    format: json
    file:
      path: "$WORK/access.log"
backends:
  - name: fake
    url: "http://127.0.0.1:$FAKE_PORT"
EOF2
start_gateway proxy "$WORK/gw.yaml"
PROXY_PID=$GATEWAY_PID
PORT=$GATEWAY_PORT
BASE="http://127.0.0.1:$PORT"
CURL=(curl -sS --max-time 20)
ORIGIN='Origin: https://app.example.com'

# Preflight, allowed.
hdrs=$("${CURL[@]}" -D - -o /dev/null -X OPTIONS "$BASE/v1/chat/completions" -H "$ORIGIN" \
  -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type, authorization')
grep -q '^HTTP/1.1 204' <<<"$hdrs" || fail "preflight not 204: $hdrs"
grep -qi '^access-control-allow-origin: https://app.example.com' <<<"$hdrs" || fail "preflight origin: $hdrs"
grep -qi '^access-control-allow-credentials: true' <<<"$hdrs" || fail "preflight credentials: $hdrs"
grep -qi '^access-control-max-age: 600' <<<"$hdrs" || fail "preflight max-age: $hdrs"
grep -qi '^access-control-allow-methods:.*POST' <<<"$hdrs" || fail "preflight methods: $hdrs"

# Preflight from an origin that is not allowed.
hdrs=$("${CURL[@]}" -D - -o "$WORK/body" -X OPTIONS "$BASE/v1/chat/completions" \
  -H 'Origin: https://evil.example.net' -H 'Access-Control-Request-Method: POST')
grep -q '^HTTP/1.1 403' <<<"$hdrs" || fail "refused preflight not 403: $hdrs"
grep -qi '^access-control-allow-origin' <<<"$hdrs" && fail "refused preflight has CORS headers: $hdrs"
grep -q 'cors_preflight_refused' "$WORK/body" || fail "refused preflight body: $(cat "$WORK/body")"

# Actual requests: answer, stream and the gateway's own error.
for body in '{"model":"fake-model","messages":[{"role":"user","content":"a"}]}' \
            '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"a"}]}' \
            '{bad'; do
  hdrs=$("${CURL[@]}" -D - -o /dev/null "$BASE/v1/chat/completions" -H "$ORIGIN" \
    -H 'Content-Type: application/json' -d "$body")
  grep -qi '^access-control-allow-origin: https://app.example.com' <<<"$hdrs" \
    || fail "no Allow-Origin for $body: $hdrs"
  grep -qi '^vary: .*origin' <<<"$hdrs" || fail "no Vary: Origin for $body: $hdrs"
done
# No Origin: no CORS headers.
hdrs=$("${CURL[@]}" -D - -o /dev/null "$BASE/v1/chat/completions" \
  -H 'Content-Type: application/json' -d '{"model":"fake-model","messages":[{"role":"user","content":"a"}]}')
grep -qi '^access-control-allow-origin' <<<"$hdrs" && fail "CORS headers without Origin: $hdrs"

# A client that leaves before the backend answers: logged as 499.
"${CURL[@]}" --max-time 0.5 -o /dev/null "$BASE/v1/chat/completions" -H 'x-fake-fault: hang' \
  -H 'Content-Type: application/json' -d '{"model":"fake-model","messages":[{"role":"user","content":"a"}]}' \
  && fail "a hung backend answered"

# Drain so that both writers flush, then read the files.
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "serve did not exit cleanly"
[ -s "$WORK/access.log" ] || fail "access log empty"
lines=$(wc -l < "$WORK/access.log")
[ "$lines" -eq 7 ] || { cat "$WORK/access.log"; fail "access log has $lines lines, want 7"; }
python3 - "$WORK/access.log" <<'PY' || fail "access log lines are not the requests"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["request_id"] for r in rows), rows
assert sorted(r["status"] for r in rows) == [200, 200, 200, 204, 400, 403, 499], rows
left = [r for r in rows if r["status"] == 499]
assert left[0]["outcome"] == "client_cancel", left
PY
grep -q '"listening"' "$WORK/system.log" || fail "system log file: $(cat "$WORK/system.log")"
echo "modules e2e: CORS, access log and system log file pass"
