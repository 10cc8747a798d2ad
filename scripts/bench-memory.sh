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
  local url
  url=$(head -1 "$work/url")
  # A server that did not start would make the figure below that of a failed run.
  [ -n "$url" ] || { echo "demo-site $* did not start" >&2; exit 1; }
  echo "$url"
}

measure() { # measure LABEL ARGS... : one run's peak RSS; a run that did not happen fails
  local label=$1 code=0
  shift
  /usr/bin/time -f "%M" -o "$work/rss" "$bin" run "$@" -q > /dev/null 2>&1 || code=$?
  # 0 pass, 1 fail, 3 inconclusive are all real runs; anything else (2: usage) is not.
  case $code in 0|1|3) ;; *) echo "$label: lowpriv exited $code, no figure" >&2; exit 1 ;; esac
  printf '%-46s max RSS %7d KiB  (exit %d)\n' "$label" "$(tail -1 "$work/rss")" "$code"
}

export DEMO_ALICE_PASSWORD=alice-demo-pw-7Hq2 DEMO_BOB_PASSWORD=bob-demo-pw-9Lm4 \
       DEMO_CAROL_PASSWORD=carol-demo-pw-3Xv8 DEMO_DAVE_PASSWORD=dave-demo-pw-5Tn1 \
       DB_PASSWORD=bench-memory-db-password

url=$(serve --fixed)
measure "demo scenario, fixed Site (baseline)" scenarios/demo.toml --base-url "$url" \
  --snapshots "$work/snap"
kill "$(cat "$work/pid")" 2>/dev/null || true

url=$(serve --fixed --chaos=gzip-bomb --seed 7)
measure "demo scenario, gzip bombs on a fifth of paths" scenarios/demo.toml --base-url "$url" \
  --snapshots "$work/snap"
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
measure "1 GiB and 50 MiB bodies, max_body_bytes 5 MB" "$work/gig.toml" --snapshots "$work/snap"
