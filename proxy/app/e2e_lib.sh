# shellcheck shell=bash
# Helpers shared by the end-to-end scripts in this folder (sourced).

# e2e_workdir NAME → WORK (a fresh temp dir) and PIDS (processes to stop);
# at exit every pid in PIDS is killed and WORK removed. Scripts that must
# stop things in a particular order set their own trap instead.
e2e_workdir() {
  WORK=$(mktemp -d "/tmp/llmproxy-$1.XXXXXX")
  PIDS=()
  trap e2e_cleanup EXIT
}
e2e_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# Waits (bounded) for "... listening on HOST:PORT" in a log and prints PORT.
listening_port() {
  for _ in $(seq 200); do
    if grep -q "listening on" "$1" 2>/dev/null; then
      grep -m1 "listening on" "$1" | sed -E 's/.*:([0-9]+)$/\1/'
      return 0
    fi
    sleep 0.05
  done
  echo "never listened: $(cat "$1")" >&2
  return 1
}

# A free loopback TCP port (for configs that must name one).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_fake NAME [fake-openai options…] → starts $FAKE on a free loopback
# port, logging to $WORK/fake-NAME.log, adds its pid to PIDS and sets
# PORT_<NAME>. A fast default profile; later options override it.
start_fake() {
  local name=$1; shift
  "$FAKE" --listen 127.0.0.1:0 --name "$name" --ttft 2ms --itl 1ms --tokens 4 "$@" > "$WORK/fake-$name.log" 2>&1 &
  PIDS+=($!)
  printf -v "PORT_$name" '%s' "$(listening_port "$WORK/fake-$name.log")"
}

# start_gateway NAME CONFIG: check-config CONFIG (the script fails with its
# report when it refuses it), then `llmproxy serve` on it in the
# background, logging to $WORK/NAME.log, until it listens. Sets
# GATEWAY_PID (also added to PIDS) and GATEWAY_PORT. Needs LLMPROXY and
# the script's fail().
start_gateway() {
  local name=$1 config=$2
  "$LLMPROXY" check-config "$config" > "$WORK/check-$name.log" 2>&1 || { cat "$WORK/check-$name.log"; fail "check-config $config"; }
  "$LLMPROXY" serve --config "$config" > "$WORK/$name.log" 2>&1 &
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
  GATEWAY_PORT=$(listening_port "$WORK/$name.log")
}

# json_field JSON EXPR → the value at EXPR ('["data"]["key"]') of JSON.
json_field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval("d"+sys.argv[2]))' "$1" "$2"; }

# keyed_chat GW KEY [stream] → prints the HTTP status of a chat completion
# sent with `Authorization: Bearer KEY`; the body goes to $WORK/out.
keyed_chat() {
  local body='{"model":"fake-model","messages":[{"role":"user","content":"hello there"}]}'
  [ "${3:-}" = stream ] && body='{"model":"fake-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello there"}]}'
  curl -sS --max-time 10 -o "$WORK/out" -w '%{http_code}' "$1/v1/chat/completions" \
    -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$body"
}

# The total_tokens of the response in $WORK/out (plain JSON or SSE), as the
# client was told.
tokens_seen() {
  python3 - "$WORK/out" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
docs = [l[5:].strip() for l in text.splitlines() if l.startswith("data:")] or [text]
total = 0
for d in docs:
    if d == "[DONE]": continue
    u = json.loads(d).get("usage")
    if u: total = u["total_tokens"]
print(total)
PY
}

# start_redis: a redis-server of the script's own on $REDIS_PORT (loopback,
# no persistence, its files in $WORK), so the script may stop and restart
# it; REDIS_PID while it runs. Fails when it does not answer PING.
start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK" --logfile "$WORK/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "redis-server did not start: $(cat "$WORK/redis.log" 2>/dev/null)" >&2
  return 1
}
stop_redis() {
  if [ -n "${REDIS_PID:-}" ]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  REDIS_PID=
}

# chats_until_refused KEY GW… → prints "LET_IN TOKENS LARGEST": rounds of 8
# concurrent chat completions with KEY, spread over the gateways, until a
# round lets none in. Exits non-zero on an answer other than 200 or 429
# quota_exceeded. TOKENS: the total_tokens the clients were told; LARGEST:
# the largest of one request.
chats_until_refused() {
  python3 - "$@" <<'PY'
import json, sys, threading, urllib.request, urllib.error
key, gws = sys.argv[1], sys.argv[2:]
body = json.dumps({"model": "fake-model", "messages": [{"role": "user", "content": "hello there"}]}).encode()
ok, tokens, most, wrong, lock = 0, 0, 0, [], threading.Lock()
def one(gw):
    global ok, tokens, most
    req = urllib.request.Request(gw + "/v1/chat/completions", data=body,
                                 headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            t = json.load(r)["usage"]["total_tokens"]
            with lock: ok, tokens, most = ok + 1, tokens + t, max(most, t)
    except urllib.error.HTTPError as e:
        code = json.load(e)["error"]["code"]
        if e.code != 429 or code != "quota_exceeded": wrong.append(f"{e.code} {code}")
for _ in range(500):
    before = ok
    threads = [threading.Thread(target=one, args=(gws[i % len(gws)],)) for i in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    if wrong: raise SystemExit("unexpected answer: " + wrong[0])
    if ok == before: break
print(ok, tokens, most)
PY
}
