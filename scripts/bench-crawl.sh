#!/usr/bin/env bash
# Crawl speed against the raw loopback limit, wget and scrapy, on one static Site.
#
#   bash scripts/bench-crawl.sh [N]        (default N = 1000)
#
# Builds a Site of N HTML pages (~4 KB, a people table each: name, email, salary), their N JSON
# twins (/people/<i>.json), an index and an about page: 2N+2 URLs. nginx (Debian's, run as the
# current user from a private prefix, one worker) serves it on 127.0.0.1 only. Then, one after
# another: wrk walking the URL list (1 thread, 16 connections: the raw limit), wget
# --recursive (one connection), scrapy (16 concurrent, in a virtualenv under
# target/bench-venv), and lowpriv (release build, concurrency 16) with one identity and with
# five (full replay). Each tool's wall time, CPU (user+sys) and peak RSS come from
# /usr/bin/time; one table is printed at the end. Every tool is checked to have fetched all
# 2N+2 URLs (wrk: as many requests as it managed in its fixed time). Figures on a shared
# machine are noisy: the ratios within one run are what count. scrapy's count includes "/" twice
# (its start request is never deduplicated). BENCH_PERF=FILE records the one-identity lowpriv
# run with `perf record -g` (its figures then include perf's overhead). WRK_SECS (default 5)
# sets wrk's duration.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
N=${1:-1000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]   (N pages, a positive integer)" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "usage: $0 [N]   (N >= 1)" >&2; exit 2; }
URLS=$((2 * N + 2))
WRK_SECS=${WRK_SECS:-5}

missing=()
for tool in nginx wrk wget python3; do
  command -v "$tool" > /dev/null || missing+=("$tool")
done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=${missing[*]}
  pkgs=${pkgs/python3/python3 python3-venv}
  echo "bench-crawl needs: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get install -y $pkgs" >&2
  exit 2
fi
nginx_bin=$(command -v nginx)

work=$(mktemp -d /tmp/bench-crawl.XXXXXX)
# nginx's worker (and a root-run master's `user`) must read the Site.
chmod 755 "$work"
cleanup() {
  if [ -s "$work/nginx.pid" ]; then
    kill "$(cat "$work/nginx.pid")" 2> /dev/null || true
  fi
  if [ -n "${nginx_pid:-}" ]; then
    kill "$nginx_pid" 2> /dev/null || true
    wait "$nginx_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building the Site: $N pages, $N JSON twins, 2 more ($URLS URLs)" >&2
python3 scripts/bench-crawl/make_site.py "$N" "$work/site" "$work/urls.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
user_line=""
if [ "$(id -u)" -eq 0 ]; then user_line="user $(id -un) $(id -gn);"; fi
cat > "$work/nginx/nginx.conf" << CONF
$user_line
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $work/site;
    index index.html;
  }
}
CONF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" \
  > "$work/nginx/logs/stdout.log" 2>&1 &
nginx_pid=$!
for _ in $(seq 100); do
  curl_ok=$(python3 - "$base" << 'PY' 2> /dev/null || true
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/", timeout=1).status)
PY
  )
  [ "$curl_ok" = 200 ] && break
  sleep 0.1
done
if [ "${curl_ok:-}" != 200 ]; then
  echo "nginx did not start on $base:" >&2
  cat "$work/nginx/logs/error.log" "$work/nginx/logs/stdout.log" >&2 || true
  exit 1
fi
echo "== nginx serves $base" >&2

# tool | URLs | wall s | CPU s | peak RSS KiB, one line per run.
results=()
timed() { # timed CMD... : runs CMD under /usr/bin/time; `measured` is "wall cpu rss_kib"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@"
  local wall user sys rss
  read -r wall user sys rss < <(tail -1 "$work/time")
  measured="$wall $(echo "$user + $sys" | bc -l) $rss"
}
row() { # row LABEL URLS : the last `timed` run, as a row of the table
  local wall cpu rss
  read -r wall cpu rss <<< "$measured"
  case $1 in raw*) ;; *) [ "${2:-0}" -ge "$URLS" ] || echo "warning: $1 fetched ${2:-0} of $URLS URLs" >&2 ;; esac
  results+=("$1|$2|$wall|$cpu|$rss")
}
command -v bc > /dev/null || { echo "bench-crawl needs bc: sudo apt-get install -y bc" >&2; exit 2; }

# 1. wrk: the URL list, round and round, for a fixed time.
echo "== wrk, ${WRK_SECS}s" >&2
timed sh -c "
  wrk -t1 -c16 -d${WRK_SECS}s -s '$repo/scripts/bench-crawl/walk.lua' '$base' -- '$work/urls.txt' \
    > '$work/wrk.out' 2>&1"
if grep -q 'Non-2xx' "$work/wrk.out"; then
  echo "wrk saw errors:" >&2
  cat "$work/wrk.out" >&2
  exit 1
fi
row "raw (wrk, 1 thread, 16 conn)" "$(grep -E '^ +[0-9]+ requests in' "$work/wrk.out" | awk '{print $1}')"

# 2. wget --recursive, one connection, robots.txt off (nginx has none: it would be a 404).
echo "== wget --recursive" >&2
timed sh -c "
  wget --recursive --level=inf --no-parent -e robots=off --no-verbose \
    -P '$work/wget' -o '$work/wget.log' '$base/' || true"
row "wget --recursive (1 conn)" "$(grep -c ' URL:' "$work/wget.log" || true)"

