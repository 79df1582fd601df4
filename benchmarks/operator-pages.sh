#!/usr/bin/env bash
# What the operator's views cost: GET /, /schools/{name}, /v1/status and /metrics
# of a governor with 100 schools of 10 probes (every window of today stored, one
# result per probe), one connection at a time as a browser or a scraper asks,
# beside the constant-body route of the same binary, alternating, in one run
# (the machine is shared). Traffic stays on 127.0.0.1.
#
#     bash benchmarks/operator-pages.sh [seconds per measurement, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-5}"
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }

swift build -c release --product governor >/dev/null
governor="$(swift build -c release --show-bin-path)/governor"

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# 100 schools of 10 probes, 4 windows a day of 4 runs each; tokens are "token-<id>".
mkdir -p "$work/schools"
printf '[Governor]\nschools = schools\nstate = state.sqlite\ntimezone = UTC\n' > "$work/governor.cfg"
for school in $(seq 0 99); do
  {
    printf '[Timing]\nboundaries = 0000 0600 1200 1800\nruns_per_period = 4\ndelay = 2\n[Probes]\nids ='
    for probe in $(seq $((school * 10)) $((school * 10 + 9))); do printf ' bench-%d' "$probe"; done
    printf '\n'
    for probe in $(seq $((school * 10)) $((school * 10 + 9))); do printf '[Probe bench-%d]\ntoken = token-bench-%d\n' "$probe" "$probe"; done
  } > "$work/schools/school-$school.cfg"
done

"$governor" serve --config "$work/governor.cfg" --listen 127.0.0.1:0 --benchmark-routes 2> "$work/log" &
pid=$!
port=""
for _ in $(seq 1 200); do
  port="$(grep -o 'serving on 127.0.0.1:[0-9]*' "$work/log" 2>/dev/null | grep -o '[0-9]*$' || true)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "the governor did not start:"; cat "$work/log"; exit 1; }
url="http://127.0.0.1:$port"

# Every probe asks for its next run (which stores its school's windows) and reports one result.
PROBES=1000 wrk -t2 -c16 -d3s -s benchmarks/next-run.lua "$url" >/dev/null
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for probe in $(seq 0 999); do
  curl -s -o /dev/null -X POST -H "Authorization: Bearer token-bench-$probe" -H 'Content-Type: application/json' \
    -d "{\"run_at\":\"$now\",\"started_at\":\"$now\",\"finished_at\":\"$now\",\"exit_code\":0,\"output\":\"download 93.1 Mbit/s\",\"clock_offset_ms\":1.5}" \
    "$url/v1/probes/bench-$probe/results"
done
bytes() { curl -s "$url$1" | wc -c; }

echo "governor $("$governor" --version), $(nproc) cores, 100 schools x 10 probes, wrk -t1 -c1, ${duration}s each, 2 alternating rounds"
echo "page sizes: / $(bytes /) B, /schools/school-0 $(bytes /schools/school-0) B, /v1/status $(bytes /v1/status) B, /metrics $(bytes /metrics) B"
for round in 1 2; do
  for path in /bench/constant / /schools/school-0 /v1/status /metrics; do
    printf 'round %d %-18s ' "$round" "$path"
    wrk -t1 -c1 -d"${duration}s" -s benchmarks/constant.lua "$url$path" | grep 'JSON requests/s' | sed 's/JSON //'
  done
done
