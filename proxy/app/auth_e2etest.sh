#!/usr/bin/env bash
# End-to-end test of the auth module on the real binaries: `llmproxy serve`
# (two workers) with static keys (auth.pipeline static provider and top-level
# api_keys) in front of fake-openai, and a capture backend (a few lines of
# Python that record each request head) to see what goes upstream:
#   - no key, an unknown key, a wrong scheme → 401 invalid_api_key with
#     WWW-Authenticate: Bearer;
#   - disabled, expired, not-yet-valid and IP-denied keys → 403 with their
#     codes; a key marked quota_exceeded → 429 quota_exceeded;
#   - good keys by Authorization: Bearer, X-API-Key and a custom header → 200,
#     streams included; a skip path needs no key;
#   - the client's key reaches no backend (Authorization, X-API-Key and the
#     custom header all dropped), except through a backend with
#     forward_api_key: true;
#   - check-config --print shows no key.
#   auth_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir auth-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK/proxy.log" 2>/dev/null || true; exit 1; }

start_fake fake
# The capture backend: answers every request with a small completion and
# appends its head to heads.log.
cat > "$WORK/capture.py" <<'PY'
import socket, sys, threading
log = open(sys.argv[1], "ab", buffering=0)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(16)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
body = b'{"id":"c","object":"chat.completion","model":"capture-model","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
def serve(c):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d: return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length": n = int(v)
        while len(buf) < n:
            buf += c.recv(65536)
        buf = buf[n:]
        log.write(head + b"\r\n\r\n")
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$WORK/capture.py" "$WORK/heads.log" > "$WORK/capture.log" 2>&1 &
PIDS+=($!)
CAPTURE_PORT=$(listening_port "$WORK/capture.log")

GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF2
server:
  listen: "127.0.0.1:$GW_PORT"
  workers: 2
auth:
  enabled: true
  mode: first_match
  header_names: [Authorization, X-API-Key, X-Team-Key]
  skip_paths: [/v1/embeddings]
  pipeline:
    - name: team
      type: static
      static:
        keys:
          - {key: sk-good-1234567890, name: good, user_id: u1}
          - {key: sk-off-1234567890, status: disabled}
          - {key: sk-old-1234567890, expires_at: "2020-01-01T00:00:00Z"}
          - {key: sk-new-1234567890, starts_at: "2999-01-01T00:00:00Z"}
          - {key: sk-far-1234567890, allowed_ips: ["10.0.0.0/8"]}
          - {key: sk-here-1234567890, allowed_ips: ["127.0.0.0/8", "::1"], denied_ips: ["192.0.2.0/24"]}
          - {key: sk-spent-1234567890, status: 2}
api_keys:
  - sk-top-1234567890
backends:
  - name: fake
    url: "http://127.0.0.1:$PORT_fake"
    models: [fake-model]
  - name: capture
    url: "http://127.0.0.1:$CAPTURE_PORT"
    models: [capture-model]
  - name: forwarding
    url: "http://127.0.0.1:$CAPTURE_PORT"
    models: [forward-model]
    forward_api_key: true
EOF2
"$LLMPROXY" check-config "$WORK/gw.yaml" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check-config"; }
"$LLMPROXY" check-config "$WORK/gw.yaml" --print > "$WORK/print.log" 2>&1 || fail "check-config --print"
grep -q '1234567890' "$WORK/print.log" && fail "--print shows a key: $(grep 1234567890 "$WORK/print.log")"
"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PIDS+=($!)
PORT=$(listening_port "$WORK/proxy.log")
BASE="http://127.0.0.1:$PORT"

# expect STATUS CODE MODEL [curl header args…]: one chat completion.
expect() {
  local want=$1 code=$2 model=$3; shift 3
  local got
  got=$(curl -sS --max-time 20 -o "$WORK/body" -D "$WORK/hdrs" -w '%{http_code}' "$BASE/v1/chat/completions" \
    -H 'Content-Type: application/json' "$@" \
    -d "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}")
  [ "$got" = "$want" ] || fail "$* → $got, want $want: $(cat "$WORK/body")"
  if [ -n "$code" ]; then
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["code"]==sys.argv[2], e' \
      "$WORK/body" "$code" || fail "$* → code $(cat "$WORK/body"), want $code"
  fi
}
M=fake-model
expect 401 invalid_api_key $M
grep -qi '^www-authenticate: Bearer' "$WORK/hdrs" || fail "401 without WWW-Authenticate: $(cat "$WORK/hdrs")"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["type"]=="invalid_request_error", e' \
  "$WORK/body" || fail "401 type: $(cat "$WORK/body")"
