#if canImport(Glibc)
public import Glibc
#endif
public import Foundation

/// A `governor serve` process started by a test: its output goes to a log file,
/// it is found on the port it reports, and it is always stopped by its PID.
public final class ServerProcess: @unchecked Sendable {
    public let process: Subprocess
    public let logPath: String
    public private(set) var port: Int = 0

    /// Starts `governor serve --config CONFIG --listen 127.0.0.1:PORT` (0: any free port)
    /// and waits (up to 30 s) until it reports the port it listens on.
    public init(config: String, environment: [String: String] = [:], logPath: String, port requestedPort: Int = 0) throws {
        self.logPath = logPath
        // The log may hold an earlier run's lines (a restart appends); only later ones count.
        let earlier = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        var env = ProcessInfo.processInfo.environment
        env["JOURNAL_STREAM"] = nil
        env["NOTIFY_SOCKET"] = nil
        env["WATCHDOG_USEC"] = nil
        env.merge(environment) { $1 }
        process = try Subprocess(try Executables.built("governor"), ["serve", "--config", config, "--listen", "127.0.0.1:\(requestedPort)"],
                                 environment: env, outputPath: logPath)
        port = try waitForPort(after: earlier)
    }

    public var pid: Int32 { process.pid }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    private func waitForPort(after offset: Int) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        let marker = "serving on 127.0.0.1:"
        while Date() < deadline {
            // Only this start's line counts: the log file may hold an earlier run's.
            let fresh = String(decoding: Data(log.utf8).dropFirst(offset), as: UTF8.self)
            if let range = fresh.range(of: marker, options: .backwards),
               let port = Int(fresh[range.upperBound...].prefix { $0.isNumber }) {
                return port
            }
            if !process.isRunning {
                throw TestFailure("governor serve exited with status \(process.terminationStatus ?? -1) before serving:\n\(log)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop(signal: SIGKILL)
        throw TestFailure("governor serve did not report its port within 30 s:\n\(log)")
    }

    /// Sends `signal` to the process.
    public func send(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Sends `signal` and waits up to `timeout` for the exit; returns the exit status
    /// (nil when it had to be killed).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 15) -> Int32? {
        process.stop(signal: signal, timeout: timeout)
    }
}
