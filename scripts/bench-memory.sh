#!/usr/bin/env bash
# Peak memory (max RSS) of one lowpriv run against bodies built to exhaust memory: a 1 GiB
# response and gzip bombs (64 MiB of zeros each, about 64 KiB on the wire), next to a plain
# demo run for scale. Everything is on 127.0.0.1. Prints one line per case.
#
#   bash scripts/bench-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lowpriv
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

serve() { # serve FLAGS... -> prints the URL
  rm -f "$work/url"
  "$bin" demo-site "$@" > "$work/url" 2>/dev/null &
  echo $! > "$work/pid"
  for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
  head -1 "$work/url"
}

export DEMO_ALICE_PASSWORD=alice-demo-pw-7Hq2 DEMO_BOB_PASSWORD=bob-demo-pw-9Lm4 \
       DEMO_CAROL_PASSWORD=carol-demo-pw-3Xv8 DEMO_DAVE_PASSWORD=dave-demo-pw-5Tn1 \
       DB_PASSWORD=bench-memory-db-password

url=$(serve --fixed)
label="demo scenario, fixed Site (baseline)"
/usr/bin/time -f "%M" -o "$work/rss" "$bin" run scenarios/demo.toml --base-url "$url" \
  --snapshots "$work/snap" -q > /dev/null 2>&1 || true
printf '%-46s max RSS %7d KiB\n' "$label" "$(tail -1 "$work/rss")"
kill "$(cat "$work/pid")" 2>/dev/null || true

url=$(serve --fixed --chaos gzip-bomb --seed 7)
label="demo scenario, gzip bombs on a fifth of paths"
/usr/bin/time -f "%M" -o "$work/rss" "$bin" run scenarios/demo.toml --base-url "$url" \
  --snapshots "$work/snap" -q > /dev/null 2>&1 || true
printf '%-46s max RSS %7d KiB\n' "$label" "$(tail -1 "$work/rss")"
kill "$(cat "$work/pid")" 2>/dev/null || true

url=$(serve)
cat > "$work/gig.toml" <<TOML
[site]
name = "gigabyte"
base_url = "$url"
audience = "external"
[crawl]
seeds = ["/_bad/gigabyte", "/_bad/huge"]
max_body_bytes = 5000000
[[identity]]
name = "anonymous"
tier = "external"
TOML
label="1 GiB and 50 MiB bodies, max_body_bytes 5 MB"
/usr/bin/time -f "%M" -o "$work/rss" "$bin" run "$work/gig.toml" --snapshots "$work/snap" -q \
  > /dev/null 2>&1 || true
printf '%-46s max RSS %7d KiB\n' "$label" "$(tail -1 "$work/rss")"
