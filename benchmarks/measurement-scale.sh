#!/usr/bin/env bash
# The measurement views at a programme's scale: SCHOOLS (10,000) schools of one pull
# probe, each with DAYS (30) days of PER_DAY (8) measurements (2.4 million results
# and measurements, written straight into the state file), then the governor
# restarted on them. Measures how long it takes to read them into memory, its RSS,
# and the answer times of the pages that show them: the front page (KPIs and the
# schools furthest below target), /v1/status's summary, and a school's page.
#
#     bash benchmarks/measurement-scale.sh [SCHOOLS]
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/bench-governor.sh

schools="${1:-10000}"
days="${DAYS:-30}"
per_day="${PER_DAY:-8}"
requests="${REQUESTS:-15}"

mkdir -p "$work/schools"
printf '[Governor]\nschools = schools\nstate = state.sqlite\ntimezone = UTC\ntarget_download_mbps = 20\n' > "$work/governor.cfg"
write_schools "$schools" 1 "$work/schools"
launch_governor
kill -TERM "$pid"; wait "$pid" || true; pid=""

echo "writing $((schools * days * per_day)) results with measurements"
python3 - "$work/state.sqlite" "$schools" "$days" "$per_day" <<'PY'
import random, sqlite3, sys, time
path, schools, days, per_day = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode = WAL")
now = int(time.time())
random.seed(7)
result_id = 0
for school in range(schools):
    # Each school's line: most get about their 20 Mbit/s target, some much less.
    line = random.choice([25, 22, 21, 18, 12, 5, 0.8]) * random.uniform(0.8, 1.2)
    results, measurements = [], []
    for day in range(days):
        for test in range(per_day):
            result_id += 1
            at = now - (day * 86400 + test * 3600 + 600)
            down = max(0.05, random.gauss(line, line * 0.15))
            results.append((result_id, f"bench-{school}", f"school-{school}", "pull", at, at * 1000, at * 1000 + 10000, 0, "ok", 0, at + 15))
            measurements.append((result_id, f"bench-{school}", f"school-{school}", at * 1000, "ndt7", down, down / 4, 12.5))
    db.executemany("INSERT INTO result (id, probe, school, mode, runAt, startedAtMs, finishedAtMs, exitCode, output, outputTruncated, receivedAt) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
    db.executemany("INSERT INTO measurement (resultId, probe, school, measuredAtMs, tool, downloadMbps, uploadMbps, minRttMs) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", measurements)
    if school % 500 == 0:
        db.commit()
db.commit()
db.close()
PY

launch_governor
for _ in $(seq 1 1200); do
  grep -q 'read the stored measurements' "$work/log" && break
  sleep 0.25
done
loaded=$(date +%s.%N)
echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d): served $(awk "BEGIN { printf \"%.1f\", $serving - $launched }") s after launch;" \
  "measurements read $(awk "BEGIN { printf \"%.1f\", $loaded - $serving }") s after that; RSS $(( $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status") / 1024 )) MB"
grep -o 'read the stored measurements.*' "$work/log" | head -1

time_page() {
  local label="$1" path="$2" times=()
  for _ in $(seq 1 "$requests"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$url$path" | awk '{ printf "%.1f", $1 * 1000 }')")
  done
  echo "$label: $(summary "${times[@]}") ms over $requests requests"
}
time_page "front page (KPIs, schools furthest below target)" "/"
time_page "/v1/status?limit=1 (the summary with the KPIs)" "/v1/status?limit=1"
time_page "a school's page (its chart of daily medians)" "/schools/school-4242"
time_page "a school's measurements (JSON, its window)" "/v1/schools/school-4242/measurements"
curl -s "$url/v1/status?limit=1" | python3 -c 'import json, sys; print("summary.measurements:", json.dumps(json.load(sys.stdin)["summary"]["measurements"]))'
echo "RSS after the pages: $(( $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status") / 1024 )) MB"