expect 401 invalid_api_key $M -H 'Authorization: Bearer sk-nobody-1234567890'
expect 401 invalid_api_key $M -H 'Authorization: Basic sk-good-1234567890'
expect 401 invalid_api_key $M -H 'Authorization: sk-good-1234567890'
expect 403 key_disabled $M -H 'Authorization: Bearer sk-off-1234567890'
expect 403 key_expired $M -H 'Authorization: Bearer sk-old-1234567890'
expect 403 key_not_yet_valid $M -H 'Authorization: Bearer sk-new-1234567890'
expect 403 ip_not_allowed $M -H 'Authorization: Bearer sk-far-1234567890'
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["type"]=="permission_error", e' \
  "$WORK/body" || fail "403 type: $(cat "$WORK/body")"
expect 429 quota_exceeded $M -H 'Authorization: Bearer sk-spent-1234567890'
expect 200 "" $M -H 'Authorization: Bearer sk-good-1234567890'
expect 200 "" $M -H 'authorization: bearer sk-good-1234567890'
expect 200 "" $M -H 'X-API-Key: sk-here-1234567890'
expect 200 "" $M -H 'X-Team-Key: sk-top-1234567890'
# A stream, and a skip path without a key.
out=$(curl -sS --max-time 20 -N "$BASE/v1/chat/completions" -H 'Authorization: Bearer sk-good-1234567890' \
  -H 'Content-Type: application/json' -d '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"a"}]}')
grep -q 'data: \[DONE\]' <<<"$out" || fail "stream: $out"
st=$(curl -sS --max-time 20 -o "$WORK/body" -w "%{http_code}" "$BASE/v1/embeddings" \
  -H 'Content-Type: application/json' -d '{"model":"fake-model","input":"a"}')
[ "$st" = 200 ] || fail "skip path: $st $(cat "$WORK/body")"
# Only whole segments, and never a path that could mean another.
st=$(curl -sS --max-time 20 --path-as-is -o "$WORK/body" -w "%{http_code}" "$BASE/v1/embeddings/../chat/completions" \
  -H 'Content-Type: application/json' -d '{"model":"fake-model","messages":[{"role":"user","content":"a"}]}')
[ "$st" = 401 ] || fail "dot segments under a skip path: $st $(cat "$WORK/body")"
st=$(curl -sS --max-time 20 -o "$WORK/body" -w "%{http_code}" "$BASE/v1/embeddingsx" -H 'Content-Type: application/json' -d '{}')
[ "$st" = 401 ] || fail "/v1/embeddingsx: $st $(cat "$WORK/body")"

# What reached the capture backend: no client key, except where forwarded.
expect 200 "" capture-model -H 'Authorization: Bearer sk-good-1234567890'
expect 200 "" capture-model -H 'X-API-Key: sk-here-1234567890' -H 'X-Team-Key: sk-top-1234567890'
expect 403 key_disabled capture-model -H 'Authorization: Bearer sk-off-1234567890'
[ "$(grep -c '^POST' "$WORK/heads.log")" = 2 ] || fail "capture saw $(grep -c '^POST' "$WORK/heads.log") requests, want 2"
grep -q '1234567890' "$WORK/heads.log" && fail "a client key went upstream: $(cat "$WORK/heads.log")"
expect 200 "" forward-model -H 'Authorization: Bearer sk-good-1234567890'
grep -qi '^authorization: Bearer sk-good-1234567890' "$WORK/heads.log" || fail "forward_api_key: $(cat "$WORK/heads.log")"
grep -q 'sk-good-1234567890\|sk-here-1234567890\|sk-top-1234567890' "$WORK/proxy.log" && fail "a key in the log"
echo "auth e2e: 401/403/429/200, skip paths, no key upstream unless forwarded"
