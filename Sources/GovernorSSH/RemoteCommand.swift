/// The command line sent to a probe.
///
/// libssh2 1.10 (Debian 12) cannot send the SSH "signal" request, and sshd does not
/// signal a command without a terminal when its channel closes, so the governor
/// alone cannot stop a test that hangs. The probe's shell does it instead: the test
/// runs in the background beside a watchdog that, at `timeout`, sends TERM and then
/// KILL to the session's process group (sshd makes every exec its own session), and
/// that ends within a second of the test when the test finishes in time. Output,
/// exit status and stdin behave as with the bare command. It needs a POSIX `sh` as
/// the probe user's login shell, like any `ssh host command` does.
public enum RemoteCommand {
    /// Seconds between TERM and KILL when a test outlives its timeout.
    public static let killGraceSeconds = 5

    /// `command`, wrapped so that the probe stops it after `timeoutSeconds`.
    public static func stopping(_ command: String, afterSeconds timeoutSeconds: Int) -> String {
        let limit = max(1, timeoutSeconds)
        return "sh -c \(shellQuoted(command)) & c=$!; "
            + "(trap '' TERM; i=0; while [ $i -lt \(limit) ] && kill -0 $c 2>/dev/null; do sleep 1; i=$((i+1)); done; "
            + "if kill -0 $c 2>/dev/null; then kill -TERM 0; sleep \(killGraceSeconds); kill -KILL 0; fi) "
            + "</dev/null >/dev/null 2>&1 & wait $c"
    }

    /// `text` as one word for a POSIX shell.
    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }
}
