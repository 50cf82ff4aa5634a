#!/usr/bin/env bash
# fuzz.sh: runs every fuzz target for a bounded time (FUZZTIME each, default 20s). A failing
# input is written under the package's testdata/fuzz/ (commit it: it becomes a regression
# test of `go test`) and the script exits 1.
set -euo pipefail
FUZZTIME=${FUZZTIME:-20s}
cd "$(dirname "$0")/.."
# package and target, one per line
TARGETS=(
  "./gateway/proxy FuzzNormalizePath"
)
for t in "${TARGETS[@]}"; do
  set -- $t
  echo "fuzz: $2 ($1) for $FUZZTIME" >&2
  go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10s
done
