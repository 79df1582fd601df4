#!/usr/bin/env bash
# Whether an unknown probe id answers sooner than a wrong token: the time of 2,000
# requests of each, interleaved on one keep-alive connection, over ROUNDS rounds.
# Before 0.5 an unknown id skipped the token's digest and answered 2–4 µs sooner,
# enough to find which ids exist; now both cost one digest (the suite counts them).
#
# Usage: benchmarks/auth-timing.sh [ROUNDS]   (default 3; medians per round, µs)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
source benchmarks/bench-governor.sh
start_governor 10 2
/usr/bin/python3 - "$url" "$rounds" <<'PY'
import http.client, statistics, sys, time, urllib.parse
url, rounds = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
def timed(connection, path, token):
    start = time.perf_counter_ns()
    connection.request("GET", path, headers={"Authorization": "Bearer " + token})
    answer = connection.getresponse()
    answer.read()
    return (time.perf_counter_ns() - start) / 1000, answer.status
for round in range(rounds):
    connection = http.client.HTTPConnection(url.hostname, url.port)
    unknown, wrong, statuses = [], [], set()
    for _ in range(2000):
        t, s = timed(connection, "/v1/probes/nobody-here/next", "token-bench-0"); unknown.append(t); statuses.add(s)
        t, s = timed(connection, "/v1/probes/bench-0/next", "not-the-token"); wrong.append(t); statuses.add(s)
    connection.close()
    u, w = statistics.median(unknown), statistics.median(wrong)
    print(f"round {round + 1}: unknown id median {u:.1f} µs, wrong token median {w:.1f} µs, difference {w - u:+.1f} µs (answers {sorted(statuses)})")
PY
