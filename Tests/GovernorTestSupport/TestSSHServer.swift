#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A private OpenSSH server on 127.0.0.1 for one test: its own host key, an
/// authorized client key for the current user, its own config and log, all in a
/// temporary directory. Stopped by its PID.
public final class TestSSHServer: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    /// The user the tests log in as: whoever runs them.
    public let user: String
    /// An ed25519 client key whose public half is authorized.
    public let clientKey: String
    /// A known_hosts file holding this server's host key.
    public let knownHosts: String
    public let hostKeyPublic: String
    private let process: Subprocess
    private let logPath: String

    /// Starts sshd and waits (up to 20 s) until it listens.
    /// - Parameter extraConfig: more `sshd_config` lines, such as `PubkeyAcceptedAlgorithms +ssh-rsa`.
    public init(extraConfig: [String] = []) throws {
        directory = try TemporaryDirectory("governor-sshd")
        user = Self.currentUser()
        let keygen = try Executables.onPath("ssh-keygen")
        let hostKey = directory.file("ssh_host_ed25519_key")
        try Self.generateKey(keygen, type: "ed25519", at: hostKey)
        clientKey = directory.file("id_ed25519")
        try Self.generateKey(keygen, type: "ed25519", at: clientKey)
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: directory.file("authorized_keys"))
        hostKeyPublic = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        let sshd = "/usr/sbin/sshd"
        guard FileManager.default.isExecutableFile(atPath: sshd) else {
            throw TestFailure("\(sshd) is missing; scripts/test installs openssh-server")
        }
        if getuid() == 0 {
            // sshd running as root insists on its privilege-separation directory.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        logPath = directory.file("sshd.log")
        var lastFailure = ""
        for _ in 0..<5 {
            let port = try Self.freePort()
            let config = try directory.write("sshd_config", ([
                "ListenAddress 127.0.0.1:\(port)",
                "HostKey \(hostKey)",
                "PidFile \(directory.file("sshd.pid"))",
                "AuthorizedKeysFile \(directory.file("authorized_keys"))",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                // The tests and the benchmark open up to 100 connections at once.
                "MaxStartups 500",
                "LogLevel VERBOSE",
            ] + extraConfig).joined(separator: "\n") + "\n")
            try? FileManager.default.removeItem(atPath: logPath)
            let process = try Subprocess(sshd, ["-D", "-e", "-f", config], outputPath: logPath)
            if try Self.waitUntilListening(process, logPath: logPath) {
                self.port = port
                self.process = process
                knownHosts = try directory.write("known_hosts", "[127.0.0.1]:\(port) \(hostKeyPublic)\n")
                return
            }
            lastFailure = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            process.stop(signal: SIGKILL)
        }
        directory.remove()
        throw TestFailure("sshd did not start on 127.0.0.1:\n\(lastFailure)")
    }

    public var pid: Int32 { process.pid }

    /// sshd's log so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Generates another key pair in the server's directory (not authorized).
    public func generateKey(type: String, name: String) throws -> String {
        let path = directory.file(name)
        try Self.generateKey(try Executables.onPath("ssh-keygen"), type: type, at: path)
        return path
    }

    /// Adds a public key to authorized_keys.
    public func authorize(_ privateKey: String) throws {
        let line = try String(contentsOfFile: privateKey + ".pub", encoding: .utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("authorized_keys")))
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        try handle.close()
    }

    /// Stops sshd by its PID and removes the directory.
    public func stop() {
        process.stop(timeout: 5)
        directory.remove()
    }

    private static func generateKey(_ keygen: String, type: String, at path: String) throws {
        let result = try runProcess(keygen, ["-q", "-t", type, "-N", "", "-C", "governor-test", "-f", path])
        guard result.status == 0 else { throw TestFailure("ssh-keygen -t \(type) failed: \(result.stderr)") }
    }

    private static func waitUntilListening(_ process: Subprocess, logPath: String) throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if log.contains("Server listening on 127.0.0.1") { return true }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    private static func currentUser() -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "root"
    }

    /// A port that was free a moment ago (the kernel picks it; sshd binds it next).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TestFailure("bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
