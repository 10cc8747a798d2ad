#!/usr/bin/env bash
# Fleet figures: a fleet of demo Sites (5 identities each), every Site held to its scenario's
# rate limit, run by one lowpriv process. Prints, per --jobs value: Sites, wall time, Sites
# per minute, the share of each Site's request budget used (requests / (run seconds x
# rate_limit): median and max; above 1.00 would mean a Site got more than its limit), peak
# RSS of the fleet process. Everything is on 127.0.0.1; the Sites are served by a separate
# `lowpriv demo-site --sites N` process, so the RSS is the fleet's alone.
#
#   bash scripts/bench-fleet.sh                 # 500 Sites at --jobs 64, scaling at 1 4 16 64
#   SITES=100 JOBS="4 16" RATE=20 bash scripts/bench-fleet.sh
#
# Scaling is measured with 4 Sites per job slot (4 waves: --jobs 1 runs 4 Sites, --jobs 64
# runs 256), so the ideal is a flat wall time; the full fleet then runs at the last --jobs.
set -euo pipefail
trap 'echo "bench-fleet: stopped at line $LINENO (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."
SITES=${SITES:-500}
JOBS=${JOBS:-"1 4 16 64"}
RATE=${RATE:-20}
cargo build --release --quiet
bin=$PWD/target/release/lowpriv
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
# Every Site is two listeners (the Site and its foreign origin), and a fleet in flight holds
# connections to many of them.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Sites the size of the demo's (data browser on: about 1,300 requests a Site, 260 per
# identity), unless SMALL=1 (about 130 a Site).
size=(--data-browser); [ "${SMALL:-0}" = 1 ] && size=()
"$bin" demo-site --sites "$SITES" --scenarios "$work/sites" --rate-limit "$RATE" "${size[@]}" \
  > "$work/site.log" 2>&1 &
echo $! > "$work/pid"
for _ in $(seq 600); do [ -s "$work/sites/fleet.env" ] && break; sleep 0.1; done
[ -s "$work/sites/fleet.env" ] || { echo "demo-site --sites $SITES did not start" >&2; cat "$work/site.log" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$work/sites/fleet.env"
set +a

figures() { # figures DIR RSS_KIB WALL_MS: one table row from a fleet.json
  python3 - "$1" "$2" "$3" "$RATE" <<'PY'
import json, statistics, sys
out, rss, wall, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000, float(sys.argv[4])
fleet = json.load(open(f"{out}/fleet.json"))
rows = fleet["sites"]
judged = [r for r in rows if r["status"] == "judged" and r["duration_ms"] > 0]
share = [r["requests"] / (r["duration_ms"] / 1000 * rate) for r in judged]
reqs = sum(r["requests"] for r in rows)
print(f"{fleet['source'].get('jobs', 0):>5} {len(rows):>6} {wall:>9.1f} {len(rows) / wall * 60:>10.1f}"
      f" {reqs:>9} {reqs / wall:>8.0f} {statistics.median(share) if share else 0:>8.2f}"
      f" {max(share) if share else 0:>8.2f} {rss / 1024:>8.1f}"
      f"  {json.dumps(fleet['summary']['by_verdict'])}")
PY
}

run_fleet() { # run_fleet JOBS N: the first N scenarios, JOBS at once
  local jobs=$1 n=$2 dir="$work/fleet-$1-$2"
  mkdir -p "$dir/in"
  # A list file, not a pipe into head: with pipefail, a writer cut short would end the script.
  find "$work/sites" -name '*.toml' | sort > "$dir/all"
  while read -r file; do ln -s "$file" "$dir/in/"; done < <(sed -n "1,${n}p" "$dir/all")
  local start end code=0
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$dir/rss" "$bin" run "$dir/in" --jobs "$jobs" --out "$dir/out" \
    --snapshots "$dir/snapshots" -q > /dev/null 2> "$dir/err" || code=$?
  end=$(date +%s%N)
  case $code in 0|1|3) ;; *) echo "--jobs $jobs: lowpriv exited $code" >&2; tail "$dir/err" >&2; exit 1 ;; esac
  figures "$dir/out" "$(tail -1 "$dir/rss")" "$(( (end - start) / 1000000 ))"
}

echo "fleet of demo Sites, 5 identities each, rate_limit = $RATE per Site, $(nproc) cores"
printf '%5s %6s %9s %10s %9s %8s %8s %8s %8s  %s\n' jobs sites "wall s" "sites/min" requests "req/s" "share~" "share^" "RSS MB" verdicts
last=1
for jobs in $JOBS; do
  n=$((jobs * 4)); [ "$n" -gt "$SITES" ] && n=$SITES
  run_fleet "$jobs" "$n"
  last=$jobs
done
if [ "$SITES" -gt $((last * 4)) ]; then
  run_fleet "$last" "$SITES"
fi
