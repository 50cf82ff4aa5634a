#!/usr/bin/env bash
# The whole test suite: the fuzz targets (bounded), unit tests, integration tests against the lab, then the fault
# drills (which stop lab components, so they run alone, last). Brings the lab up if it is not
# running and, in that case, brings it down again at the end — leaving no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."

APIMCTL=${APIMCTL:-bin/apimctl}
started_lab=0
cleanup() {
  rc=$?
  if [ "$started_lab" = 1 ]; then
    echo "test: bringing the lab down" >&2
    "$APIMCTL" lab down || rc=1
  fi
  exit $rc
}
trap cleanup EXIT

# The fuzz targets, bounded (FUZZTIME each, 15 s here); a failing input fails the suite.
echo "test: fuzz targets" >&2
FUZZTIME=${FUZZTIME:-15s} scripts/fuzz.sh

if ! "$APIMCTL" lab status >/dev/null 2>&1; then
  echo "test: the lab is not (fully) running; bringing it up" >&2
  started_lab=1
  "$APIMCTL" lab up
fi

pkgs=$(go list ./... | grep -v /drills)
echo "test: unit and integration tests" >&2
go test -count=1 -timeout 20m $pkgs
echo "test: fault drills" >&2
go test -count=1 -p 1 -timeout 15m ./lab/drills/...
