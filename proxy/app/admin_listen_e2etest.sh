#!/usr/bin/env bash
# End-to-end test of admin.listen on the real binary: the admin API on a
# listener of its own, and only there.
#   - check-config accepts it, and refuses server.listen's address;
#   - on the admin port: no token 401, create/get/list with the token;
#     /v1, /health and unknown paths 404 (nothing is proxied there);
#   - on the main port: /admin/... 404 like any unknown path, /v1 works;
#   - a reload that changes admin.listen warns it is restart-only and the
#     API stays where it is; SIGTERM closes both listeners and exits 0.
#   admin_listen_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir admin-listen-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK/proxy.log" 2>/dev/null || true; exit 1; }

start_fake fake
GW_PORT=$(free_port)
ADMIN_PORT=$(free_port)
while [ "$ADMIN_PORT" = "$GW_PORT" ]; do ADMIN_PORT=$(free_port); done
TOKEN="e2e-admin-token-$RANDOM$RANDOM"
# write_config ADMIN_LISTEN
write_config() {
  cat > "$WORK/gw.yaml" <<EOF2
server: {listen: "127.0.0.1:$GW_PORT", workers: 2}
log: {level: info}
admin:
  enabled: true
  token: "$TOKEN"
  db_path: "$WORK/data/keys.db"
  listen: "$1"
backends:
  - name: fake
    url: "http://127.0.0.1:$PORT_fake"
EOF2
}

# check-config: server.listen's own address is refused at admin.listen.
write_config "127.0.0.1:$GW_PORT"
if "$LLMPROXY" check-config "$WORK/gw.yaml" > "$WORK/check.log" 2>&1; then fail "check-config took server.listen's address"; fi
grep -q "admin.listen: \"127.0.0.1:$GW_PORT\" is server.listen's address" "$WORK/check.log" \
  || { cat "$WORK/check.log"; fail "the clash is not named at admin.listen"; }
write_config "127.0.0.1:$ADMIN_PORT"
"$LLMPROXY" check-config "$WORK/gw.yaml" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check-config"; }
grep -qi "not implemented" "$WORK/check.log" && { cat "$WORK/check.log"; fail "admin.listen still reported as not implemented"; }

"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
listening_port "$WORK/proxy.log" > /dev/null
for _ in $(seq 100); do grep -q "admin API listening on 127.0.0.1:$ADMIN_PORT" "$WORK/proxy.log" && break; sleep 0.05; done
grep -q "admin API listening on 127.0.0.1:$ADMIN_PORT" "$WORK/proxy.log" || fail "no admin listener line"

ADMIN="http://127.0.0.1:$ADMIN_PORT"
MAIN="http://127.0.0.1:$GW_PORT"
# call METHOD URL [curl args…] -> prints "STATUS BODY"
call() {
  local method=$1 url=$2; shift 2
  curl -sS --max-time 10 -X "$method" -o "$WORK/out" -w '%{http_code}' "$url" "$@" > "$WORK/code"
  echo "$(cat "$WORK/code") $(cat "$WORK/out")"
}
auth=(-H "Authorization: Bearer $TOKEN")

# The admin port: the API with its token check.
r=$(call POST "$ADMIN/admin/keys/list" -d '{}');                   [[ $r == 401* ]] || fail "no token: $r"
r=$(call POST "$ADMIN/admin/keys/list" -d '{}' -H 'X-Admin-Token: wrong'); [[ $r == 401* ]] || fail "wrong token: $r"
K=sk-admin-listen-e2e-0123456789
r=$(call POST "$ADMIN/admin/keys/create" -d "{\"key\":\"$K\",\"name\":\"ci\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "create: $r"
r=$(call POST "$ADMIN/admin/keys/get" -d "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "get: $r"
[ "$(json_field "${r#* }" '["data"]["name"]')" = ci ] || fail "get answer: $r"
r=$(call POST "$ADMIN/admin/keys/list" -d '{}' -H "X-Admin-Token: $TOKEN"); [[ $r == 200* ]] || fail "list: $r"
[ "$(json_field "${r#* }" '["data"]["total"]')" = 1 ] || fail "list total: $r"
r=$(call GET "$ADMIN/admin/keys/list" "${auth[@]}"); [[ $r == 405* ]] || fail "GET on the admin port: $r"

# Nothing else on the admin port.
for path in /v1/models /health /ready /metrics /admin /admin/keys/nope /; do
  r=$(call GET "$ADMIN$path" "${auth[@]}"); [[ $r == 404* ]] || fail "admin port $path: $r"
done
r=$(call POST "$ADMIN/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"m","messages":[{"role":"user","content":"hi"}]}')
[[ $r == 404* ]] || fail "a chat request on the admin port: $r"
[ "$(json_field "${r#* }" '["error"]["code"]')" = not_found ] || fail "404 shape: $r"

# The main port: /v1 as ever, the admin API gone.
r=$(call GET "$MAIN/v1/models"); [[ $r == 200* ]] || fail "main /v1/models: $r"
r=$(call GET "$MAIN/health"); [[ $r == 200* ]] || fail "main /health: $r"
for path in list get create; do
  r=$(call POST "$MAIN/admin/keys/$path" -d "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 404* ]] || fail "main /admin/keys/$path: $r"
  [ "$(json_field "${r#* }" '["error"]["code"]')" = not_found ] || fail "main 404 shape: $r"
done

# A reload that moves admin.listen: restart-only; the API stays put.
OTHER_PORT=$(free_port)
write_config "127.0.0.1:$OTHER_PORT"
kill -HUP "$PROXY_PID"
for _ in $(seq 100); do grep -q '"reloaded"' "$WORK/proxy.log" && break; sleep 0.05; done
grep -q '"reloaded"' "$WORK/proxy.log" || fail "no reload"
grep -q 'takes effect only at the next restart.*admin.listen' "$WORK/proxy.log" || fail "no restart-only warning for admin.listen"
r=$(call POST "$ADMIN/admin/keys/get" -d "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 200* ]] || fail "admin port after reload: $r"
r=$(call POST "$MAIN/admin/keys/get" -d "{\"key\":\"$K\"}" "${auth[@]}"); [[ $r == 404* ]] || fail "main after reload: $r"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$OTHER_PORT/admin/keys/list" -d '{}' "${auth[@]}" 2>/dev/null || true)
[ "$code" = 000 ] || fail "the reload opened the new admin address: $code"

# SIGTERM: both listeners close, the process exits cleanly.
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "serve did not exit cleanly"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$ADMIN/admin/keys/list" -d '{}' "${auth[@]}" 2>/dev/null || true)
[ "$code" = 000 ] || fail "the admin port still answers after the drain: $code"

grep -q '"admin call"' "$WORK/proxy.log" || fail "admin calls are not logged"
grep -q "$K" "$WORK/proxy.log" && fail "a key is in the log"
grep -q "$TOKEN" "$WORK/proxy.log" && fail "the admin token is in the log"
echo "admin.listen e2e: own listener only, main 404, check-config, reload restart-only, drain pass"
