# Sourced by the HTTP benchmarks: builds the release governor and starts it on a
# free loopback port with generated schools, and stops it (by its PID) and removes
# its files on exit.
#
#     start_governor SCHOOLS PROBES_PER_SCHOOL
#
# sets $governor (the binary), $work (its directory), $pid, $url, and $launched and
# $serving (when it was started, and when it served). Probe ids are
# bench-0 … bench-(N-1), each with the token "token-<id>"; every school has four
# windows a day (0000 0600 1200 1800) of 4 runs per probe.

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }

# GOVERNOR=PATH benchmarks a given binary (another build, to compare) instead.
if [ -n "${GOVERNOR:-}" ]; then
  governor="$GOVERNOR"
else
  swift build -c release --static-swift-stdlib --product governor >/dev/null
  governor="$(swift build -c release --static-swift-stdlib --show-bin-path)/governor"
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_governor() {
  mkdir -p "$work/schools"
  printf '[Governor]\nschools = schools\nstate = state.sqlite\ntimezone = UTC\n' > "$work/governor.cfg"
  write_schools "$1" "$2" "$work/schools"
  launch_governor
}

# Writes SCHOOLS school files of PER_SCHOOL probes into DIR: write_schools SCHOOLS PER_SCHOOL DIR.
write_schools() {
  local schools="$1" per_school="$2" dir="$3" school probe
  mkdir -p "$dir"
  for school in $(seq 0 $((schools - 1))); do
    {
      printf '[Timing]\nboundaries = 0000 0600 1200 1800\nruns_per_period = 4\ndelay = 2\n[Probes]\nids ='
      for probe in $(seq $((school * per_school)) $((school * per_school + per_school - 1))); do printf ' bench-%d' "$probe"; done
      printf '\n'
      for probe in $(seq $((school * per_school)) $((school * per_school + per_school - 1))); do
        printf '[Probe bench-%d]\ntoken = token-bench-%d\n' "$probe" "$probe"
      done
    } > "$dir/school-$school.cfg"
  done
}

# Starts the governor on the files start_governor wrote (again, after a stop: a
# restart on an existing state), and waits until it serves.
launch_governor() {
  launched=$(date +%s.%N)
  "$governor" serve --config "$work/governor.cfg" --listen 127.0.0.1:0 --benchmark-routes 2> "$work/log" &
  pid=$!
  url="http://127.0.0.1:$(serving_port "$work/log")" || exit 1
  serving=$(date +%s.%N)
}

# The port a governor logging to LOG serves on, once it says so (at most 60 s).
serving_port() {
  local port=""
  for _ in $(seq 1 1200); do
    port="$(grep -o 'serving on 127.0.0.1:[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' || true)"
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "the governor did not start:" >&2; cat "$1" >&2; exit 1; }
  echo "$port"
}

# A free loopback port.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# "median (min–max)" of numbers.
summary() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s (%s–%s)", m, v[1], v[NR] }'; }
# The number after NAME in a line of next-run.lua's summary (requests/s, p99, max, non-2xx).
field() { grep -o "$1 [0-9.]*" <<<"$2" | awk '{ print $NF }'; }

# Stops the governor started last, by its PID.
stop_governor() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
