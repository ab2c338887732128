#!/bin/sh
# Lints a sample /metrics exposition with Prometheus's promtool:
#   promtool_test.sh METRICS_SAMPLE_BINARY
# promtool exits 1 on a parse error and 3 on lint problems (missing HELP,
# counter without _total, non-base units, ...); both fail this test.
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: run scripts/install-deps (Debian package prometheus)"
  exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$1" >"$out"; then
  echo "$1 failed"
  exit 1
fi
if ! promtool check metrics <"$out"; then
  echo "--- exposition"
  cat "$out"
  exit 1
fi
echo "promtool check metrics: OK ($(wc -l <"$out") lines)"
