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
