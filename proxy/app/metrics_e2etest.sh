#!/usr/bin/env bash
# End-to-end test of the metrics module (BEHAVIOR §10): `llmproxy serve` with
# metrics enabled in front of fake-openai. A known workload (3 non-stream,
# 2 stream, 1 rejected JSON, 1 unknown model, 1 unknown path) must show exactly in the
# exposition; the exposition must pass `promtool check metrics`; and a real
# Prometheus server scraping the gateway must answer a PromQL query with the
# same count. Prometheus and promtool come from Debian's `prometheus`
# package (scripts/install-deps); without them this test fails.
#   metrics_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir metrics-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK/proxy.log" 2>/dev/null || true; exit 1; }
command -v promtool >/dev/null || fail "promtool not found: run scripts/install-deps"
command -v prometheus >/dev/null || fail "prometheus not found: run scripts/install-deps"

"$FAKE" --listen 127.0.0.1:0 --ttft 5ms --itl 2ms --tokens 6 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE_PORT=$(listening_port "$WORK/fake.log")
GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF2
server:
  listen: "127.0.0.1:$GW_PORT"
  workers: 2
log:
  level: warn
metrics:
  enabled: true
  path: /metrics
  custom_labels: [model, user_id, api_key]
auth:
  enabled: true
  pipeline:
    - {name: t, type: static, static: {keys: [{key: sk-metrics-e2e-0001, name: ci, user_id: team-a}]}}
backends:
  - name: fake
    url: "http://127.0.0.1:$FAKE_PORT"
EOF2
"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PIDS+=($!)
PORT=$(listening_port "$WORK/proxy.log")
BASE="http://127.0.0.1:$PORT"
CURL=(curl -sS --max-time 20)

chat() {
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/v1/chat/completions" \
    -H 'Authorization: Bearer sk-metrics-e2e-0001' -H 'Content-Type: application/json' -d "$1"
}
for _ in 1 2 3; do
  [ "$(chat '{"model":"fake-model","messages":[{"role":"user","content":"a b"}]}')" = 200 ] || fail "chat"
done
for _ in 1 2; do
  [ "$(chat '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"a"}]}')" = 200 ] \
    || fail "stream"
done
[ "$(chat '{bad')" = 400 ] || fail "bad JSON not 400"
# A model no backend serves: the backend's own 404, relayed.
[ "$(chat '{"model":"other-model","messages":[{"role":"user","content":"a"}]}')" = 404 ] || fail "unknown model not 404"
[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/nowhere")" = 404 ] || fail "404"

"${CURL[@]}" -D "$WORK/headers" "$BASE/metrics" > "$WORK/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/headers" || fail "content type: $(cat "$WORK/headers")"
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.log" 2>&1 \
  || { cat "$WORK/promtool.log"; fail "promtool check metrics"; }

# Exact counts of the workload (the scrape itself is not a proxied request).
value() {  # value of one exact series line
  awk -v s="$1" '$1 == s { print $2 }' "$WORK/metrics.txt"
}
want() {
  local got
  got=$(value "$1")
  [ "$got" = "$2" ] || fail "$1 = '$got', want $2"
}
want 'llmproxy_requests_total{route="chat_completions",backend="fake",status_class="2xx"}' 5
want 'llmproxy_requests_total{route="chat_completions",backend="none",status_class="4xx"}' 1
want 'llmproxy_requests_total{route="chat_completions",backend="fake",status_class="4xx"}' 1
want 'llmproxy_tokens_total{backend="fake",type="output"}' 30
want 'llmproxy_time_to_first_token_seconds_count{backend="fake"}' 2
want 'llmproxy_requests_by_label_total{model="fake-model",user_id="team-a",api_key="ci"}' 5
want 'llmproxy_requests_by_label_total{model="other-model",user_id="team-a",api_key="ci"}' 1
want 'llmproxy_requests_in_flight' 0
want 'llmproxy_backend_healthy{backend="fake"}' 1

# A real Prometheus scrapes the gateway and answers a PromQL query.
PROM_PORT=$(free_port)
cat > "$WORK/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: llmproxy
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
EOF2
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
query='sum(llmproxy_requests_total{route="chat_completions",status_class="2xx"})'
answer=""
for _ in $(seq 1 100); do
  answer=$(curl -sS --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
    --data-urlencode "query=$query" 2>/dev/null || true)
  grep -q '"value":\[[0-9.]*,"5"\]' <<<"$answer" && break
  sleep 0.3
done
grep -q '"value":\[[0-9.]*,"5"\]' <<<"$answer" \
  || { tail -20 "$WORK/prometheus.log"; fail "Prometheus query: $answer"; }
echo "metrics e2e: exact counts, promtool and a Prometheus query all pass"
