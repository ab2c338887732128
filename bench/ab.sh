#!/usr/bin/env bash
# A/B of two llmproxy binaries (say, before and after a change) on the same
# fake-openai: ROUNDS interleaved rounds of wrk cells (non-stream at
# concurrency 1 and 64, stream at 64), medians per cell: requests/s, p50,
# p99 and the proxy's CPU per request. Same machine, same moment, so the
# noise of a shared VM hits both alike; rank only by the medians.
#
#   bench/ab.sh OLD_LLMPROXY NEW_LLMPROXY            # 3 rounds of 5 s cells
#   ROUNDS=5 DURATION=3 bench/ab.sh old/llmproxy build-bench/proxy/app/llmproxy
#   NEW_EXTRA="$(cat extra.yaml)" bench/ab.sh B B   # one binary, modules on vs off
# FAKE (default build-bench/fake_backends/fake-openai) is the backend.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
FAKE=${FAKE:-build-bench/fake_backends/fake-openai}
for b in "$OLD" "$NEW" "$FAKE"; do [ -x "$b" ] || { echo "missing $b (see bench/e2e.sh)"; exit 2; }; done
command -v wrk >/dev/null || { echo "wrk missing: scripts/install-deps"; exit 2; }
. bench/bench_lib.sh

FAKE_PORT=$(free_port)
start_fake "$FAKE_PORT"
declare -A PORT PID
for side in old new; do
  PORT[$side]=$(free_port)
  cat > "$WORK/$side.yaml" <<YAML
server: {listen: "127.0.0.1:${PORT[$side]}", workers: 1}
log: {level: warn}
backends: [{name: fake, url: "http://127.0.0.1:$FAKE_PORT", max_idle_conns: 256}]
YAML
  # NEW_EXTRA: top-level YAML appended to the new side's config only.
  if [ "$side" = new ] && [ -n "${NEW_EXTRA:-}" ]; then
    printf '%s\n' "${NEW_EXTRA//@WORK@/$WORK}" >> "$WORK/$side.yaml"
  fi
  bin=$OLD; [ "$side" = new ] && bin=$NEW
  "$bin" serve --config "$WORK/$side.yaml" > "$WORK/$side.log" 2>&1 &
  PID[$side]=$!
  PIDS+=("${PID[$side]}")
done
wait_port "$FAKE_PORT"; wait_port "${PORT[old]}"; wait_port "${PORT[new]}"

CELLS=("non-stream 1 $BODY" "non-stream 64 $BODY" "stream 64 $SBODY")
: > "$WORK/results"
for r in $(seq "$ROUNDS"); do
  for cell in "${CELLS[@]}"; do
    read -r mode conc body <<< "$cell"
    # Alternate which side goes first, so neither always runs warm.
    order=(old new); [ $((r % 2)) -eq 0 ] && order=(new old)
    for side in "${order[@]}"; do
      echo "$mode $conc $side $(run "${PORT[$side]}" "$conc" "$body" "${PID[$side]}")" >> "$WORK/results"
    done
  done
done
echo "A/B, $(date -u +%FT%TZ), $ROUNDS rounds x ${DURATION}s per cell, medians; load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/results" <<'PY'
import statistics, sys
from collections import defaultdict
cells = defaultdict(list)
for line in open(sys.argv[1]):
    mode, conc, side, rps, p50, p99, errs, cpu = line.split()
    cells[(mode, int(conc), side)].append((float(rps), float(p50), float(p99), int(errs), float(cpu)))
print(f"{'mode':<11}{'conc':>5} {'side':<4}{'rps':>9}{'p50_ms':>9}{'p99_ms':>9}{'errors':>7}{'cpu_us/req':>11}")
for key in sorted(cells, key=lambda k: (k[0], k[1], k[2] != 'old')):
    v = cells[key]
    med = [statistics.median(x[i] for x in v) for i in range(5)]
    print(f"{key[0]:<11}{key[1]:>5} {key[2]:<4}{med[0]:>9.0f}{med[1]:>9.3f}{med[2]:>9.3f}{int(sum(x[3] for x in v)):>7}{med[4]:>11.1f}")
PY
