#!/usr/bin/env bash
# End-to-end test of the admin API on the real binary: `llmproxy serve`
# with admin enabled and its SQLite key store in a temp dir.
#   - no token or the wrong one is a 401; the token by either header works;
#   - a generated key is returned once (sk- + 64 hex digits) and never again;
#     the SQLite file holds its SHA-256, not the key;
#   - a key created with a value, updated, listed (total), and deleted;
#     duplicates 409, unknown 404, a bad field 400 naming it, GET 405;
#   - keys survive a restart (the file), and a reload keeps the store;
#   - the log names calls with key prefixes only, never a key or the token.
#   admin_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir admin-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK"/proxy-*.log 2>/dev/null || true; exit 1; }

"$FAKE" --listen 127.0.0.1:0 --ttft 1ms --itl 1ms --tokens 3 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE_PORT=$(listening_port "$WORK/fake.log")
GW_PORT=$(free_port)
TOKEN="e2e-admin-token-$RANDOM$RANDOM"
cat > "$WORK/gw.yaml" <<EOF2
server: {listen: "127.0.0.1:$GW_PORT", workers: 2}
log: {level: info}
admin:
  enabled: true
  token: "$TOKEN"
  db_path: "$WORK/data/keys.db"
backends:
  - name: fake
    url: "http://127.0.0.1:$FAKE_PORT"
EOF2
"$LLMPROXY" check-config "$WORK/gw.yaml" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check-config"; }
RUN=0
start() {  # each run logs to its own file (listening_port reads the first "listening")
  RUN=$((RUN + 1))
  "$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy-$RUN.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=($PROXY_PID)
  listening_port "$WORK/proxy-$RUN.log" > /dev/null
}
start
BASE="http://127.0.0.1:$GW_PORT/admin/keys"
# admin CALL BODY [curl args…] -> prints "STATUS BODY"
admin() {
  local path=$1 body=$2; shift 2
  curl -sS --max-time 10 -o "$WORK/out" -w '%{http_code}' "$BASE/$path" -d "$body" "$@" > "$WORK/code"
  echo "$(cat "$WORK/code") $(cat "$WORK/out")"
}
auth=(-H "Authorization: Bearer $TOKEN")

r=$(admin list '{}');                         [[ $r == 401* ]] || fail "no token: $r"
r=$(admin list '{}' -H 'Authorization: Bearer wrong'); [[ $r == 401* ]] || fail "wrong token: $r"
r=$(admin list '{}' -H "X-Admin-Token: $TOKEN"); [[ $r == 200* ]] || fail "X-Admin-Token: $r"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/list" "${auth[@]}"); [ "$code" = 405 ] || fail "GET: $code"

# A generated key.
r=$(admin create '{"name":"generated","user_id":"team-a"}' "${auth[@]}"); [[ $r == 200* ]] || fail "create: $r"
GEN=$(json_field "${r#* }" '["data"]["key"]')
[[ $GEN =~ ^sk-[0-9a-f]{64}$ ]] || fail "generated key shape: $GEN"
r=$(admin get "{\"key\":\"$GEN\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "get generated: $r"
grep -q "$GEN" <<<"$r" && fail "the generated key was shown again: $r"
digest=$(printf %s "$GEN" | sha256sum | cut -d' ' -f1)
sqlite3 "$WORK/data/keys.db" "SELECT key_hash FROM llmproxy_api_keys" > "$WORK/hashes"
grep -qx "$digest" "$WORK/hashes" || fail "digest not stored"
sqlite3 "$WORK/data/keys.db" .dump > "$WORK/dump"
grep -q "$GEN" "$WORK/dump" && fail "the key itself is in the database"

# A key given by value, through its life.
K=sk-e2e-given-key-0123456789
r=$(admin create "{\"key\":\"$K\",\"name\":\"ci\",\"expires_at\":\"2030-01-01T00:00:00Z\",\"allowed_ips\":[\"10.0.0.0/8\"]}" "${auth[@]}")
[[ $r == 200* ]] || fail "create given: $r"
r=$(admin create "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 409* ]] || fail "duplicate: $r"
r=$(admin update "{\"key\":\"$K\",\"status\":\"disabled\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "update: $r"
[ "$(json_field "${r#* }" '["data"]["status_name"]')" = disabled ] || fail "status after update: $r"
r=$(admin update "{\"key\":\"$K\",\"expires_at\":\"soon\"}" "${auth[@]}"); [[ $r == 400* ]] || fail "bad field: $r"
[[ $(json_field "${r#* }" '["message"]') == expires_at:* ]] || fail "400 names the field: $r"
r=$(admin list '{"limit":1}' "${auth[@]}"); [ "$(json_field "${r#* }" '["data"]["total"]')" = 2 ] || fail "list total: $r"

# Restart: the keys are in the file.
kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || fail "serve did not exit cleanly"
start
r=$(admin get "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "after restart: $r"
# Reload: the store stays.
kill -HUP "$PROXY_PID"
for _ in $(seq 100); do grep -q '"reloaded"' "$WORK/proxy-$RUN.log" && break; sleep 0.05; done
grep -q '"reloaded"' "$WORK/proxy-$RUN.log" || fail "no reload"
r=$(admin delete "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "delete after reload: $r"
r=$(admin get "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 404* ]] || fail "deleted key: $r"

# The log: calls with prefixes, no key, no token.
# (grep reads files: with pipefail, `cat … | grep -q` fails when grep stops
# early and cat gets SIGPIPE)
grep -q '"admin call"' "$WORK"/proxy-*.log || fail "admin calls are not logged"
grep -q "$K" "$WORK"/proxy-*.log && fail "a key is in the log"
grep -q "$GEN" "$WORK"/proxy-*.log && fail "the generated key is in the log"
grep -q "$TOKEN" "$WORK"/proxy-*.log && fail "the admin token is in the log"
echo "admin e2e: token, generated and given keys, errors, restart, reload, logs pass"
