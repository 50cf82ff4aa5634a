#!/usr/bin/env bash
# bench-gateway.sh: apigw vs nginx as reverse proxies in front of the same local backend,
# everything on 127.0.0.1. Prints, per case, the median of ROUNDS runs of RPS and p99, the
# ratios against nginx, the API-key to passthrough ratio, and apigw's peak resident memory
# under load.
#
# Needs wrk and nginx (Debian: apt-get install -y wrk nginx-light) and taskset (util-linux);
# installs nothing itself. The API-key case needs the lab's Cassandra (env.json from
# `apimctl lab up`); without it the case is skipped. Every process started here is stopped by
# its PID on exit.
#
# What makes the comparison fair (both proxies get the same conditions):
#   * Placement. With PIN=1 (default on 2+ CPUs) the proxy under test, nginx or apigw, runs
#     alone on CPU $PROXY_CPU (taskset) and wrk plus the backend on CPU $LOAD_CPU, so the load
#     generator and the backend do not take CPU time from the proxy and both proxies get
#     exactly one core. nginx gets worker_processes 1, apigw GOMAXPROCS=1: one core each.
#     The lab (Cassandra, Kubernetes) and other users of the machine still share both cores;
#     that is noise, fought with interleaving and medians (below). PIN=0 lets the scheduler
#     place everything (nginx worker_processes auto, apigw GOMAXPROCS = all CPUs).
#   * Keep-alive everywhere. wrk keeps its connections; nginx's keepalive_requests (client
#     side and upstream side) is raised from its default of 1000, after which nginx closes the
#     connection and wrk reconnects, to 1000000 — apigw never closes a keep-alive connection.
#     Both keep idle connections to the backend (nginx upstream keepalive 256, apigw
#     maxIdleConnsPerHost 512 by default) and speak HTTP/1.1 to it.
#   * Same work per request. Both log every transaction, buffered: nginx an access_log line
#     (combined, buffer=64k flush=1s), apigw a JSON event line (64 KB buffer, drained every
#     50 ms). Both send X-Forwarded-For/-Host/-Proto to the backend. What still differs:
#     apigw also updates Prometheus metrics per request (nginx has no equivalent), and nginx
#     buffers the backend response (proxy_buffering on, 10 KB fits its memory buffers, no temp
#     file) where apigw streams it; sendfile does not apply to proxied responses.
#   * apigw's memory: its defaults, --memory-limit 48MiB (Go soft limit) and GOGC=100.
#     Peak VmRSS is sampled every 200 ms during the whole run.
#   * Stability. Each case runs ROUNDS times (default 3); in each round nginx, passthrough and
#     API key run back to back per size, so they see the same background load, and the median
#     of the rounds is reported (RPS and p99 medians taken separately). The load average is
#     printed at the start and after each round: a figure taken at a load above ~2 on two
#     cores is to be read with care.
#   * Cost per request. Next to RPS the script prints the CPU time the proxy process(es)
#     spent per request (utime+stime from /proc, nginx master and workers summed). It varies
#     less than RPS between rounds (about ±10% against RPS swings of 2x on a busy machine)
#     but not nothing: a proxy starved of CPU handles fewer requests per wake-up and pays
#     more per request. At saturation the RPS ratio tends to its inverse.
#   * Comparing two apigw builds: runs of this script at different times see different
#     background load, and the difference between runs can exceed the change being measured.
#     For a before/after, start both builds side by side on the proxy CPU and alternate wrk
#     runs between them (APIGW_BIN runs one older build through the whole script).
#
# Tunables: DURATION (10s) THREADS (1 pinned, 2 otherwise) CONNS (32) ROUNDS (3)
# BASE_PORT (18080) PIN (1) PROXY_CPU (1) LOAD_CPU (0) APIGW_BIN (use this apigw binary
# instead of building one, e.g. an older build to compare) PPROF_ADDR (pass --pprof-addr to
# apigw, e.g. 127.0.0.1:6060, to profile it during the run) KEEP_TMP (1: keep logs and wrk
# outputs).
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-18080}
NCPU=$(nproc)
PIN=${PIN:-$([ "$NCPU" -ge 2 ] && echo 1 || echo 0)}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
THREADS=${THREADS:-$([ "$PIN" = 1 ] && echo 1 || echo 2)}
BACKEND_PORT=$((BASE_PORT + 1)); NGINX_PORT=$((BASE_PORT + 2)); GW_PORT=$((BASE_PORT + 3)); GW_ADMIN=$((BASE_PORT + 4))
MGR_PORT=$((BASE_PORT + 5)); MGR_ADMIN=$((BASE_PORT + 6))
LAB_ENV=${APIMCTL_LAB_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/apimctl/lab}/env.json

