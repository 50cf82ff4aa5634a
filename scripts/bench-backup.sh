#!/usr/bin/env bash
# make bench-backup: the backup engine (what `apimctl backup` runs, driven here by
# scripts/benchbackup so each part is timed alone) against its peers, in the same run, on the
# lab: ROWS (default 1,000,000) Cassandra rows and ROWS MySQL rows, THREADS (default 4)
# workers for every tool that has them.
#
#   Cassandra  apimctl dump/restore  vs  cqlsh COPY TO / COPY FROM (PyPI cqlsh, NUMPROCESSES)
#   MySQL      apimctl dump/restore  vs  mysqldump --single-transaction / mysql replay
#                                    vs  mydumper / myloader (Debian), same threads
#
# It prints each time, the ratios (peer time / apimctl time: above 1 means apimctl is faster),
# apimctl's peak RSS (/usr/bin/time) and the compressed size against the raw one. The bench
# keyspace and database are kept between runs (seeding 1M Cassandra rows takes about 30 s);
# the restored copies are dropped. The lab is used as found (brought up and down again if it
# was not running; APIMCTL_LAB_DIR picks another lab). Each step is bounded by STEP_TIMEOUT.
# Never fails on a figure.
#
# Measured 2026-12-05, 1-node lab Cassandra, 2 shared cores (load average 5-15), three runs:
# Cassandra dump 4.7-10.8x cqlsh COPY TO, restore 1.3-3.5x COPY FROM (both sides bound by the
# Cassandra node: the Go seeder writes at the same ~35k rows/s); MySQL dump 0.4-0.9x mysqldump
# and 0.3-0.7x mydumper (zstd and the driver cost ~1.1 s of CPU a million rows on a machine
# with no idle core; the peers write uncompressed), restore 1.1-1.5x mysql and 1.2-3.9x
# myloader; apimctl's peak RSS 52-71 MiB; stored 6.2x (Cassandra) and 5.4x (MySQL) smaller.
# Again 2026-12-05 (lab up, load average 3.5-4): Cassandra dump 6.7x cqlsh, restore 1.6x;
# MySQL dump 0.85x mysqldump and 0.83x mydumper, restore 1.65x mysql and 1.72x myloader; peak
# RSS 72 MiB; stored 6.4x / 5.4x smaller.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
THREADS=${THREADS:-4}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
APIMCTL=$PWD/bin/apimctl
BENCH=$PWD/bin/benchbackup
CACHE=${APIMCTL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apimctl}
TMP=$(mktemp -d /tmp/bench-backup.XXXXXX)
started_lab=0
cleanup() {
  rc=$?
  if [ -n "${SOCK:-}" ]; then
    mariadb -S "$SOCK" -u root -e "DROP DATABASE IF EXISTS bench_backup_r" 2>/dev/null || true
  fi
  if [ -n "${CQLSH:-}" ] && [ -f "$TMP/cqlshrc" ]; then
    "$CQLSH" --cqlshrc "$TMP/cqlshrc" -e "DROP KEYSPACE IF EXISTS bench_backup_r" >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
  [ "$started_lab" = 1 ] && "$APIMCTL" lab down >/dev/null || true
  exit $rc
}
trap cleanup EXIT
for tool in mysqldump mariadb mydumper myloader python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench-backup: $tool not found (make deps)" >&2; exit 1; }
done
go build -o "$BENCH" ./scripts/benchbackup
CQLSH=$CACHE/cqlsh-venv/bin/cqlsh
if [ ! -x "$CQLSH" ]; then
  echo "bench-backup: installing cqlsh from PyPI into $CACHE/cqlsh-venv (once)" >&2
  python3 -m venv "$CACHE/cqlsh-venv"
  "$CACHE/cqlsh-venv/bin/pip" install -q cqlsh==6.2.2
