#!/usr/bin/env bash
# End-to-end test of the webhook auth provider on the real binary (2
# workers) against a small key service (webhook_auth_server.py):
#   - a key the service answers 200 with fields for is let in;
#     {} lets a key in without rules; the fields are judged (an IP list);
#   - 401 from the service is 401 invalid_api_key, 403 is 403 key_disabled;
#   - the service is sent the key once (api_key) with the request's method,
#     path, client and headers, not the key header, and the configured
#     header;
#   - with cache_ttl 0 every request asks; the service stopped: 503
#     auth_unavailable, never let in; the key is never in the log.
#   webhook_auth_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir webhook-auth-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK"/proxy.log 2>/dev/null || true; exit 1; }

start_fake fake --tokens 5
TOKEN="hook-token-$RANDOM"
python3 "$(dirname "$0")/webhook_auth_server.py" "$WORK/calls.log" "$TOKEN" > "$WORK/hook.log" 2>&1 &
HOOK_PID=$!
PIDS+=("$HOOK_PID")
HOOK_PORT=$(listening_port "$WORK/hook.log")
GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF2
server: {listen: "127.0.0.1:$GW_PORT", workers: 2}
auth:
  enabled: true
  cache_ttl: 0s
  pipeline:
    - name: keys-service
      type: webhook
      webhook:
        url: "http://127.0.0.1:$HOOK_PORT/check"
        timeout: 2s
        headers: {X-Hook-Token: "$TOKEN"}
backends:
  - {name: fake, url: "http://127.0.0.1:$PORT_fake"}
EOF2
start_gateway proxy "$WORK/gw.yaml"
GW="http://127.0.0.1:$GW_PORT"

# chat KEY -> "STATUS" and the body in $WORK/out
chat() {
  curl -sS --max-time 10 -o "$WORK/out" -w '%{http_code}' "$GW/v1/chat/completions?x=1" \
    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -H 'X-Team: blue' \
    -d '{"model":"fake-model","messages":[{"role":"user","content":"hello there"}]}'
}
expect() {  # expect KEY STATUS [CODE]
  local got; got=$(chat "$1")
  [ "$got" = "$2" ] || fail "$1: $got $(cat "$WORK/out")"
  [ -z "${3:-}" ] || grep -q "\"code\":\"$3\"" "$WORK/out" || fail "$1: code $3 expected: $(cat "$WORK/out")"
}

expect sk-alice 200
expect sk-any 200
expect sk-office 403 ip_not_allowed
expect sk-blocked 403 key_disabled
expect sk-nobody 401 invalid_api_key
[ "$(wc -l < "$WORK/calls.log")" = 5 ] || fail "5 requests, $(wc -l < "$WORK/calls.log") calls (cache_ttl 0 asks every time)"

python3 - "$WORK/calls.log" <<'PY' || fail "what the service was sent: $(head -1 "$WORK/calls.log")"
import json, sys
call = json.loads(open(sys.argv[1]).readline())
assert call["api_key"] == "sk-alice", call
r = call["request"]
assert r["method"] == "POST" and r["path"] == "/v1/chat/completions", r
assert r["client_ip"] == "127.0.0.1", r
assert r["headers"]["x-team"] == "blue" and r["headers"]["content-type"] == "application/json", r
assert "authorization" not in r["headers"], r
PY

# The service gone: nobody is let in, nobody is told the key is wrong.
kill "$HOOK_PID"; wait "$HOOK_PID" 2>/dev/null || true
expect sk-alice 503 auth_unavailable
expect sk-nobody 503 auth_unavailable
grep -q "sk-alice\|sk-nobody" "$WORK/proxy.log" && fail "a key is in the log"
grep -q "keys-service" "$WORK/proxy.log" || fail "the failure is not logged: $(cat "$WORK/proxy.log")"
echo "webhook auth e2e: 200 with fields, {}, 401, 403, what the service is sent, service down = 503: pass"
