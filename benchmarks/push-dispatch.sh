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
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
echo "[127.0.0.1]:$port $(cat "$work/host_key.pub")" > "$work/known_hosts"
cat > "$work/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 500
MaxSessions 200
CONF
# Log in as a probe account does: a user whose login shell is plain /bin/sh. (A
# developer's own account may run a heavy ~/.bashrc on every exec, ~100 ms here.)
user=$(id -un)
created_user=""
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p /run/sshd
    user=governor-bench
    if ! id "$user" >/dev/null 2>&1; then
        # "*": no password, but not a locked account (sshd refuses locked ones).
        useradd --system --no-create-home --home-dir "$work" --shell /bin/sh --password "*" "$user"
        created_user=$user
    fi
    chmod 0755 "$work"
fi
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
trap 'kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null; rm -rf "$work"; [ -n "$created_user" ] && userdel -f "$created_user" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "Server listening" "$work/sshd.log" && break; sleep 0.05; done
"$(swift build -c release --static-swift-stdlib --show-bin-path)/governor-push-bench" --port "$port" --user "$user" \
    --key "$work/id_ed25519" --known-hosts "$work/known_hosts" "$@"
