#!/usr/bin/env bash
# Compares the JSON reports of `lowpriv demo` and `lowpriv demo --fixed` between two builds,
# volatile fields aside: a refactor that must not change behaviour shows "identical" for both.
#
#   bash scripts/compare-demo-reports.sh OLD_BINARY [NEW_BINARY]
#
# NEW_BINARY defaults to this checkout's `target/release/lowpriv` (built if missing). Each run
# compares against a copy of the approved snapshots/, so nothing in the repository is written.
# Volatile: ports of the loopback Sites, the run's wall time, and body fingerprints (the
# OpenAPI document and the leaky script embed the port and a secret made up on every run, so
# two runs of one build differ there; findings that compare bodies still show any change).
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: compare-demo-reports.sh OLD_BINARY [NEW_BINARY]}
new=$(realpath "${2:-target/release/lowpriv}")
old=$(realpath "$old")
[ -x "$new" ] || { cargo build --release --locked -q && new=$(realpath target/release/lowpriv); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

normalize() {
  jq -S 'del(.summary.duration_ms) | (.observations[].fingerprint |= "F")' "$1" \
    | sed -E 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g'
}

status=0
for variant in flawed fixed; do
  flag=""
  [ "$variant" = fixed ] && flag=--fixed
  for side in old new; do
    bin=$old
    [ "$side" = new ] && bin=$new
    rm -rf "$work/snapshots" && cp -r snapshots "$work/snapshots"
    code=0
    (cd "$work" && "$bin" demo $flag -q --snapshots "$work/snapshots" \
      --json "$work/$variant-$side.json" >/dev/null 2>&1) || code=$?
    echo "$code" > "$work/$variant-$side.exit"
    normalize "$work/$variant-$side.json" > "$work/$variant-$side.norm"
  done
  old_exit=$(cat "$work/$variant-old.exit")
  new_exit=$(cat "$work/$variant-new.exit")
  lines=$(wc -l < "$work/$variant-new.norm")
  if [ "$old_exit" = "$new_exit" ] && diff -q "$work/$variant-old.norm" "$work/$variant-new.norm" >/dev/null; then
    echo "demo $variant: identical (exit $new_exit, $lines lines of normalized JSON)"
  else
    echo "demo $variant: DIFFERENT (exit $old_exit → $new_exit)"
    diff -u "$work/$variant-old.norm" "$work/$variant-new.norm" | head -60 || true
    status=1
  fi
done
exit $status
