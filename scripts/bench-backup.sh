#!/usr/bin/env bash
# make bench, backup part: `apimctl backup create --only mysql` against `mysqldump
# --single-transaction` on the same metrics database of the lab, in the same run, with a
# seeded table of ROWS rows (default 300,000) next to the gateways' own tables. Both write SQL a
# client replays; both read one consistent snapshot. Timed by hyperfine (1 warm-up, RUNS runs);
# prints the means, the ratio and the sizes. The seeded table is dropped at the end; the lab is
# left as it was found (brought up if needed, and then down again). Never fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-300000}
RUNS=${RUNS:-5}
APIMCTL=$PWD/bin/apimctl
TMP=$(mktemp -d /tmp/bench-backup.XXXXXX)
started_lab=0
cleanup() {
  rc=$?
  [ -n "${MYSQL_PWD:-}" ] && mysql -h 127.0.0.1 -P "$PORT" -u "$METRICS_DB_USERNAME" "$DB" -e "DROP TABLE IF EXISTS bench_rows" 2>/dev/null || true
  rm -rf "$TMP"
  [ "$started_lab" = 1 ] && "$APIMCTL" lab down >/dev/null || true
  exit $rc
}
trap cleanup EXIT
for tool in hyperfine mysqldump mysql; do
  command -v "$tool" >/dev/null || { echo "bench-backup: $tool not found (make deps)" >&2; exit 1; }
done
if ! "$APIMCTL" lab status >/dev/null 2>&1; then
  started_lab=1
  "$APIMCTL" lab up
fi
eval "$("$APIMCTL" lab env)"
# METRICS_DB_URL=jdbc:mysql://127.0.0.1:16306/metrics?…
hostport=${METRICS_DB_URL#jdbc:mysql://}; hostport=${hostport%%/*}
PORT=${hostport##*:}
DB=${METRICS_DB_URL##*/}; DB=${DB%%\?*}
export MYSQL_PWD=$METRICS_DB_PASS # read by the mysql clients; never on a command line

echo "bench-backup: seeding $ROWS rows into $DB.bench_rows" >&2
mysql -h 127.0.0.1 -P "$PORT" -u "$METRICS_DB_USERNAME" "$DB" <<SQL
DROP TABLE IF EXISTS bench_rows;
CREATE TABLE bench_rows (id INT PRIMARY KEY, api VARCHAR(64), minute DATETIME, requests BIGINT, errors BIGINT,
  p90_ms DOUBLE, note VARCHAR(200)) DEFAULT CHARSET=utf8mb4;
INSERT INTO bench_rows SELECT seq, CONCAT('api-', seq % 50), TIMESTAMPADD(MINUTE, seq, '2026-01-01'), seq * 7, seq % 13,
  (seq % 1000) / 10.0, IF(seq % 10 = 0, NULL, CONCAT('it''s row ', seq)) FROM seq_1_to_${ROWS};
SQL
echo "bench-backup: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$TMP/h.json" \
  --prepare "rm -rf $TMP/a $TMP/b.sql" \
  -n mysqldump "mysqldump --single-transaction -h 127.0.0.1 -P $PORT -u $METRICS_DB_USERNAME $DB > $TMP/b.sql" \
  -n apimctl "$APIMCTL backup create --only mysql --yes --dir $TMP/a > /dev/null 2>&1" >&2

# One more of each, to compare what they wrote.
rm -rf "$TMP/a" "$TMP/b.sql"
mysqldump --single-transaction -h 127.0.0.1 -P "$PORT" -u "$METRICS_DB_USERNAME" "$DB" > "$TMP/b.sql"
"$APIMCTL" backup create --only mysql --yes --dir "$TMP/a" >/dev/null 2>&1
python3 - "$TMP/h.json" "$TMP" <<'PY'
import glob, json, os, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
a, m = r["apimctl"], r["mysqldump"]
size_a = sum(os.path.getsize(p) for p in glob.glob(sys.argv[2] + "/a/*/mysql/*.sql"))
size_m = os.path.getsize(sys.argv[2] + "/b.sql")
print(f"backup of the metrics database: apimctl {a['mean']:.3f} s ± {a['stddev']:.3f}, mysqldump {m['mean']:.3f} s ± {m['stddev']:.3f}")
print(f"  ratio apimctl/mysqldump: {a['mean'] / m['mean']:.2f}x   (sizes: apimctl {size_a / 1048576:.1f} MiB, mysqldump {size_m / 1048576:.1f} MiB)")
PY
