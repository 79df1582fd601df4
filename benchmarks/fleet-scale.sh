#!/usr/bin/env bash
# Fleet scale on one machine, for each size (SCHOOLS schools of 10 pull probes):
#   - the empty-state rounds: a governor started on an empty state, asked /next for
#     every probe in turn at 64 connections from the moment it serves, for its first
#     EMPTY_SECONDS (every school's window stored on demand as its probes ask);
#   - the warm-up (every probe's first contact), then start-up on its own state;
#   - GET /v1/probes/{id}/next at 64 connections, alternating in ROUNDS rounds with
#     the anchor (a minimal Hummingbird app: benchmarks/MinimalHummingbird, one route,
#     no middleware) and the ceiling (nginx serving a static file of the same size),
#     all driven by the same wrk script; then one LONG_SECONDS run of /next for its
#     slowest request;
#   - every operator page and endpoint: size (plain and gzip) and time (median of 5);
#   - the resident memory after the /next rounds and the pages, and idle CPU.
# With BEFORE=/path/to/governor (a build of an earlier commit), that binary is
# measured beside this tree's, round for round, in the same run: before and after.
# Traffic stays on 127.0.0.1; every process started is stopped by its PID.
#
#     bash benchmarks/fleet-scale.sh [SCHOOLS ...]        # default: 1000 10000
#     BEFORE=/tmp/old/governor bash benchmarks/fleet-scale.sh 10000
#     ROUNDS=3 SECONDS_EACH=10 LONG_SECONDS=60 EMPTY_ROUNDS=3 EMPTY_SECONDS=6 bash benchmarks/fleet-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}" each="${SECONDS_EACH:-10}" long="${LONG_SECONDS:-60}"
empty_rounds="${EMPTY_ROUNDS:-3}" empty_seconds="${EMPTY_SECONDS:-6}"
sizes=("${@:-1000 10000}")
source benchmarks/bench-governor.sh

declare -A binary=([after]="$governor") gpid=() gurl=() started=()
names=(after)
if [ -n "${BEFORE:-}" ]; then
  [ -x "$BEFORE" ] || { echo "BEFORE=$BEFORE is not an executable governor"; exit 1; }
  binary[before]="$BEFORE"
  names=(before after)
fi

command -v nginx >/dev/null || { echo "installing nginx-light"; apt-get install -y nginx-light >/dev/null; }
swift build -c release --static-swift-stdlib --product minimal-hummingbird >/dev/null
minimal_binary="$(swift build -c release --static-swift-stdlib --show-bin-path)/minimal-hummingbird"

aux="$(mktemp -d)"
chmod 755 "$aux"
minimal_pid="" nginx_pid=""
stop_all() {
  for other in "$minimal_pid" "$nginx_pid" "${gpid[@]}"; do
    if [ -n "$other" ]; then kill -TERM "$other" 2>/dev/null || true; wait "$other" 2>/dev/null || true; fi
  done
  rm -rf "$aux"
}
trap 'stop_all; cleanup' EXIT

wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "$1 does not answer"; exit 1; }

# The anchor and the ceiling, started once for every size.
minimal_port="$(free_port)"
"$minimal_binary" "$minimal_port" > "$aux/minimal.log" 2>&1 &
minimal_pid=$!
nginx_port="$(free_port)"
printf '%s\n' '{"probe":"bench-0","run_at":"2026-12-02T12:34:56Z","run_at_unix":1796214896,"school":"school-0","server_time":"2026-12-02T12:00:00.000Z","window_end":"2026-12-02T18:00:00Z","window_start":"2026-12-02T12:00:00Z"}' > "$aux/next.json"
chmod 644 "$aux/next.json"
cat > "$aux/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $aux/nginx.pid;
error_log $aux/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $aux; proxy_temp_path $aux; fastcgi_temp_path $aux; uwsgi_temp_path $aux; scgi_temp_path $aux;
  server { listen 127.0.0.1:$nginx_port; location / { default_type application/json; root $aux; try_files /next.json =404; } }
}
CONF
nginx -c "$aux/nginx.conf" -p "$aux" &
nginx_pid=$!
wait_for "http://127.0.0.1:$minimal_port/v1/probes/bench-0/next"
wait_for "http://127.0.0.1:$nginx_port/next"

