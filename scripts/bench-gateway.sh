#!/usr/bin/env bash
# bench-gateway.sh: apigw vs nginx as reverse proxies in front of the same local backend,
# everything on 127.0.0.1. Prints RPS and p99 per case, the ratios against nginx, the API-key
# to passthrough ratio, and apigw's peak resident memory under load.
#
# Needs wrk and nginx (Debian: apt-get install -y wrk nginx-light); installs nothing itself.
# The API-key case needs the lab's Cassandra (env.json from `apimctl lab up`); without it the
# case is skipped. Every process started here is stopped by its PID on exit.
#
# Tunables: DURATION (10s) THREADS (2) CONNS (32) BASE_PORT (18080).
set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
BASE_PORT=${BASE_PORT:-18080}
BACKEND_PORT=$((BASE_PORT + 1)); NGINX_PORT=$((BASE_PORT + 2)); GW_PORT=$((BASE_PORT + 3)); GW_ADMIN=$((BASE_PORT + 4))
MGR_PORT=$((BASE_PORT + 5)); MGR_ADMIN=$((BASE_PORT + 6))
LAB_ENV=${APIMCTL_LAB_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/apimctl/lab}/env.json

for tool in wrk nginx go; do
  command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 || {
    echo "bench-gateway: $tool not found (apt-get install -y wrk nginx-light)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/bench-gateway.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${PREFIX:-}" ] && [ -n "${CQL_CLEANUP:-}" ] && eval "$CQL_CLEANUP" || true
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_http() { # url, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench-gateway: $1 did not answer" >&2
  for f in "$TMP"/*.log; do echo "--- $f" >&2; tail -5 "$f" >&2; done
  return 1
}

echo "building apigw and the backend..." >&2
(cd "$ROOT" && go build -o "$TMP/apigw" ./cmd/apigw && go build -o "$TMP/backend" ./gateway/bench/backend)

"$TMP/backend" -listen 127.0.0.1:$BACKEND_PORT & PIDS+=($!)
wait_http http://127.0.0.1:$BACKEND_PORT/1k 10

mkdir -p "$TMP/nginx"
cat > "$TMP/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $TMP/nginx/access.log combined buffer=64k flush=1s;
  upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
"$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" & PIDS+=($!)
wait_http http://127.0.0.1:$NGINX_PORT/1k 10

# apigw: passthrough always; API key when the lab is up.
KEY=""
cat > "$TMP/pol.yaml" <<POL
apis:
  - {name: pass, path: /pass, backend: "http://127.0.0.1:$BACKEND_PORT", policy: passthrough, stripPrefix: true}
POL
{
  echo "eventLog:"
  echo "  dir: $TMP/events"
} > "$TMP/env.yaml"
GWENV=()
if [ -f "$LAB_ENV" ]; then
  PREFIX="bench$(date +%s)_"
  eval "$(python3 - "$LAB_ENV" <<'PY'
import json, shlex, sys
e = json.load(open(sys.argv[1]))
v = {"CASS_HOST": ",".join(e["cassandraHosts"]), "CASS_PORT": str(e["cassandraPort"]), "CASS_USERNAME": e["cassandraUser"],
     "CASS_PASS": e["cassandraPassword"], "CASS_KEYSPACE": e["keyspace"], "CASS_TKEYSPACE": e["throttleKeyspace"]}
for k, x in v.items():
    print(f"export {k}={shlex.quote(x)}")
PY
)"
  cat >> "$TMP/env.yaml" <<ENV
cassandra:
  hosts: \${environment.CASS_HOST}
  port: \${environment.CASS_PORT}
  username: \${environment.CASS_USERNAME}
  password: \${environment.CASS_PASS}
  keyspace: \${environment.CASS_KEYSPACE}
  throttleKeyspace: \${environment.CASS_TKEYSPACE}
  tablePrefix: $PREFIX
ENV
  echo "  - {name: key, path: /key, backend: \"http://127.0.0.1:$BACKEND_PORT\", policy: apikey, stripPrefix: true}" >> "$TMP/pol.yaml"
  "$TMP/apigw" --role apimgr --env "$TMP/env.yaml" --port $MGR_PORT --admin-port $MGR_ADMIN --skip-prechecks 2>"$TMP/apimgr.log" & PIDS+=($!)
  wait_http http://127.0.0.1:$MGR_PORT/healthcheck 90
  APP=$(curl -fsS -X POST -d '{"name":"bench","apis":["key"]}' http://127.0.0.1:$MGR_PORT/api/applications | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  KEY=$(curl -fsS -X POST http://127.0.0.1:$MGR_PORT/api/applications/$APP/keys | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  CQL_CLEANUP="true" # tables are left under the unique prefix $PREFIX (Cassandra drops are slow; they are tiny)
else
  echo "no lab ($LAB_ENV): the API-key case is skipped" >&2
fi
"$TMP/apigw" --role traffic --pol "$TMP/pol.yaml" --env "$TMP/env.yaml" --port $GW_PORT --admin-port $GW_ADMIN \
  --skip-prechecks --drain-delay 0s --log-level warn 2>"$TMP/apigw.log" & GW_PID=$!; PIDS+=($GW_PID)
wait_http http://127.0.0.1:$GW_ADMIN/healthcheck 60

PEAK_RSS=0
sample_rss() { # samples apigw's VmRSS every 200 ms into $TMP/rss until killed
  while kill -0 $GW_PID 2>/dev/null; do
    awk '/VmRSS/ {print $2}' /proc/$GW_PID/status 2>/dev/null >> "$TMP/rss" || true
    sleep 0.2
  done
}
sample_rss & SAMPLER=$!; PIDS+=($SAMPLER)

# run NAME URL [HEADER]: prints "rps p99ms"
run() {
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$3" "$2")
  else
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$2")
  fi
  echo "$out" > "$TMP/wrk-$1.txt"
  if echo "$out" | grep -q "Non-2xx"; then echo "bench-gateway: $1 had non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  echo "$rps $p99"
}

# Warm up connections and the key cache.
wrk -t1 -c4 -d2s http://127.0.0.1:$GW_PORT/pass/1k >/dev/null
wrk -t1 -c4 -d2s http://127.0.0.1:$NGINX_PORT/1k >/dev/null
[ -n "$KEY" ] && wrk -t1 -c4 -d2s -H "KeyId: $KEY" http://127.0.0.1:$GW_PORT/key/1k >/dev/null

declare -A R
for size in 1k 10k; do
  R[nginx_$size]=$(run nginx_$size http://127.0.0.1:$NGINX_PORT/$size)
  R[pass_$size]=$(run pass_$size http://127.0.0.1:$GW_PORT/pass/$size)
  if [ -n "$KEY" ]; then R[key_$size]=$(run key_$size http://127.0.0.1:$GW_PORT/key/$size "KeyId: $KEY"); fi
done
PEAK_RSS=$(sort -n "$TMP/rss" | tail -1)
HITS=$(curl -fsS http://127.0.0.1:$GW_ADMIN/metrics | awk '/^apigw_store_cache_total/ && /result="hit"/ && /kind="key"/ {print $2}')
MISSES=$(curl -fsS http://127.0.0.1:$GW_ADMIN/metrics | awk '/^apigw_store_cache_total/ && /result="miss"/ && /kind="key"/ {print $2}')

echo
echo "apigw vs nginx, wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) CPUs shared by wrk, proxies and backend"
printf "%-22s %12s %10s\n" case RPS p99_ms
for size in 1k 10k; do
  for c in nginx pass key; do
    v=${R[${c}_$size]:-}
    [ -z "$v" ] && continue
    set -- $v
    printf "%-22s %12.0f %10.2f\n" "$c $size" "$1" "$2"
  done
done
echo
for size in 1k 10k; do
  set -- ${R[nginx_$size]}; n_rps=$1; n_p99=$2
  set -- ${R[pass_$size]}; p_rps=$1; p_p99=$2
  awk -v a="$p_rps" -v b="$n_rps" -v c="$p_p99" -v d="$n_p99" -v s="$size" \
    'BEGIN { printf "%-4s passthrough/nginx: RPS %.2fx   p99 %.2fx\n", s, a/b, c/d }'
  if [ -n "${R[key_$size]:-}" ]; then
    set -- ${R[key_$size]}; k_rps=$1
    awk -v a="$k_rps" -v b="$p_rps" -v s="$size" 'BEGIN { printf "%-4s apikey/passthrough: RPS %.2fx\n", s, a/b }'
  fi
done
[ -n "$KEY" ] && echo "key cache: ${HITS:-0} hits, ${MISSES:-0} Cassandra lookups (QUORUM)"
awk -v r="$PEAK_RSS" 'BEGIN { printf "apigw peak VmRSS under load: %.1f MiB\n", r/1024 }'