fi
# The bench needs Cassandra and MariaDB healthy (not the rest of the lab).
needed() {
  { "$APIMCTL" lab status -o json 2>/dev/null || true; } | python3 -c '
import json, sys
st = {c["name"]: c["state"] for c in json.load(sys.stdin)["components"]}
sys.exit(0 if st.get("mariadb") == "healthy" and st.get("cassandra-1") == "healthy" else 1)'
}
if ! needed; then
  started_lab=1
  "$APIMCTL" lab up
fi
eval "$("$APIMCTL" lab env)"
STATE=${APIMCTL_LAB_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/apimctl/lab}
SOCK=$STATE/mariadb/mariadb.sock
( umask 077; printf '[authentication]\nusername = %s\npassword = %s\n[connection]\nhostname = %s\nport = %s\nrequest_timeout = 120\n' \
  "$CASS_USERNAME" "$CASS_PASS" "${CASS_HOST%%,*}" "$CASS_PORT" > "$TMP/cqlshrc" )
cq() { "$CQLSH" --cqlshrc "$TMP/cqlshrc" "$@" 2>&1 | grep -v -e '^WARNING: cqlsh was built' -e 'deprecated' -e 'credentials file' || true; }

# t NAME CMD…: runs CMD bounded, records its wall time (and peak RSS for apimctl) in $TMP/t.
t() {
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$TMP/t" timeout "$STEP_TIMEOUT" "$@" > "$TMP/$name.log" 2>&1 \
    || { echo "bench-backup: $name failed:" >&2; tail -5 "$TMP/$name.log" >&2; exit 1; }
}

echo "bench-backup: $ROWS rows each, $THREADS threads, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "bench-backup: seeding bench_backup.rows in Cassandra (kept between runs)" >&2
timeout "$STEP_TIMEOUT" "$BENCH" cassandra-seed --rows "$ROWS" --parallel "$THREADS"
echo "bench-backup: seeding bench_backup.bench_rows in MariaDB (kept between runs)" >&2
mariadb -S "$SOCK" -u root <<SQL
CREATE DATABASE IF NOT EXISTS bench_backup;
CREATE TABLE IF NOT EXISTS bench_backup.bench_rows (id INT PRIMARY KEY, api VARCHAR(64), minute DATETIME, requests BIGINT,
  errors BIGINT, p90_ms DOUBLE, amount DECIMAL(14,4), note VARCHAR(200)) DEFAULT CHARSET=utf8mb4;
SQL
have=$(mariadb -S "$SOCK" -u root -N -e "SELECT COUNT(*) FROM bench_backup.bench_rows")
if [ "$have" != "$ROWS" ]; then
  mariadb -S "$SOCK" -u root bench_backup -e "TRUNCATE bench_rows; INSERT INTO bench_rows SELECT seq, CONCAT('api-', seq % 50),
    TIMESTAMPADD(MINUTE, seq, '2026-01-01'), seq * 7, seq % 13, (seq % 1000) / 10.0, seq / 7, IF(seq % 10 = 0, NULL, CONCAT('it''s row ', seq))
    FROM seq_1_to_${ROWS}; ANALYZE TABLE bench_rows;" >/dev/null
fi

echo "bench-backup: Cassandra dump: apimctl, then cqlsh COPY TO" >&2
t apimctl-cass-dump "$BENCH" cassandra-dump --dir "$TMP/a-cass" --parallel "$THREADS"
t cqlsh-copy-to "$CQLSH" --cqlshrc "$TMP/cqlshrc" -e "COPY bench_backup.rows TO '$TMP/rows.csv' WITH NUMPROCESSES=$THREADS"
echo "bench-backup: Cassandra restore: apimctl, then cqlsh COPY FROM (into bench_backup_r, emptied first)" >&2
t apimctl-cass-load "$BENCH" cassandra-load --dir "$TMP/a-cass" --to bench_backup_r --parallel "$THREADS"
cq -e "TRUNCATE bench_backup_r.rows" >/dev/null
t cqlsh-copy-from "$CQLSH" --cqlshrc "$TMP/cqlshrc" -e "COPY bench_backup_r.rows FROM '$TMP/rows.csv' WITH NUMPROCESSES=$THREADS"

