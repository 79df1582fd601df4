#!/usr/bin/env bash
# Push-dispatch lateness against a private sshd on 127.0.0.1 (see governor-push-bench).
#
#     benchmarks/push-dispatch.sh [--runs N] [--simultaneous N]
#
# Needs openssh-server and openssh-client (the README's install line has them).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product governor-push-bench >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A private sshd, logged in as an account whose login shell is plain /bin/sh (a
# developer's own account may run a heavy ~/.bashrc on every exec, ~100 ms here).
source benchmarks/private-sshd.sh
private_sshd_files "$work" "$port" 127.0.0.1
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
trap 'kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null; rm -rf "$work"; [ -n "$created_user" ] && userdel -f "$created_user" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "Server listening" "$work/sshd.log" && break; sleep 0.05; done
"$(swift build -c release --static-swift-stdlib --show-bin-path)/governor-push-bench" --port "$port" --user "$user" \
    --key "$work/id_ed25519" --known-hosts "$work/known_hosts" "$@"
