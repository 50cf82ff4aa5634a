#!/usr/bin/env bash
# make bench, console part: at N synthetic pods (default 10,000) in the lab's namespace,
# measures in one run against `kubectl get pods -o json` on the same namespace:
#   - time to the first complete dashboard (process start → first frame with Kubernetes
#     synced and every source answered), vs kubectl's wall time — both as whole processes,
#     timed by hyperfine (1 warm-up, 5 runs, mean ± σ);
#   - resident memory after sync; mean and p99 time to render a frame of the pod view;
#   - LIST requests while idle after sync;
#   - time to the pods view's first rows vs `kubectl get pods` (both whole processes, hyperfine);
#   - the drill-downs: enter on a pod → its detail and events on screen (real reads through the
#     inspector, 30 pods spread over the N), a log view holding 100,000 real gateway lines:
#     its extra memory and its frame time, with and without a search.
# Prints the figures and the ratios; never fails on a figure. Brings the lab up if needed
# and leaves it as it found it (the synthetic workload is removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${PODS:-10000}
APIMCTL=bin/apimctl
KUBECTL="$HOME/.cache/apimctl/bin/k8s-v1.37.2/kubectl"
out=.bench
mkdir -p "$out"

started_lab=0
cleanup() {
  rc=$?
  "$APIMCTL" lab scale --pods 0 >/dev/null 2>&1 || true
  [ "$started_lab" = 1 ] && "$APIMCTL" lab down >/dev/null || true
  exit $rc
}
trap cleanup EXIT
if ! "$APIMCTL" lab status >/dev/null 2>&1; then
  started_lab=1
  "$APIMCTL" lab up
fi
eval "$("$APIMCTL" lab env)"

echo "bench: scaling the lab to $N synthetic pods" >&2
"$APIMCTL" lab scale --pods "$N"
total=$("$KUBECTL" get pods -n "$APIM_NAMESPACE" --no-headers 2>/dev/null | wc -l)
echo "bench: $total pods in namespace $APIM_NAMESPACE; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

hyperfine --warmup 1 --runs 5 --style basic --export-json "$out/first-dashboard.json" \
  -n kubectl "$KUBECTL get pods -n $APIM_NAMESPACE -o json > /dev/null" \
  -n apimctl "$APIMCTL debug first-dashboard > /dev/null" \
  -n kubectl-rows "$KUBECTL get pods -n $APIM_NAMESPACE > /dev/null" \
  -n apimctl-rows "$APIMCTL debug first-rows > /dev/null" >&2

"$APIMCTL" debug console-profile --idle 15s > "$out/console-profile.json"
"$APIMCTL" debug drill-profile --opens 30 --lines 100000 > "$out/drill-profile.json"

python3 - "$out" "$total" <<'PY'
import json, sys
out, total = sys.argv[1], sys.argv[2]
h = {r["command"]: r for r in json.load(open(f"{out}/first-dashboard.json"))["results"]}
p = json.load(open(f"{out}/console-profile.json"))
d = json.load(open(f"{out}/drill-profile.json"))
k, a = h["kubectl"], h["apimctl"]
kr, ar = h["kubectl-rows"], h["apimctl-rows"]
print(f"console bench at {total} pods (same run, same namespace)")
print(f"  kubectl get pods -o json   {k['mean']*1000:8.0f} ms ± {k['stddev']*1000:.0f}")
print(f"  first complete dashboard   {a['mean']*1000:8.0f} ms ± {a['stddev']*1000:.0f}   ratio {a['mean']/k['mean']:.2f}× kubectl (target ≤ 1.0×)")
print(f"  resident memory after sync {p['rssAfterSyncMiB']:8.0f} MiB   (target ≤ 150 MiB)")
print(f"  pod view frame             {p['podFrameMeanMillis']:8.2f} ms mean, {p['podFrameP99Millis']:.2f} ms p99 (target ≤ 16 ms)")
print(f"  LIST requests while idle   {p['listRequestsWhileIdle']:8d} in {p['idleSeconds']:.0f} s (target 0); watches {p['watchRequestsTotal']}")
print(f"  kubectl get pods (table)   {kr['mean']*1000:8.0f} ms ± {kr['stddev']*1000:.0f}")
print(f"  console's first pod rows   {ar['mean']*1000:8.0f} ms ± {ar['stddev']*1000:.0f}   ratio {ar['mean']/kr['mean']:.2f}× kubectl get pods")
print(f"  enter → pod detail+events  {d['openP50Millis']:8.1f} ms p50, {d['openP95Millis']:.1f} ms p95, {d['openMaxMillis']:.1f} ms max over {d['opens']} pods (target ≤ 100 ms)")
print(f"  pod detail frame           {d['podDetailFrameMillis']:8.2f} ms mean (target ≤ 16 ms)")
print(f"  log view, {d['logLines']} lines      {d['logExtraMiB']:8.1f} MiB extra heap for {d['logTextMiB']:.1f} MiB of text (target ≤ 50 MiB)")
print(f"  log view frame             {d['logFrameMillis']:8.2f} ms mean, {d['logFrameP99Millis']:.2f} ms p99; searching {d['logSearchFrameMillis']:.2f} ms ({d['logSearchMatches']} matches) (target ≤ 16 ms)")
PY
