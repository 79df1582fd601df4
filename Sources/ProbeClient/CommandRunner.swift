import Foundation
import GovernorCore
#if canImport(Glibc)
import Glibc
#endif

/// What one run of the test command did.
public struct CommandOutcome: Sendable {
    /// Wall-clock seconds when the command was spawned and when it ended.
    public var startedAt: Double
    public var finishedAt: Double
    /// The exit status, or 128 + the signal that ended it (as a shell reports it).
    public var exitCode: Int
    /// stdout and stderr together, in the order written, cut at `outputLimit` bytes.
    public var output: String
    public var timedOut: Bool
    /// The command wrote more than `outputLimit` bytes; `output` is their beginning.
    public var outputTruncated: Bool = false
    /// For a command started at an instant: whether the wait was at real-time
    /// priority (``RealtimeStart``) or spun because the probe may not have it.
    public var startedRealtime: Bool?
}

/// Runs the test command with `/bin/sh -c`, in a process group of its own, so that a
/// timeout stops the command and everything it started.
public enum CommandRunner {
    /// Waits until `startAt` (wall clock), spawns, waits for the end or `timeout`.
    ///
    /// The wait is ``RealtimeStart``'s: at real-time priority a sleep to 0.2 ms before the
    /// instant and a spin, or where the probe may not have it, a sleep to 2 ms before and
    /// a spin. It blocks
    /// the calling thread; ``run(_:startAt:timeout:outputLimit:)`` gives it one of its own.
    public static func runBlocking(_ command: String, startAt: Double?, timeout: Double, outputLimit: Int = 1 << 20,
                                   startPolicy: RealtimeStart.Policy = .realtimeWhenAllowed) throws -> CommandOutcome {
        let outputPath = NSTemporaryDirectory() + "governor-probe-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }

        var pid: pid_t = 0
        func spawn() -> (startedAt: Double, spawned: Int32) {
            let startedAt = WallClock.now()
            return (startedAt, posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environment))
        }
        var startedRealtime: Bool?
        let startedAt: Double, spawned: Int32
        if let startAt {
            let (result, realtime) = RealtimeStart.at(startAt, policy: startPolicy, spawn)
            (startedAt, spawned) = result
            startedRealtime = realtime
        } else {
            (startedAt, spawned) = spawn()
        }
        guard spawned == 0 else {
            throw ProbeError("cannot start /bin/sh for the test command: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var timedOut = false
        let deadline = startedAt + timeout
        var killedAt: Double?
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { break }
            let now = WallClock.now()
            if now >= deadline && killedAt == nil {
                timedOut = true
                kill(-pid, SIGTERM)
                killedAt = now
            } else if let killedAt, now - killedAt >= 5 {
                kill(-pid, SIGKILL)
            }
            usleep(2_000)
        }
        let finishedAt = WallClock.now()
        // Whatever the command left running in its group goes with it.
        kill(-pid, SIGKILL)
        let signal = status & 0x7F
        let exitCode = signal == 0 ? Int((status >> 8) & 0xFF) : 128 + Int(signal)
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        let output = String(decoding: data.prefix(outputLimit), as: UTF8.self)
        return CommandOutcome(startedAt: startedAt, finishedAt: finishedAt, exitCode: exitCode, output: output, timedOut: timedOut,
                              outputTruncated: data.count > outputLimit, startedRealtime: startedRealtime)
    }

    /// ``runBlocking(_:startAt:timeout:outputLimit:)`` on a thread of its own.
    public static func run(_ command: String, startAt: Double?, timeout: Double, outputLimit: Int = 1 << 20) async throws -> CommandOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(command, startAt: startAt, timeout: timeout, outputLimit: outputLimit) })
            }
            thread.name = "test command"
            thread.start()
        }
    }
}

/// Something the probe cannot do; the message says what and why.
public struct ProbeError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
