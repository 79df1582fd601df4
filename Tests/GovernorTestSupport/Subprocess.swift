#if canImport(Glibc)
public import Glibc
#endif
public import Foundation

/// A child process started with `posix_spawn` and reaped with `waitpid` by its PID.
///
/// Foundation's `Process` is not used: its SIGCHLD handling on Linux can block in
/// `waitpid` on one long-lived child (a test's sshd) while other children exit, so
/// tests that start processes in parallel would hang.
public final class Subprocess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var signalled: Int32?

    /// Starts `executable`; stdin is /dev/null, stdout and stderr are appended to `outputPath`
    /// (or to `errorPath` for stderr when given).
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                outputPath: String, errorPath: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath ?? outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        guard status == 0 else {
            throw TestFailure("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Whether the process has not exited yet (reaps it when it has).
    public var isRunning: Bool {
        poll(blocking: false) == nil
    }

    /// The exit status (128 + signal for a signalled exit), once it has exited.
    public var terminationStatus: Int32? {
        poll(blocking: false)
    }

    /// The signal that ended the process, if one did.
    public var terminationSignal: Int32? {
        _ = poll(blocking: false)
        return lock.withLock { signalled }
    }

    /// Waits for the exit and returns the status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        poll(blocking: true) ?? -1
    }

    /// Sends `signal`, unless the process has been reaped already.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Sends `signal`, waits up to `timeout`, then kills; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 15) -> Int32? {
        send(signal)
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if isRunning {
            kill(pid, SIGKILL)
            waitUntilExit()
            return nil
        }
        return terminationStatus
    }

    private func poll(blocking: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { break }
            if result == -1 && errno == EINTR { continue }
            return nil
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        signalled = signal == 0 ? nil : signal
        return exitStatus
    }

    deinit {
        if poll(blocking: false) == nil {
            kill(pid, SIGKILL)
            _ = poll(blocking: true)
        }
    }
}
