#!/usr/bin/env bash
# How long `governor check` takes on one school file of 25,000, 50,000 and 100,000
# keys (half in one section, half in [Probe …] sections, as a generated fleet file
# would be), and on a file over the 16 MiB limit. Reading a configuration is linear
# in its size; before 0.5 it was quadratic in the number of keys.
#
# Usage: benchmarks/config-check.sh [ROUNDS]   (default 3; prints median and range)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
swift build -c release --static-swift-stdlib --product governor >/dev/null
governor="$(swift build -c release --static-swift-stdlib --show-bin-path)/governor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/schools"
printf '[Governor]\nschools = schools\nrequire_tokens = no\n' > "$work/governor.cfg"

school() {  # KEYS: a school file with KEYS keys
    /usr/bin/python3 - "$1" <<'PY'
import sys
keys = int(sys.argv[1])
lines = ["[School]", "timezone = UTC", "[Timing]", "boundaries = 0000 1200", "runs_per_period = 1", "delay = 1"]
lines += ["[Probes]", "ids = " + " ".join(f"p{i}" for i in range(keys // 2))]
lines += [f"[Probe p{i}]\nlabel = room {i}" for i in range(keys // 2)]
print("\n".join(lines))
PY
}

measure() {  # LABEL: ROUNDS runs of governor check; median and range of the wall time
    local label=$1 times=() start end
    for _ in $(seq 1 "$rounds"); do
        start=$(date +%s%N)
        "$governor" check --config "$work/governor.cfg" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=("$(( (end - start) / 1000000 ))")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" '
        { t[NR] = $1 / 1000 } END { printf "%-28s median %.2f s (%.2f–%.2f s, %d rounds)\n", label, t[int((NR + 1) / 2)], t[1], t[NR], NR }'
}

for keys in 25000 50000 100000; do
    school "$keys" > "$work/schools/big.cfg"
    measure "$keys keys ($(du -h "$work/schools/big.cfg" | cut -f1))"
done
head -c $((17 << 20)) /dev/zero | tr '\0' '#' > "$work/schools/big.cfg"
measure "a 17 MiB file (refused)"
"$governor" check --config "$work/governor.cfg" 2>&1 | grep -m1 "larger than" || true
