/// The command line sent to a probe.
///
/// libssh2 1.10 (Debian 12) cannot send the SSH "signal" request, and sshd does not
/// signal a command without a terminal when its channel closes, so the governor
/// alone cannot stop a test that hangs. The probe's shell does it instead: the test
/// runs in the background beside a watchdog that waits for the end of the session's
/// stdin. The governor sends that end (an SSH EOF) when the test outlives its
/// timeout, and the connection's end does the same if the governor goes away; the
/// watchdog then sends TERM, and KILL a few seconds later, to the session's process
/// group (sshd makes every exec its own session). When the test finishes in time the
/// watchdog is all that is left of the group and ends with the channel. Output, exit
/// status and the test's stdin (/dev/null) are as with the bare command; the cost is
/// two forks and no extra exec. It needs a POSIX `sh` as the probe user's login shell,
/// like any `ssh host command`.
///
/// The command is sent ahead of its instant, armed: the probe's sshd forks the
/// session and the login shell starts at once, then waits for one line on stdin,
/// which the governor sends at the instant (``startLine``). What stands between the
/// instant and the test is a pipe write and the shell's fork, not a session's start
/// (a login shell's rc files alone cost 100 ms on some hosts), so the probes of a
/// group start together. If the governor goes away before the instant, stdin ends
/// and the shell exits without running the test.
public enum RemoteCommand {
    /// What the governor writes at the instant to start an armed command.
    public static let startLine = "\n"

    /// Seconds between TERM and KILL when a test is stopped.
    public static let killGraceSeconds = 5

    /// `command`, wrapped so that it starts at the first line on the session's stdin
    /// (nothing runs when stdin ends first), and an SSH EOF on stdin after that stops it.
    public static func stoppable(_ command: String) -> String {
        "IFS= read -r _ || exit 0; exec 3<&0; (eval \(shellQuoted(command))) 3<&- </dev/null & c=$!; "
            + "(trap '' TERM; read _ <&3; kill -TERM 0; sleep \(killGraceSeconds); kill -KILL 0) </dev/null >/dev/null 2>&1 & "
            + "exec 3<&-; wait $c"
    }

    /// `text` as one word for a POSIX shell.
    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }
}
