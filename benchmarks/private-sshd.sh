# Sourced by the push benchmarks: the files of a private sshd in a work directory.
#
#     private_sshd_files WORK PORT ADDRESS...
#
# Makes a host key, the probe account's key (WORK/id_ed25519, authorized), a
# known_hosts naming every ADDRESS:PORT, and WORK/sshd_config listening on each.
# Sets `user`, the account to log in as, and `created_user`, the one made here to
# remove at the end. As root that is a system user whose login shell is plain
# /bin/sh: root's ~/.bashrc can cost ~100 ms per exec, which is the machine's, not
# the dispatch's. The caller starts `/usr/sbin/sshd -D -e -f WORK/sshd_config`.
private_sshd_files() {
    local work=$1 port=$2 address
    shift 2
    ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$work/id_ed25519"
    cp "$work/id_ed25519.pub" "$work/authorized_keys"
    : > "$work/known_hosts"
    for address in "$@"; do echo "[$address]:$port $(cat "$work/host_key.pub")" >> "$work/known_hosts"; done
    {
        for address in "$@"; do echo "ListenAddress $address:$port"; done
        cat <<CONF
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
    } > "$work/sshd_config"
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
}
