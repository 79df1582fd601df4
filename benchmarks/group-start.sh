#!/usr/bin/env bash
# How closely the probes of a group start a group run ([Group NAME]):
#
#     benchmarks/group-start.sh [GROUP_RUNS [pull|push|both]]      (default 100 both)
#
# One governor on 127.0.0.1 serves two schools, each with one group of 5 probes
# whose runs follow each other about every 2 s: 5 pull probes (governor-probe
# processes on this machine), then 5 push probes over a private sshd listening on
# 127.0.0.1 to 127.0.0.5. Each probe's test appends `probe run_at start` to a file,
# its start read by `date +%s.%N` in the test's own shell, so the spread includes
# starting the shell. A pull probe's start is corrected by the clock offset its
# result reports (on one machine it is about 0); a push probe runs on the governor's
# clock. Prints p50, p99 and max of the spread (latest start minus earliest) over
# the group runs where all 5 ran.
#
# GOVERNOR=/path/to/another/governor and GOVERNOR_PROBE=/path/to/another/governor-probe
# run that build's governor (which dispatches the push probes) or pull probes instead,
# to compare two builds on the same machine.
#
# Needs the packages of the README's install line (openssh-server, python3).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
parts=${2:-both}
swift build -c release --static-swift-stdlib --product governor >/dev/null
swift build -c release --static-swift-stdlib --product governor-probe >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
work=$(mktemp -d)
chmod 0755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port)
ssh_port=$(free_port)

# Windows of 62 s with 30 runs of a 1 s test and a 1 s delay: nearly back to back.
per_window=30
windows=$(( (runs + per_window - 1) / per_window ))
boundaries() {  # $1: seconds from now of the first window
    python3 - "$1" "$windows" <<'PY'
import sys, time
first, count = int(sys.argv[1]), int(sys.argv[2])
start = int(time.time()) + first
print(", ".join(time.strftime("%H:%M:%S", time.gmtime(start + 62 * i)) for i in range(count + 1)))
PY
}

# The push probes: a private sshd on 127.0.0.1 to 127.0.0.5, logged in as an
# account whose login shell is plain /bin/sh.
source benchmarks/private-sshd.sh
private_sshd_files "$work" "$ssh_port" 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5
: > "$work/pull-starts.txt"
: > "$work/push-starts.txt"
chmod 0666 "$work/push-starts.txt"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
    if [ -n "$created_user" ]; then userdel -f "$created_user" 2>/dev/null || true; fi
}
trap cleanup EXIT
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
pids+=($!)

# The pull school first (from 25 s on, after start-up), the push school after it.
pull_start=25
push_start=$(( pull_start + 62 * windows + 10 ))
[ "$parts" = push ] && push_start=$pull_start
mkdir -p "$work/schools"
cat > "$work/governor.cfg" <<CONF
[Governor]
schools = schools
state = state.sqlite
listen = 127.0.0.1:$http_port
[SSH]
user = $user
identity = $work/id_ed25519
known_hosts = $work/known_hosts
command = echo {probe} {run_at} \$(date +%s.%N) >> $work/push-starts.txt
timeout = 10s
connect_timeout = 5s
CONF
school() {  # name, first window, probes line, group members
    cat <<CONF
[School]
name = $1
timezone = UTC
[Timing]
boundaries = $(boundaries "$2")
runs_per_period = $per_window
test_duration = 1s
delay = 1s
overnight = no
[Probes]
$3
[Group all]
probes = $4
CONF
}
if [ "$parts" != push ]; then
    school pull "$pull_start" "ids = p1, p2, p3, p4, p5" "p1, p2, p3, p4, p5" > "$work/schools/pull.cfg"
    for i in 1 2 3 4 5; do printf '[Probe p%s]\ntoken = p%s-token\n' "$i" "$i" >> "$work/schools/pull.cfg"; done
fi
push_probes="127.0.0.1:$ssh_port, 127.0.0.2:$ssh_port, 127.0.0.3:$ssh_port, 127.0.0.4:$ssh_port, 127.0.0.5:$ssh_port"
[ "$parts" != pull ] && school push "$push_start" "addresses = $push_probes" "$push_probes" > "$work/schools/push.cfg"

(cd "$work" && exec "${GOVERNOR:-$bin/governor}" serve --config governor.cfg --log-level warning) 2>"$work/governor.log" &
pids+=($!)
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
for i in 1 2 3 4 5; do
    [ "$parts" = push ] && break
    cat > "$work/p$i.cfg" <<CONF
[Probe]
id = p$i
token = p$i-token
server = http://127.0.0.1:$http_port
command = echo {probe} {run_at} \$(date +%s.%N) >> $work/pull-starts.txt
timeout = 10s
queue = $work/queue-p$i
CONF
    "${GOVERNOR_PROBE:-$bin/governor-probe}" run --config "$work/p$i.cfg" >"$work/p$i.log" 2>&1 &
    pids+=($!)
done
total=$(( push_start + 62 * windows + 15 ))
[ "$parts" = pull ] && total=$(( pull_start + 62 * windows + 15 ))
echo "group-start: $runs group runs of 5 probes ($parts); about $(( total / 60 )) min" >&2
sleep "$total"

# Each pull probe's offsets, by run, from its results.
for i in 1 2 3 4 5; do
    [ "$parts" = push ] && break
    curl -fs "http://127.0.0.1:$http_port/v1/probes/p$i/results?limit=1000" > "$work/results-p$i.json"
done
python3 - "$work" "$runs" <<'PY'
import json, os, statistics, sys
work, wanted = sys.argv[1], int(sys.argv[2])
offsets = {}
for i in range(1, 6):
    if not os.path.exists(f"{work}/results-p{i}.json"):
        continue
    for r in json.load(open(f"{work}/results-p{i}.json"))["results"]:
        offsets[(r["probe"], r["run_at"])] = (r.get("clock_offset_ms") or 0) / 1000
def spreads(path, correct):
    runs = {}
    for line in open(path):
        probe, run_at, start = line.split()
        # The governor's clock: the probe's minus its reported offset (probe minus governor).
        runs.setdefault(run_at, []).append(float(start) - (offsets.get((probe, run_at), 0) if correct else 0))
    full = sorted(runs)[:wanted]
    return [(max(v) - min(v)) * 1000 for k in full for v in [runs[k]] if len(v) == 5], len(runs)
def show(name, values, seen):
    if not values:
        print(f"{name}: no complete group run ({seen} seen)")
        return
    values.sort()
    p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    print(f"{name}: {len(values)} group runs of 5, start spread p50 {p(0.5):.3f} ms, p99 {p(0.99):.3f} ms, max {values[-1]:.3f} ms")
# At the spawn: each pull probe's own late_ms for the run, against its corrected instant.
import re
import os
late = {}
for i in range(1, 6):
    if not os.path.exists(f"{work}/p{i}.log"):
        continue
    for line in open(f"{work}/p{i}.log", errors="replace"):
        if "test ran" not in line:
            continue
        ms, run_at = re.search(r"late_ms=(-?[0-9.]+)", line), re.search(r"run_at=(\S+)", line)
        if ms and run_at:
            late.setdefault(run_at.group(1), []).append(float(ms.group(1)))
chosen = sorted(late)[:wanted]
show("pull, at the spawn", [max(v) - min(v) for k in chosen for v in [late[k]] if len(v) == 5], len(late))
for name, path, correct in (("pull, in the test's shell", f"{work}/pull-starts.txt", True), ("push, in the test's shell", f"{work}/push-starts.txt", False)):
    show(name, *spreads(path, correct))
PY
