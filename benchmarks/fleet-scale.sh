#!/usr/bin/env bash
# Fleet scale on one machine: for each size (SCHOOLS schools of 10 pull probes),
#   - start-up until serving, on an empty state and again on the state it left;
#   - GET /v1/probes/{id}/next at 64 connections, alternating in ROUNDS rounds with
#     the anchor (a minimal Hummingbird app: benchmarks/MinimalHummingbird, one route,
#     no middleware) and the ceiling (nginx serving a static file of the same size),
#     all driven by the same wrk script; then one LONG_SECONDS run of /next for its
#     slowest request;
#   - every operator page and endpoint: size (plain and gzip) and time (median of 5);
#   - idle CPU over 30 s, and the resident memory before and after the pages.
# Traffic stays on 127.0.0.1; every process started is stopped by its PID.
#
#     bash benchmarks/fleet-scale.sh [SCHOOLS ...]        # default: 1000 10000
#     ROUNDS=3 SECONDS_EACH=10 LONG_SECONDS=60 bash benchmarks/fleet-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}" each="${SECONDS_EACH:-10}" long="${LONG_SECONDS:-60}"
sizes=("${@:-1000 10000}")
source benchmarks/bench-governor.sh

command -v nginx >/dev/null || { echo "installing nginx-light"; apt-get install -y nginx-light >/dev/null; }
swift build -c release --static-swift-stdlib --product minimal-hummingbird >/dev/null
minimal_binary="$(swift build -c release --static-swift-stdlib --show-bin-path)/minimal-hummingbird"

aux="$(mktemp -d)"
chmod 755 "$aux"
minimal_pid="" nginx_pid=""
stop_anchors() {
  for other in "$minimal_pid" "$nginx_pid"; do
    if [ -n "$other" ]; then kill -TERM "$other" 2>/dev/null || true; wait "$other" 2>/dev/null || true; fi
  done
  rm -rf "$aux"
}
trap 'stop_anchors; cleanup' EXIT

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

rss() { awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

echo "fleet-scale: governor $("$governor" --version), commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d), $(nproc) cores"
echo "wrk -t2 -c64, ${each} s per measurement, $rounds alternating rounds; then one ${long} s run of /next"
for schools in ${sizes[*]}; do
  probes=$((schools * 10))
  echo
  echo "## $probes probes in $schools schools"
  start_governor "$schools" 10
  fresh=$(awk -v a="$launched" -v b="$serving" 'BEGIN { printf "%.2f", b - a }')
  stop_governor
  launch_governor
  restart=$(awk -v a="$launched" -v b="$serving" 'BEGIN { printf "%.2f", b - a }')
  echo "start-up until serving: ${fresh} s on an empty state, ${restart} s on its own state"

  # Every probe asks at least once before anything is measured: its first contact
  # is judged and written, and its school's next window stored on demand, one
  # transaction each (a real fleet's first contacts and next windows are spread
  # over hours; here they all come at once). Reported, then left to settle.
  line=$(PROBES=$probes wrk -t2 -c64 -d"$((probes / 2000 + 5))s" -s benchmarks/next-run.lua "$url" | grep 'JSON requests/s')
  echo "warm-up, every probe's first contact at once ($((probes / 2000 + 5)) s): $(field 'requests/s' "$line") req/s, p99 $(field 'p99' "$line") ms, slowest $(field 'max' "$line") ms"
  sleep 10
  warm_rss=$(rss)
  declare -A rate=() p99=() worst=()
  for round in $(seq 1 "$rounds"); do
    for target in minimal governor nginx; do
      case $target in
        minimal) base="http://127.0.0.1:$minimal_port" ;;
        governor) base="$url" ;;
        nginx) base="http://127.0.0.1:$nginx_port" ;;
      esac
      line=$(PROBES=$probes wrk -t2 -c64 -d"${each}s" -s benchmarks/next-run.lua "$base" | grep 'JSON requests/s')
      [ "$(field 'non-2xx' "$line")" = "0" ] || echo "  ($target answered non-2xx: $line)"
      rate[$target]+="$(field 'requests/s' "$line") "
      p99[$target]+="$(field 'p99' "$line") "
      worst[$target]+="$(field 'max' "$line") "
    done
  done
  echo "| /next at 64 connections | req/s, median (range) | p99 ms, median (range) | max ms |"
  echo "| --- | --- | --- | --- |"
  for target in minimal governor nginx; do
    # shellcheck disable=SC2086
    echo "| $target | $(summary ${rate[$target]}) | $(summary ${p99[$target]}) | $(printf '%s\n' ${worst[$target]} | sort -g | tail -1) |"
  done
  # shellcheck disable=SC2086
  awk -v g="$(summary ${rate[governor]} | cut -d' ' -f1)" -v m="$(summary ${rate[minimal]} | cut -d' ' -f1)" \
      -v gp="$(summary ${p99[governor]} | cut -d' ' -f1)" -v mp="$(summary ${p99[minimal]} | cut -d' ' -f1)" \
      'BEGIN { printf "governor / minimal app: throughput %.2f×, p99 %.2f×\n", g / m, gp / mp }'
  line=$(PROBES=$probes wrk -t2 -c64 -d"${long}s" -s benchmarks/next-run.lua "$url" | grep 'JSON requests/s')
  echo "one ${long} s run of /next: $(field 'requests/s' "$line") req/s, p99 $(field 'p99' "$line") ms, slowest request $(field 'max' "$line") ms"

  echo "| page | size | gzip | first byte ms, median of 5 | total ms, median of 5 |"
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
  after_rss=$(rss)
  sleep 5
  before=$(cpu_ticks)
  sleep 30
  after=$(cpu_ticks)
  idle=$(awk -v d=$((after - before)) -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d / t / 30 * 100 }')
  echo "RSS: $warm_rss warm, $after_rss after every page; idle CPU over 30 s: ${idle}% of one core"
  stop_governor
  rm -rf "${work:?}"/*
  unset rate p99 worst
done
