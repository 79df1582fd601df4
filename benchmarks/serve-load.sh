#!/usr/bin/env bash
# Load benchmark of `GET /v1/probes/{id}/next`: 10,000 probes in 1,000 schools,
# at 64 and 256 connections, beside a constant-body route of the same binary,
# measured in the same run, alternating, three rounds each (the machine is shared). Traffic stays on 127.0.0.1.
#
#     bash benchmarks/serve-load.sh [seconds per measurement, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
source benchmarks/bench-governor.sh
start_governor 1000 10

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
