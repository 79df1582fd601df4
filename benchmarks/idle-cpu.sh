#!/usr/bin/env bash
# Idle cost of a large fleet: a release governor with SCHOOLS schools of 10 pull
# probes that nobody contacts, so that all it does is its background work (the
# scheduler, the alert judgement, contact flushes, the outbox). Prints, per size,
# the start-up time, the CPU used in three 20 s windows (percent of one core) and
# the resident memory.
#
#     bash benchmarks/idle-cpu.sh [SCHOOLS ...]      # default: 1000 10000
#     GOVERNOR=/path/to/governor bash benchmarks/idle-cpu.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/bench-governor.sh

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

echo "governor: $governor"
echo "| probes | start-up until serving | idle CPU, % of one core (3 × 20 s) | RSS |"
echo "| --- | --- | --- | --- |"
for schools in "${@:-1000 10000}"; do
  for n in $schools; do
    rm -rf "$work"/*
    start_governor "$n" 10
    sleep 15  # the first passes catch up on everything once
    figures=()
    for _ in 1 2 3; do
      before=$(cpu_ticks)
      sleep 20
      after=$(cpu_ticks)
      figures+=("$(awk -v d=$((after - before)) -v t="$ticks" 'BEGIN { printf "%.2f", d / t / 20 * 100 }')")
    done
    rss=$(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status")
    printf '| %d | %.1f s | %s | %s |\n' $((n * 10)) "$(awk -v a="$launched" -v b="$serving" 'BEGIN { print b - a }')" "${figures[*]}" "$rss"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done
done