echo "bench-backup: MySQL dump: apimctl, mysqldump, mydumper" >&2
t apimctl-my-dump "$BENCH" mysql-dump --database bench_backup --dir "$TMP/a-my" --parallel "$THREADS"
t mysqldump sh -c "mysqldump --single-transaction -S '$SOCK' -u root bench_backup > '$TMP/dump.sql'"
t mydumper mydumper -S "$SOCK" -u root -B bench_backup -t "$THREADS" -o "$TMP/mydumper"
echo "bench-backup: MySQL restore: apimctl, mysql replay, myloader (into bench_backup_r)" >&2
mariadb -S "$SOCK" -u root -e "DROP DATABASE IF EXISTS bench_backup_r; CREATE DATABASE bench_backup_r"
t apimctl-my-load "$BENCH" mysql-load --database bench_backup --to bench_backup_r --dir "$TMP/a-my" --parallel "$THREADS"
mariadb -S "$SOCK" -u root -e "DROP DATABASE IF EXISTS bench_backup_r; CREATE DATABASE bench_backup_r"
t mysql-replay sh -c "mariadb -S '$SOCK' -u root bench_backup_r < '$TMP/dump.sql'"
mariadb -S "$SOCK" -u root -e "DROP DATABASE IF EXISTS bench_backup_r"
t myloader myloader -S "$SOCK" -u root -B bench_backup_r -d "$TMP/mydumper" -t "$THREADS" -o

python3 - "$TMP" "$ROWS" "$THREADS" <<'PY'
import glob, json, os, sys
tmp, rows, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t, rss = {}, {}
for line in open(tmp + "/t"):
    name, secs, kib = line.split()
    t[name], rss[name] = float(secs), int(kib)
def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(p) for p in glob.glob(path + "/**", recursive=True) if os.path.isfile(p))
def manifest(d):
    m = json.load(open(d + "/manifest.json"))
    return sum(p["bytes"] for p in m["parts"]), sum(p.get("raw", p["bytes"]) for p in m["parts"])
def line(what, peer, mine, theirs, goal):
    r = t[theirs] / t[mine]
    print(f"  {what:<26} apimctl {t[mine]:7.1f} s   {peer:<22} {t[theirs]:7.1f} s   {r:5.2f}x  (goal >= {goal}x)")
print(f"backup benchmark: {rows:,} Cassandra rows and {rows:,} MySQL rows, {threads} threads (ratio = peer time / apimctl time)")
line("Cassandra dump", "cqlsh COPY TO", "apimctl-cass-dump", "cqlsh-copy-to", 3)
line("Cassandra restore", "cqlsh COPY FROM", "apimctl-cass-load", "cqlsh-copy-from", 3)
line("MySQL dump", "mysqldump", "apimctl-my-dump", "mysqldump", 2)
line("MySQL restore", "mysql < dump.sql", "apimctl-my-load", "mysql-replay", 2)
line("MySQL dump", "mydumper", "apimctl-my-dump", "mydumper", 0.8)
line("MySQL restore", "myloader", "apimctl-my-load", "myloader", 0.8)
peak = max(v for k, v in rss.items() if k.startswith("apimctl-"))
print(f"  peak RSS of apimctl: {peak / 1024:.0f} MiB (goal <= 200 MiB); per step: " +
      ", ".join(f"{k[8:]} {v / 1024:.0f}" for k, v in rss.items() if k.startswith("apimctl-")))
cs, cr = manifest(tmp + "/a-cass")
ms, mr = manifest(tmp + "/a-my")
print(f"  size: Cassandra {cs / 2**20:.1f} MiB stored, {cr / 2**20:.1f} MiB raw ({cr / cs:.1f}x); cqlsh CSV {size(tmp + '/rows.csv') / 2**20:.1f} MiB")
print(f"        MySQL {ms / 2**20:.1f} MiB stored, {mr / 2**20:.1f} MiB raw ({mr / ms:.1f}x); mysqldump {size(tmp + '/dump.sql') / 2**20:.1f} MiB, mydumper {size(tmp + '/mydumper') / 2**20:.1f} MiB")
PY
