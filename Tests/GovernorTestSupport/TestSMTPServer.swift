#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A real SMTP server on 127.0.0.1 for one test: Python's aiosmtpd with its Mailbox
/// handler, which stores each received message as a file in a maildir. Stopped by its PID.
public final class TestSMTPServer: @unchecked Sendable {
    public let port: Int
    public let maildir: String
    private let directory: TemporaryDirectory
    private var process: Subprocess?

    /// Picks a port; `start()` starts the server (a test may start it late, to see retries).
    public init(startNow: Bool = true) throws {
        directory = try TemporaryDirectory("governor-smtp")
        maildir = directory.file("maildir")
        port = try TestSSHServer.freePort()
        if startNow { try start() }
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    public func start() throws {
        let python = try Executables.python3()
        let process = try Subprocess(python, ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir],
                                     outputPath: directory.file("smtpd.log"))
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.accepts(port) { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOfFile: directory.file("smtpd.log"), encoding: .utf8)) ?? ""
        stop()
        throw TestFailure("aiosmtpd did not start on 127.0.0.1:\(port) (scripts/test installs python3-aiosmtpd):\n\(log)")
    }

    /// The messages received so far, oldest first, as raw RFC 5322 text.
    public func messages() -> [String] {
        let folder = maildir + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    public func stop() {
        process?.stop(timeout: 5)
        process = nil
    }

    public func remove() {
        stop()
        directory.remove()
    }

    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
