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
source benchmarks/bench-governor.sh
start_governor 100 10

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
