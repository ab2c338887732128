#!/usr/bin/env bash
# What the metrics and access-log modules cost, as a share of the gateway's
# own CPU, read from a profile instead of from two noisy timings: llmproxy
# (workers: 1) with `metrics` and `logging.access` to a file (combined)
# serves wrk while `perf record` samples every thread of it; the samples in
# the modules' code (metrics::, access_log::, log:: formatting, the file
# writer's thread) are divided by all of the process's samples. On a shared
# two-core machine, A/B timings of "modules on" against "off" swing by ±15 %
# between rounds of the same binary; sample shares do not.
#
#   bench/modules_share.sh               # 4 s per cell
#   DURATION=8 bench/modules_share.sh
# Needs perf (Debian: linux-perf) and wrk. Costs that are not in module
# symbols (a clock read per token for the inter-token histogram, inlined
# counter increments) are not counted; they are a few instructions each.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
DURATION=${DURATION:-4}
LLMPROXY="$BUILD_DIR/proxy/app/llmproxy"
FAKE="$BUILD_DIR/fake_backends/fake-openai"
for b in "$LLMPROXY" "$FAKE"; do [ -x "$b" ] || { echo "missing $b (see bench/e2e.sh)"; exit 2; }; done
command -v perf >/dev/null || { echo "perf missing (apt-get install linux-perf)"; exit 2; }
command -v wrk >/dev/null || { echo "wrk missing: scripts/install-deps"; exit 2; }
. bench/bench_lib.sh

FAKE_PORT=$(free_port); PROXY_PORT=$(free_port)
start_fake "$FAKE_PORT"
cat > "$WORK/llmproxy.yaml" <<YAML
server: {listen: "127.0.0.1:$PROXY_PORT", workers: 1}
log: {level: warn}
backends: [{name: fake, url: "http://127.0.0.1:$FAKE_PORT", max_idle_conns: 256}]
metrics: {enabled: true}
logging:
  enabled: true
  access: {enabled: true, storage: file, format: combined, file: {path: "$WORK/access.log"}}
YAML
"$LLMPROXY" serve --config "$WORK/llmproxy.yaml" > "$WORK/llmproxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_port "$PROXY_PORT"

# share BODY CONNS -> "module share of the gateway's samples, in %"
share() {
  local threads=1; [ "$2" -gt 1 ] && threads=2
  WRK_BODY=$1 wrk -t"$threads" -c"$2" -d"$((DURATION + 2))s" -s "$WORK/post.lua" \
    "http://127.0.0.1:$PROXY_PORT/v1/chat/completions" > "$WORK/wrk.out" 2>&1 &
  local wrk_pid=$!
  sleep 1
  perf record -q -F 4000 -p "$PROXY_PID" -o "$WORK/perf.data" -- sleep "$DURATION" > /dev/null 2>&1
  wait "$wrk_pid" || true
  perf report -i "$WORK/perf.data" --no-children --sort pid,sym --stdio -g none 2>/dev/null |
    awk '
      # lines: "  12.34%  4595:llmproxy  [.] symbol"; the busiest thread is
      # the worker; every other thread of the process is idle under load
      # except the access-log writer, whose samples are module cost (the
      # main thread waiting for signals is counted too: a conservative error)
      /^ +[0-9.]+%/ {
        p = $1; sub("%", "", p)
        tid = $2; total[tid] += p
        if ($0 ~ /metrics::|access_log::|log::|LogFileWriter|civil/) sym[tid] += p
      }
      END {
        for (t in total) if (worker == "" || total[t] > total[worker]) worker = t
        for (t in total) mod += (t == worker) ? sym[t] : total[t]
        printf "%.2f", mod
      }'
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| cell | modules share of gateway CPU |\n|---|---|\n'
printf '| non-stream c=1 | %s %% |\n' "$(share "$BODY" 1)"
printf '| non-stream c=64 | %s %% |\n' "$(share "$BODY" 64)"
printf '| stream c=64 | %s %% |\n' "$(share "$SBODY" 64)"
[ -s "$WORK/access.log" ] || { echo "the access log stayed empty: the modules did not run"; exit 1; }