for tool in wrk nginx go taskset; do
  command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 || {
    echo "bench-gateway: $tool not found (apt-get install -y wrk nginx-light util-linux)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ "$PIN" = 1 ]; then
  ON_PROXY=(taskset -c "$PROXY_CPU"); ON_LOAD=(taskset -c "$LOAD_CPU")
  NGINX_WORKERS=1; GW_PROCS=1
  PLACEMENT="proxy under test alone on CPU $PROXY_CPU (nginx 1 worker, apigw GOMAXPROCS=1); wrk and backend on CPU $LOAD_CPU"
else
  ON_PROXY=(); ON_LOAD=()
  NGINX_WORKERS=auto; GW_PROCS=$NCPU
  PLACEMENT="unpinned: $NCPU CPUs shared by wrk, proxies and backend (nginx workers auto, apigw GOMAXPROCS=$NCPU)"
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/bench-gateway.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${PREFIX:-}" ] && [ -n "${CQL_CLEANUP:-}" ] && eval "$CQL_CLEANUP" || true
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "bench-gateway: logs kept in $TMP" >&2; else rm -rf "$TMP"; fi
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

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at start: $(loadavg) ($NCPU CPUs)" >&2

echo "building apigw and the backend..." >&2
(cd "$ROOT" && go build -o "$TMP/backend" ./gateway/bench/backend)
if [ -n "${APIGW_BIN:-}" ]; then
  cp "$APIGW_BIN" "$TMP/apigw"
else
  (cd "$ROOT" && go build -o "$TMP/apigw" ./cmd/apigw)
fi

"${ON_LOAD[@]}" "$TMP/backend" -listen 127.0.0.1:$BACKEND_PORT & PIDS+=($!)
wait_http http://127.0.0.1:$BACKEND_PORT/1k 10

mkdir -p "$TMP/nginx"
cat > "$TMP/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes $NGINX_WORKERS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $TMP/nginx/access.log combined buffer=64k flush=1s;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 256; keepalive_requests 1000000; keepalive_timeout 90s; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
"${ON_PROXY[@]}" "$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" & NGINX_PID=$!; PIDS+=($NGINX_PID)
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
lab_cassandra_up() { # the first Cassandra node of the lab's env.json accepts connections
  local hp
  hp=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["cassandraHosts"][0], e["cassandraPort"])' "$LAB_ENV" 2>/dev/null) || return 1
  set -- $hp
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
if [ -f "$LAB_ENV" ] && ! lab_cassandra_up; then
  echo "the lab is not running (its Cassandra does not answer): the API-key case is skipped; start it with: apimctl lab up" >&2
elif [ -f "$LAB_ENV" ]; then
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
  # The API Manager only creates the schema and the key; it is idle during the runs.
  # The management API answers only its admin token (never anonymously).
  export APIMGR_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'apimgr:\n  adminToken: ${environment.APIMGR_ADMIN_TOKEN}\n' >> "$TMP/env.yaml"
  printf 'header = "Authorization: Bearer %s"\n' "$APIMGR_ADMIN_TOKEN" > "$TMP/curl-admin" # not on a command line
  "${ON_LOAD[@]}" "$TMP/apigw" --role apimgr --env "$TMP/env.yaml" --listen-ip 127.0.0.1 --port $MGR_PORT --admin-port $MGR_ADMIN --skip-prechecks 2>"$TMP/apimgr.log" & PIDS+=($!)
  wait_http http://127.0.0.1:$MGR_PORT/healthcheck 90
  APP=$(curl -fsS -K "$TMP/curl-admin" -X POST -d '{"name":"bench","apis":["key"]}' http://127.0.0.1:$MGR_PORT/api/applications | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  KEY=$(curl -fsS -K "$TMP/curl-admin" -X POST http://127.0.0.1:$MGR_PORT/api/applications/$APP/keys | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  CQL_CLEANUP="true" # tables are left under the unique prefix $PREFIX (Cassandra drops are slow; they are tiny)
else
  echo "no lab ($LAB_ENV): the API-key case is skipped" >&2
fi
GWARGS=(--role traffic --pol "$TMP/pol.yaml" --env "$TMP/env.yaml" --listen-ip 127.0.0.1 --port $GW_PORT --admin-port $GW_ADMIN
  --skip-prechecks --drain-delay 0s --log-level warn)
[ -n "${PPROF_ADDR:-}" ] && GWARGS+=(--pprof-addr "$PPROF_ADDR")
GOMAXPROCS=$GW_PROCS "${ON_PROXY[@]}" "$TMP/apigw" "${GWARGS[@]}" 2>"$TMP/apigw.log" & GW_PID=$!; PIDS+=($GW_PID)
wait_http http://127.0.0.1:$GW_ADMIN/healthcheck 60

sample_rss() { # samples apigw's VmRSS every 200 ms into $TMP/rss until killed
  while kill -0 $GW_PID 2>/dev/null; do
    awk '/VmRSS/ {print $2}' /proc/$GW_PID/status 2>/dev/null >> "$TMP/rss" || true
    sleep 0.2
  done
}
"${ON_LOAD[@]}" true # fail early if the CPUs do not exist
sample_rss & SAMPLER=$!; PIDS+=($SAMPLER)

# cpu_ticks PID...: utime+stime of the processes, in clock ticks
cpu_ticks() { for p in "$@"; do awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0; done | awk '{s+=$1} END {print s+0}'; }
HZ=$(getconf CLK_TCK)

# run NAME URL HEADER PID...: prints "rps p99ms cpu_us_per_request"
run() {
  local name=$1 url=$2 hdr=$3; shift 3
  local out t0 t1
  t0=$(cpu_ticks "$@")
  if [ -n "$hdr" ]; then
    out=$("${ON_LOAD[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$hdr" "$url")
  else
    out=$("${ON_LOAD[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url")
  fi
  t1=$(cpu_ticks "$@")
  echo "$out" > "$TMP/wrk-$name.txt"
  if echo "$out" | grep -q -e "Non-2xx" -e "Socket errors"; then echo "bench-gateway: $name had errors:" >&2; echo "$out" >&2; exit 1; fi
  local rps p99 reqs
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$rps $p99 $(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$reqs" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Warm up connections and the key cache.
"${ON_LOAD[@]}" wrk -t1 -c4 -d2s http://127.0.0.1:$GW_PORT/pass/1k >/dev/null
"${ON_LOAD[@]}" wrk -t1 -c4 -d2s http://127.0.0.1:$NGINX_PORT/1k >/dev/null
[ -n "$KEY" ] && "${ON_LOAD[@]}" wrk -t1 -c4 -d2s -H "KeyId: $KEY" http://127.0.0.1:$GW_PORT/key/1k >/dev/null

NGINX_PROCS=($NGINX_PID $(pgrep -P "$NGINX_PID" || true)) # master and workers
declare -A RPS P99 CPU # case_size -> space-separated values, one per round
CASES=(nginx pass); [ -n "$KEY" ] && CASES+=(key)
for round in $(seq 1 "$ROUNDS"); do
  for size in 1k 10k; do
    for c in "${CASES[@]}"; do
      case $c in
        nginx) set -- $(run "nginx_${size}_$round" http://127.0.0.1:$NGINX_PORT/$size "" "${NGINX_PROCS[@]}") ;;
        pass) set -- $(run "pass_${size}_$round" http://127.0.0.1:$GW_PORT/pass/$size "" $GW_PID) ;;
        key) set -- $(run "key_${size}_$round" http://127.0.0.1:$GW_PORT/key/$size "KeyId: $KEY" $GW_PID) ;;
      esac
      RPS[${c}_$size]="${RPS[${c}_$size]:-} $1"; P99[${c}_$size]="${P99[${c}_$size]:-} $2"; CPU[${c}_$size]="${CPU[${c}_$size]:-} $3"
    done
  done
  echo "round $round/$ROUNDS done, load average $(loadavg)" >&2
done
PEAK_RSS=$(sort -n "$TMP/rss" | tail -1)
METRICS=$(curl -fsS http://127.0.0.1:$GW_ADMIN/metrics)
HITS=$(echo "$METRICS" | awk '/^apigw_store_cache_total/ && /result="hit"/ && /kind="key"/ {print $2}')
MISSES=$(echo "$METRICS" | awk '/^apigw_store_cache_total/ && /result="miss"/ && /kind="key"/ {print $2}')
DROPPED=$(echo "$METRICS" | awk '/^apigw_eventlog_dropped_total/ {print $2}')

echo
echo "apigw vs nginx, wrk -t$THREADS -c$CONNS -d$DURATION, median of $ROUNDS rounds; $PLACEMENT"
echo "load average at end: $(loadavg)"
printf "%-10s %9s %8s %10s   %s\n" case RPS p99_ms cpu_us/req "runs (RPS / p99 ms / cpu us per request)"
declare -A MR MP MC
for size in 1k 10k; do
  for c in "${CASES[@]}"; do
    MR[${c}_$size]=$(median ${RPS[${c}_$size]}); MP[${c}_$size]=$(median ${P99[${c}_$size]}); MC[${c}_$size]=$(median ${CPU[${c}_$size]})
    printf "%-10s %9.0f %8.2f %10.1f   %s /%s /%s\n" "$c $size" "${MR[${c}_$size]}" "${MP[${c}_$size]}" "${MC[${c}_$size]}" \
      "${RPS[${c}_$size]}" "${P99[${c}_$size]}" "${CPU[${c}_$size]}"
  done
done
echo
for size in 1k 10k; do
  awk -v a="${MR[pass_$size]}" -v b="${MR[nginx_$size]}" -v c="${MP[pass_$size]}" -v d="${MP[nginx_$size]}" \
    -v e="${MC[pass_$size]}" -v f="${MC[nginx_$size]}" -v s="$size" \
    'BEGIN { printf "%-4s passthrough/nginx: RPS %.2fx   p99 %.2fx   cpu/req %.2fx\n", s, a/b, c/d, e/f }'
  if [ -n "$KEY" ]; then
    awk -v a="${MR[key_$size]}" -v b="${MR[pass_$size]}" -v e="${MC[key_$size]}" -v f="${MC[pass_$size]}" -v s="$size" \
      'BEGIN { printf "%-4s apikey/passthrough: RPS %.2fx   cpu/req %.2fx\n", s, a/b, e/f }'
  fi
done
[ -n "$KEY" ] && echo "key cache: ${HITS:-0} hits, ${MISSES:-0} Cassandra lookups (QUORUM)"
echo "events dropped by apigw: ${DROPPED:-0}"
awk -v r="$PEAK_RSS" 'BEGIN { printf "apigw peak VmRSS under load: %.1f MiB\n", r/1024 }'
