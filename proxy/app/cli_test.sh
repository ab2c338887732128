#!/bin/sh
# Runs a command and checks its exit status (and optionally that stdout or
# stderr contains a string):  cli_test.sh EXPECTED_STATUS [--out TEXT] [--err TEXT] CMD [ARGS...]
expected=$1; shift
want_out=; want_err=
while :; do
  case $1 in
    --out) want_out=$2; shift 2 ;;
    --err) want_err=$2; shift 2 ;;
    *) break ;;
  esac
done
out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
status=$?
fail=0
if [ "$status" -ne "$expected" ]; then
  echo "exit status $status, expected $expected: $*"; fail=1
fi
if [ -n "$want_out" ] && ! grep -qF -- "$want_out" "$out"; then
  echo "stdout lacks '$want_out'"; fail=1
fi
if [ -n "$want_err" ] && ! grep -qF -- "$want_err" "$err"; then
  echo "stderr lacks '$want_err'"; fail=1
fi
if [ "$fail" -ne 0 ]; then
  echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"
fi
exit $fail
