#!/bin/bash
# Runs a governor whose state directory is a 4 MiB tmpfs, fills that disk, frees it,
# and prints what /healthz answered at each step: "before 200", "full 503",
# "freed 200" when all is well; between them, what three results posted while full
# were answered ("result 503 5": 503 with Retry-After: 5) and how many warnings and
# errors the episode logged ("logged 1").
#
# Usage: unshare --user --map-root-user --mount full_disk.sh DIR GOVERNOR
# (a private mount namespace, so that neither root nor a mount is needed outside;
# the network is the host's, so the governor listens on 127.0.0.1 as usual).
set -u
dir=$1
governor=$2
mkdir -p "$dir/state"
mount -t tmpfs -o size=4m tmpfs "$dir/state" || { echo "mount failed"; exit 1; }
"$governor" serve --config "$dir/governor.cfg" --listen 127.0.0.1:0 > "$dir/governor.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*serving on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/governor.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "governor did not start"; cat "$dir/governor.log"; exit 1; }
health() {
    /usr/bin/python3 -c '
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as error:
    print(error.code)
except Exception as error:
    print("error", error)
' "http://127.0.0.1:$port/healthz"
}
# Polls until /healthz answers $1, for at most 15 s; prints the last answer.
until_health() {
    local answer
    for _ in $(seq 1 30); do
        answer=$(health)
        [ "$answer" = "$1" ] && break
        sleep 0.5
    done
    echo "$answer"
}
echo "before $(health)"
lines_before=$(wc -l < "$dir/governor.log")
dd if=/dev/zero of="$dir/state/filler" bs=64k > /dev/null 2>&1
echo "full $(until_health 503)"
# A probe's result while the disk is full: 503 with Retry-After, as for a lost
# PostgreSQL, so that the probe keeps it and sends it again.
/usr/bin/python3 -c '
import sys, json, time, urllib.request, urllib.error
ran = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
body = json.dumps({"run_at": ran, "started_at": ran, "finished_at": ran, "exit_code": 0, "output": "x" * 200000,
                   "idempotency_key": "full-disk"}).encode()
request = urllib.request.Request(sys.argv[1], data=body, method="POST",
                                 headers={"Authorization": "Bearer t", "Content-Type": "application/json"})
for attempt in range(3):
    try:
        answer = urllib.request.urlopen(request, timeout=5)
        print("result", answer.status, answer.headers.get("Retry-After"))
    except urllib.error.HTTPError as error:
        print("result", error.code, error.headers.get("Retry-After"))
    time.sleep(1)
' "http://127.0.0.1:$port/v1/probes/p1/results"
sleep 2
# The condition is logged once for the episode (by whichever part met it first), not
# once a request or a second.
echo "logged $(tail -n +$((lines_before + 1)) "$dir/governor.log" | grep -c -E ' (error|warning) ')"
rm -f "$dir/state/filler"
echo "freed $(until_health 200)"