# 3. scrapy in a virtualenv of its own.
venv=$repo/target/bench-venv
if [ ! -x "$venv/bin/scrapy" ]; then
  echo "== installing scrapy into $venv" >&2
  python3 -m venv "$venv" || {
    echo "python3 -m venv failed: sudo apt-get install -y python3-venv" >&2
    exit 2
  }
  "$venv/bin/pip" install --quiet scrapy
fi
scrapy_version=$("$venv/bin/python" -c 'import scrapy; print(scrapy.__version__)')
echo "== scrapy $scrapy_version" >&2
timed "$venv/bin/python" scripts/bench-crawl/spider.py "$base" "$work/scrapy.count"
row "scrapy $scrapy_version (16 concurrent)" "$(cat "$work/scrapy.count")"

# 4. lowpriv, release build.
echo "== cargo build --release (lowpriv)" >&2
cargo build --release --quiet --bin lowpriv
bin=${CARGO_TARGET_DIR:-$repo/target}/release/lowpriv
scenario() { # scenario IDENTITIES > FILE
  cat << TOML
[site]
name = "bench-crawl"
base_url = "$base"
audience = "external"

[crawl]
seeds = ["/"]
max_depth = 64
max_requests = $((URLS + 100))
concurrency = 16
rate_limit = 10000000
# /page/<i>.html and /people/<i>.json are one template each: the sample must take them all.
max_per_template = $((URLS + 100))

[data.salary]
json_keys = ["salary"]

[data.email]
builtin = "email"

[[identity]]
name = "anonymous"
tier = "external"
TOML
  for i in $(seq 2 "$1"); do
    cat << TOML

[[identity]]
name = "reader-$i"
tier = "external"
[identity.login]
headers = { "X-Bench-User" = "\${BENCH_USER_$i}" }
TOML
  done
}
for i in 2 3 4 5; do export "BENCH_USER_$i=bench-user-$i"; done
run_lowpriv() { # run_lowpriv IDENTITIES LABEL
  local ids=$1 label=$2 code=0
  scenario "$ids" > "$work/lowpriv-$ids.toml"
  echo "== $label" >&2
  # BENCH_PERF=FILE: the one-identity run under `perf record -g` (where lowpriv's CPU goes).
  local perf=""
  if [ -n "${BENCH_PERF:-}" ] && [ "$ids" = 1 ]; then perf="perf record -F 999 -g -o '$BENCH_PERF' --"; fi
  timed sh -c "
    $perf '$bin' run '$work/lowpriv-$ids.toml' --snapshots '$work/snap-$ids' \
      --json '$work/lowpriv-$ids.json' -q > '$work/lowpriv-$ids.out' 2>&1; echo \$? > '$work/lowpriv-$ids.code'"
  code=$(cat "$work/lowpriv-$ids.code")
  case $code in 0 | 1 | 3) ;; *)
    echo "lowpriv exited $code:" >&2
    cat "$work/lowpriv-$ids.out" >&2
    exit 1
    ;;
  esac
  python3 - "$work/lowpriv-$ids.json" "$ids" "$URLS" > "$work/lowpriv-$ids.count" << 'PY'
import json, sys
report, ids, urls = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
requests = report["summary"]["requests"]
sent = {(o["identity"], o["url"]) for o in report["observations"]}
per = {}
for identity, url in sent:
    per[identity] = per.get(identity, 0) + 1
short = {i: n for i, n in per.items() if n < urls}
if len(per) != ids or short:
    sys.exit(f"lowpriv did not send all {urls} URLs as each of {ids} identities: {per}")
print(requests)
PY
  row "$label" "$(cat "$work/lowpriv-$ids.count")"
}
run_lowpriv 1 "lowpriv, 1 identity"
run_lowpriv 5 "lowpriv, 5 identities, replay"

echo
echo "bench-crawl: N = $N ($URLS URLs), $(nproc) cores, nginx 1 worker on 127.0.0.1, $(date -u +%FT%TZ)"
printf '%-34s %8s %8s %9s %8s %12s\n' tool URLs "wall s" "URL/s" "CPU s" "peak RSS MB"
declare -A rate
for row in "${results[@]}"; do
  IFS='|' read -r label urls wall cpu rss <<< "$row"
  r=$(echo "$urls / $wall" | bc -l)
  rate[$label]=$r
  printf '%-34s %8d %8.2f %9.0f %8.2f %12.1f\n' "$label" "$urls" "$wall" "$r" "$cpu" \
    "$(echo "$rss / 1024" | bc -l)"
done
one=${rate["lowpriv, 1 identity"]}
five=${rate["lowpriv, 5 identities, replay"]}
for row in "${results[@]}"; do
  IFS='|' read -r label _ <<< "$row"
  case $label in raw*) raw=${rate[$label]} ;; wget*) wget_r=${rate[$label]} ;; scrapy*) scrapy_r=${rate[$label]} ;; esac
done
echo
printf 'lowpriv / wget   (URL/s): %6.2f   (5 identities: %.2f)\n' "$(echo "$one / $wget_r" | bc -l)" "$(echo "$five / $wget_r" | bc -l)"
printf 'lowpriv / scrapy (URL/s): %6.2f   (5 identities: %.2f)\n' "$(echo "$one / $scrapy_r" | bc -l)" "$(echo "$five / $scrapy_r" | bc -l)"
printf 'lowpriv / raw    (URL/s): %6.2f   (5 identities: %.2f)\n' "$(echo "$one / $raw" | bc -l)" "$(echo "$five / $raw" | bc -l)"
