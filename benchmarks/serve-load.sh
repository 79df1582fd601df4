#!/usr/bin/env bash
# Load benchmark of `GET /v1/probes/{id}/next`: 10,000 probes in 1,000 schools,
# at 64 and 256 connections, beside a constant-body route of the same binary,
# measured in the same run, alternating, three rounds each (the machine is shared). Traffic stays on 127.0.0.1.
#
#     bash benchmarks/serve-load.sh [seconds per measurement, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
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

# 1,000 schools of 10 probes; each probe's token is "token-<id>".
mkdir -p "$work/schools"
printf '[Governor]\nschools = schools\nstate = state.sqlite\ntimezone = UTC\n' > "$work/governor.cfg"
for school in $(seq 0 999); do
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

# Every school's windows are generated on its probes' first requests: do that first.
PROBES=10000 wrk -t2 -c64 -d5s -s benchmarks/next-run.lua "$url" >/dev/null

echo "governor $("$governor" --version), $(nproc) cores, wrk -t2, ${duration}s each, 3 alternating rounds"
for connections in 64 256; do
  for round in 1 2 3; do
    printf 'c=%-4d round %d constant route: ' "$connections" "$round"
    wrk -t2 -c"$connections" -d"${duration}s" -s benchmarks/constant.lua "$url/bench/constant" | grep 'JSON requests/s' | sed 's/JSON //'
    printf 'c=%-4d round %d next run:       ' "$connections" "$round"
    PROBES=10000 wrk -t2 -c"$connections" -d"${duration}s" -s benchmarks/next-run.lua "$url" | grep 'JSON requests/s' | sed 's/JSON //'
  done
done
