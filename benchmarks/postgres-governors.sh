#!/usr/bin/env bash
# /next on a shared PostgreSQL state beside the SQLite one, in one run: SCHOOLS
# schools of 10 pull probes (default 1,000: 10,000 probes), GET /v1/probes/{id}/next
# at 64 connections for SECONDS_EACH s, ROUNDS rounds, alternating:
#   - one governor on its SQLite file;
#   - one governor on PostgreSQL;
#   - two governors on the same PostgreSQL behind nginx (an upstream of both).
# PostgreSQL is Debian's (initdb + postgres in a temporary directory, as the
# `postgres` user when run as root, default durability settings), on a free
# loopback port. Every process started is stopped by its PID.
#
#     bash benchmarks/postgres-governors.sh [SCHOOLS]
#     ROUNDS=3 SECONDS_EACH=10 bash benchmarks/postgres-governors.sh
set -euo pipefail
cd "$(dirname "$0")/.."
schools="${1:-1000}" rounds="${ROUNDS:-3}" each="${SECONDS_EACH:-10}"
probes=$((schools * 10))
source benchmarks/bench-governor.sh

command -v nginx >/dev/null || { echo "installing nginx-light"; apt-get install -y nginx-light >/dev/null; }
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -x "$pg_bin/initdb" ] || { echo "installing postgresql"; apt-get install -y postgresql >/dev/null; pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; }

as_postgres() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi; }

pg="$(mktemp -d)"
pg_pid="" nginx_pid="" pids=()
stop_all() {
  for other in "${pids[@]}" "$nginx_pid"; do
    if [ -n "$other" ]; then kill -TERM "$other" 2>/dev/null || true; wait "$other" 2>/dev/null || true; fi
  done
  if [ -n "$pg_pid" ]; then kill -INT "$pg_pid" 2>/dev/null || true; while kill -0 "$pg_pid" 2>/dev/null; do sleep 0.1; done; fi
  rm -rf "$pg"
}
trap 'stop_all; cleanup' EXIT

[ "$(id -u)" = 0 ] && chown postgres:postgres "$pg"
pg_port="$(free_port)"
as_postgres "$pg_bin/initdb" -D "$pg/data" -U governor --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$pg_bin/postgres" -D "$pg/data" -p "$pg_port" -k "$pg" -c listen_addresses=127.0.0.1 > "$pg/log" 2>&1 &
pg_pid=$!
for _ in $(seq 1 100); do "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U governor governor

echo "postgres-governors: governor $("$governor" --version), commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }')"
echo "$probes probes in $schools schools; wrk -t2 -c64, ${each} s per measurement, $rounds alternating rounds"

# The school files, and the SQLite governor on them.
start_governor "$schools" 10
sqlite_url="$url"
pids+=("$pid")

# One governor on PostgreSQL, then a second on the same database.
sed -i "s|^state = .*|state = postgres://governor@127.0.0.1:$pg_port/governor\nsslmode = disable|" "$work/governor.cfg"
mv "$work/log" "$work/sqlite.log"  # each launch reads its own log for its port
launch_governor
pg_one_url="$url" pg_one_port="${url##*:}"
pids+=("$pid")
mv "$work/log" "$work/postgres-1.log"
launch_governor
pg_two_port="${url##*:}"
pids+=("$pid")

nginx_port="$(free_port)"
cat > "$pg/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $pg/nginx.pid;
error_log $pg/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $pg; proxy_temp_path $pg; fastcgi_temp_path $pg; uwsgi_temp_path $pg; scgi_temp_path $pg;
  upstream governors { server 127.0.0.1:$pg_one_port; server 127.0.0.1:$pg_two_port; keepalive 64; }
  server { listen 127.0.0.1:$nginx_port; location / { proxy_pass http://governors; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
nginx -c "$pg/nginx.conf" -p "$pg" &
nginx_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/healthz" && break; sleep 0.1; done

# Every probe's first contact and next window, on each, before anything is measured.
for base in "$sqlite_url" "$pg_one_url" "http://127.0.0.1:$nginx_port"; do
  PROBES=$probes wrk -t2 -c64 -d"$((probes / 2000 + 5))s" -s benchmarks/next-run.lua "$base" > /dev/null
done
sleep 5

declare -A rate=() p99=() worst=()
for round in $(seq 1 "$rounds"); do
  for target in sqlite postgres two; do
    case $target in
      sqlite) base="$sqlite_url" ;;
      postgres) base="$pg_one_url" ;;
      two) base="http://127.0.0.1:$nginx_port" ;;
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
for target in sqlite postgres two; do
  case $target in
    sqlite) name="one governor, SQLite" ;;
    postgres) name="one governor, PostgreSQL" ;;
    two) name="two governors, one PostgreSQL, behind nginx" ;;
  esac
  # shellcheck disable=SC2086
  echo "| $name | $(summary ${rate[$target]}) | $(summary ${p99[$target]}) | $(printf '%s\n' ${worst[$target]} | sort -g | tail -1) |"
done
