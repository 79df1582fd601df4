import Foundation

/// What a finished child process printed and how it ended.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion and returns its exit status and output.
///
/// Output goes to temporary files, not pipes: tests start processes in parallel,
/// and a long-lived child spawned at the same moment could inherit a pipe's write
/// end, so that reading the pipe to its end would wait for that other child.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("governor-process-\(UUID().uuidString)")
    let outPath = base + ".out", errPath = base + ".err"
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let process = try Subprocess(executable, arguments, environment: environment,
                                 outputPath: outPath, errorPath: errPath)
    let status = process.waitUntilExit()
    return ProcessResult(status: status,
                         stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// Finds programs on the PATH and the executables this package builds.
public enum Executables {
    /// A program on the PATH; CI installs what the tests need, so absence is a failure.
    public static func onPath(_ name: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not on the PATH; scripts/test installs it (the list is in scripts/packages)")
    }

    /// Debian's own Python, the one whose modules `scripts/test` installs with apt
    /// (python3-aiosmtpd, python3-prometheus-client, …). A `python3` earlier on the
    /// PATH (pyenv, a virtualenv) would not see them.
    public static func python3() throws -> String {
        let debian = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: debian) else {
            throw TestFailure("\(debian) is missing; scripts/test installs it (the list is in scripts/packages)")
        }
        return debian
    }

    /// The directory where `swift build` put this package's executables: the one
    /// holding the test bundle (override with `GOVERNOR_PRODUCTS_DIR`).
    public static func productsDirectory() throws -> String {
        if let override = ProcessInfo.processInfo.environment["GOVERNOR_PRODUCTS_DIR"] { return override }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // `…/debug/governorPackageTests.xctest` on Linux, `…/debug/X.xctest/Contents/MacOS/X` on macOS.
        for _ in 0..<6 {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("governor").path) { return url.path }
        }
        throw TestFailure("cannot find the built 'governor' executable near \(CommandLine.arguments[0]); set GOVERNOR_PRODUCTS_DIR")
    }

    /// A product of this package, such as `governor`.
    public static func built(_ name: String) throws -> String {
        try productsDirectory() + "/" + name
    }
}

/// Runs blocking work (waiting for a child process or a socket, sleeping) on a thread
/// of its own, in the calling task.
///
/// Swift Testing runs tests in parallel on the cooperative pool, which has one
/// thread per core: a test that blocks one of them stalls every other test's
/// continuations, and timing tests elsewhere fail for it. The work stays in the
/// test's own task (a task executor preference, not a detached thread), so that
/// `#expect` inside it is still recorded against the test.
public func offThePool<T: Sendable>(_ work: () throws -> T) async throws -> T {
    let executor = ThreadTaskExecutor()
    defer { executor.shutdown() }
    return try await withTaskExecutorPreference(executor) { try work() }
}

/// A task executor with one thread of its own, for ``offThePool(_:)``.
final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "test-blocking"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once its queue is empty.
    func shutdown() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
