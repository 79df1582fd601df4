#!/usr/bin/env bash
# Result intake with and without reading the output into a measurement, side by side
# in one governor: three schools of one probe each, whose result_format is `none`
# (the output is stored and not read: the intake as it was before measurements),
# `ndt7` and `auto` (an ndt7-client -format=json output of about 12 KB is read, and its
# measurement stored in the result's transaction). Rounds alternate between them.
#
#     bash benchmarks/result-intake.sh
#
# ROUNDS (3) rounds of SECONDS_PER_ROUND (8) seconds each, CONNECTIONS (8) over 2
# wrk threads; every request stores a new result. Prints each round and the
# median (range) of results per second.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/bench-governor.sh

rounds="${ROUNDS:-3}"
seconds="${SECONDS_PER_ROUND:-8}"
connections="${CONNECTIONS:-8}"
formats=(none ndt7 auto)

mkdir -p "$work/schools"
printf '[Governor]\nschools = schools\nstate = state.sqlite\ntimezone = UTC\n' > "$work/governor.cfg"
for index in 0 1 2; do
  printf '[School]\nresult_format = %s\n[Timing]\nboundaries = 0000 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = bench-%d\n[Probe bench-%d]\ntoken = token-bench-%d\n' \
    "${formats[$index]}" "$index" "$index" "$index" > "$work/schools/school-$index.cfg"
done
launch_governor

# A whole run's output as ndt7-client writes it: 40 measurement events a direction
# around the summary of the test fixture (about 12 KB).
OUTPUT="$(python3 - Tests/GovernorCoreTests/Fixtures/measurements/ndt7-complete.jsonl <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = []
for test in ("download", "upload"):
    events.append(json.dumps({"Key": "starting", "Value": {"Test": test}}))
    events.append(json.dumps({"Key": "connected", "Value": {"Test": test, "Server": "ndt-mlab1-mil04.mlab-oti.measurement-lab.org"}}))
    for i in range(40):
        events.append(json.dumps({"Key": "measurement", "Value": {"AppInfo": {"ElapsedTime": 250000 * (i + 1), "NumBytes": 2883584 * (i + 1)},
                                                               "ConnectionInfo": {"UUID": "ndt-4c6fb_1625899199_000000000121D3A1"},
                                                               "Origin": "client", "Test": test}}))
    events.append(json.dumps({"Key": "complete", "Value": {"Test": test}}))
print(json.dumps("\n".join(events + [lines[-1]]) + "\n"))
PY
)"
RUN_AT="$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
export OUTPUT RUN_AT

declare -A rates
echo "result intake, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD), $rounds rounds of ${seconds} s, $connections connections"
for round in $(seq 1 "$rounds"); do
  for index in 0 1 2; do
    line="$(PROBE="bench-$index" ROUND="$round" wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s -s benchmarks/result-intake.lua "$url" | grep '^JSON')"
    echo "round $round  result_format = ${formats[$index]}  $line"
    rates[$index]+="$(field 'requests/s' "$line") "
  done
done
for index in 0 1 2; do
  # shellcheck disable=SC2086
  echo "result_format = ${formats[$index]}: $(summary ${rates[$index]}) results/s"
done
stored="$(curl -s -H 'Authorization: Bearer token-bench-1' "$url/v1/probes/bench-1/results?limit=1")"
grep -q '"measurement"' <<<"$stored" || { echo "the ndt7 school's results have no measurement: $stored" >&2; exit 1; }