# launch NAME [fresh]: starts governor NAME in $work/NAME (on an empty state when
# "fresh"), waits until it serves; sets gpid, gurl and started (seconds to serve).
launch() {
  local name="$1" dir="$work/$1" port launched_at
  if [ "${2:-}" = fresh ]; then rm -rf "$dir"; fi
  mkdir -p "$dir"
  printf '[Governor]\nschools = %s\nstate = state.sqlite\ntimezone = UTC\n' "$work/schools" > "$dir/governor.cfg"
  : > "$dir/log"
  launched_at=$(date +%s.%N)
  "${binary[$name]}" serve --config "$dir/governor.cfg" --listen 127.0.0.1:0 2> "$dir/log" &
  gpid[$name]=$!
  port=$(serving_port "$dir/log") || exit 1
  started[$name]=$(awk -v a="$launched_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  gurl[$name]="http://127.0.0.1:$port"
}

halt() {
  kill -TERM "${gpid[$1]}" 2>/dev/null || true
  wait "${gpid[$1]}" 2>/dev/null || true
  gpid[$1]=""
}

rss() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/${gpid[$1]}/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${gpid[$1]}/stat"; }
# wrk's own timeout is 2 s, and a request it times out has no latency: 10 s, so that
# a slow answer counts in the figures rather than vanishing from them.
ask() { PROBES=$probes wrk -t2 -c64 -d"$1s" --timeout 10s -s benchmarks/next-run.lua "$2" | grep 'JSON requests/s'; }

echo "fleet-scale: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo ' with changes'), $(date -u +%Y-%m-%d), $(nproc) cores"
for name in "${names[@]}"; do echo "  $name: ${binary[$name]} ($("${binary[$name]}" --version))"; done
echo "wrk -t2 -c64; empty state: $empty_rounds × ${empty_seconds} s each; steady: ${each} s per measurement, $rounds alternating rounds; then one ${long} s run of /next each"
for schools in ${sizes[*]}; do
  probes=$((schools * 10))
  echo
  echo "## $probes probes in $schools schools"
  rm -rf "$work/schools"
  write_schools "$schools" 10 "$work/schools"  # shared by every governor

  # The first seconds on an empty state, alternating the governors round by round;
  # each round starts from nothing and stops once measured.
  declare -A empty_rate=() empty_p99=() empty_max=() empty_start=()
  for round in $(seq 1 "$empty_rounds"); do
    for name in "${names[@]}"; do
      launch "$name" fresh
      line=$(ask "$empty_seconds" "${gurl[$name]}")
      [ "$(field 'non-2xx' "$line")" = "0" ] && [ "$(field 'errors' "$line")" = "0" ] || echo "  ($name on an empty state, round $round: $line)"
      empty_rate[$name]+="$(field 'requests/s' "$line") "
      empty_p99[$name]+="$(field 'p99' "$line") "
      empty_max[$name]+="$(field 'max' "$line") "
      empty_start[$name]+="${started[$name]} "
      halt "$name"
    done
  done
  echo "| the first ${empty_seconds} s on an empty state | start-up s, median (range) | req/s, median (range) | p99 ms, median (range) | slowest ms, median (range) |"
  echo "| --- | --- | --- | --- | --- |"
  for name in "${names[@]}"; do
    # shellcheck disable=SC2086
    echo "| $name | $(summary ${empty_start[$name]}) | $(summary ${empty_rate[$name]}) | $(summary ${empty_p99[$name]}) | $(summary ${empty_max[$name]}) |"
  done

  # The rest of the first contacts, once per governor, then a restart on its own state;
  # both then stay up for the steady rounds.
  warmup=$((probes / 2000 + 5))
  for name in "${names[@]}"; do
    launch "$name" fresh
    line=$(ask "$warmup" "${gurl[$name]}")
    echo "$name: start-up ${started[$name]} s on an empty state; warm-up ($warmup s, every probe's first contact): $(field 'requests/s' "$line") req/s, p99 $(field 'p99' "$line") ms, slowest $(field 'max' "$line") ms"
    sleep 5
    halt "$name"
    launch "$name"
    echo "$name: start-up ${started[$name]} s on its own state"
    ask 5 "${gurl[$name]}" >/dev/null  # every probe heard once since the restart
  done
  sleep 10

  declare -A rate=() p99=() worst=()
  targets=(minimal "${names[@]}" nginx)
  for round in $(seq 1 "$rounds"); do
    for target in "${targets[@]}"; do
      case $target in
        minimal) base="http://127.0.0.1:$minimal_port" ;;
        nginx) base="http://127.0.0.1:$nginx_port" ;;
        *) base="${gurl[$target]}" ;;
      esac
      line=$(ask "$each" "$base")
      [ "$(field 'non-2xx' "$line")" = "0" ] || echo "  ($target answered non-2xx: $line)"
      rate[$target]+="$(field 'requests/s' "$line") "
      p99[$target]+="$(field 'p99' "$line") "
      worst[$target]+="$(field 'max' "$line") "
    done
  done
  echo "| /next at 64 connections | req/s, median (range) | p99 ms, median (range) | max ms | ÷ minimal app: req/s, p99 |"
  echo "| --- | --- | --- | --- | --- |"
  # shellcheck disable=SC2086
  minimal_rate=$(summary ${rate[minimal]} | cut -d' ' -f1) minimal_p99=$(summary ${p99[minimal]} | cut -d' ' -f1)
  for target in "${targets[@]}"; do
    # shellcheck disable=SC2086
    ratio=$(awk -v g="$(summary ${rate[$target]} | cut -d' ' -f1)" -v m="$minimal_rate" \
                -v gp="$(summary ${p99[$target]} | cut -d' ' -f1)" -v mp="$minimal_p99" 'BEGIN { printf "%.2f×, %.2f×", g / m, gp / mp }')
    # shellcheck disable=SC2086
    echo "| $target | $(summary ${rate[$target]}) | $(summary ${p99[$target]}) | $(printf '%s\n' ${worst[$target]} | sort -g | tail -1) | $ratio |"
  done
  for name in "${names[@]}"; do
    line=$(ask "$long" "${gurl[$name]}")
    echo "$name: one ${long} s run of /next: $(field 'requests/s' "$line") req/s, p99 $(field 'p99' "$line") ms, slowest request $(field 'max' "$line") ms; RSS $(rss "$name") MB after the /next rounds"
  done

  for name in "${names[@]}"; do
    url="${gurl[$name]}"
    echo "| $name: page | size | gzip | first byte ms, median of 5 | total ms, median of 5 |"
    echo "| --- | --- | --- | --- | --- |"
    for page in "/" "/?cursor=school-5" "/?school=school-77" "/schools/school-0" "/v1/status" "/v1/status?limit=500" \
                "/v1/status?state=UP&limit=500" "/v1/status?attention=true" "/v1/schools" "/v1/probes/bench-0" "/metrics"; do
      first=() total=()
      for _ in 1 2 3 4 5; do
        read -r f t < <(curl -s -o /dev/null -w '%{time_starttransfer} %{time_total}\n' -H 'Authorization: Bearer token-bench-0' "$url$page")
        first+=("$(awk -v s="$f" 'BEGIN { printf "%.1f", s * 1000 }')")
        total+=("$(awk -v s="$t" 'BEGIN { printf "%.1f", s * 1000 }')")
      done
      plain=$(curl -s -o /dev/null -w '%{size_download}' -H 'Authorization: Bearer token-bench-0' "$url$page")
      zipped=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' -H 'Authorization: Bearer token-bench-0' "$url$page")
      echo "| \`$page\` | $(numfmt --to=iec --suffix=B "$plain") | $(numfmt --to=iec --suffix=B "$zipped") | $(summary "${first[@]}" | cut -d' ' -f1) | $(summary "${total[@]}" | cut -d' ' -f1) |"
    done
  done
  sleep 5
  for name in "${names[@]}"; do
    before_ticks=$(cpu_ticks "$name")
    sleep 30
    after_ticks=$(cpu_ticks "$name")
    idle=$(awk -v d=$((after_ticks - before_ticks)) -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d / t / 30 * 100 }')
    echo "$name: RSS $(rss "$name") MB after the /next rounds and every page; idle CPU over 30 s: ${idle}% of one core"
  done
  for name in "${names[@]}"; do halt "$name"; done
  rm -rf "${work:?}"/*
  unset rate p99 worst empty_rate empty_p99 empty_max empty_start
done
