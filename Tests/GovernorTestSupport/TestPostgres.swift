#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A real PostgreSQL server for one test: Debian's `postgresql` binaries, a cluster
/// made by `initdb` in a temporary directory, listening on 127.0.0.1 on a free port
/// (and on a Unix socket in the same directory), stopped by its PID.
///
/// PostgreSQL refuses to run as root; when the tests run as root, the cluster
/// belongs to the `postgres` user the Debian package creates, and the server and
/// `initdb` are started under it with `setpriv`, which executes the program in
/// place, so the PID held is the server's own.
public final class TestPostgres: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    /// The role the tests connect as; it owns ``database`` and may create more.
    public let user = "governor"
    public let database = "governor"
    private var server: Subprocess?
    private let lock = NSLock()

    /// `postgres://governor@127.0.0.1:PORT/governor`, with no password (trust on loopback).
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// With `tls`, the server takes TLS connections only: a certificate for
    /// `localhost` and 127.0.0.1 signed by a CA of its own (``caFile``), made with
    /// openssl, and a pg_hba.conf that rejects connections without TLS.
    public let tls: Bool
    /// The CA that signed the server's certificate (PEM), when ``tls``.
    public var caFile: String { directory.file("ca.pem") }

    public init(tls: Bool = false) throws {
        self.tls = tls
        directory = try TemporaryDirectory("governor-postgres")
        port = try TestSSHServer.freePort()
        let data = directory.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        if tls { try makeCertificates() }
        if getuid() == 0 {
            try runProcess("/bin/chown", ["-R", "postgres:postgres", directory.path]).check("chown")
        }
        try Self.run(Self.binary("initdb"), ["-D", data, "-U", user, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
            .check("initdb")
        if tls {
            try "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\nlocal all all trust\n"
                .write(toFile: directory.file("data/pg_hba.conf"), atomically: true, encoding: .utf8)
        }
        try start()
        try Self.run(Self.binary("createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", user, database]).check("createdb")
    }

    /// Starts the server on the cluster (again, after ``stop()``), and waits until it takes connections.
    public func start() throws {
        let data = directory.file("data")
        var options = [
            "-D", data, "-p", String(port), "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "max_connections=200",
        ]
        if tls {
            options += ["-c", "ssl=on", "-c", "ssl_cert_file=\(directory.file("server.pem"))", "-c", "ssl_key_file=\(directory.file("server.key"))"]
        }
        let process = try Self.spawn(Self.binary("postgres"), options, log: directory.file("postgres.log"))
        lock.withLock { server = process }
        let ready = try Self.binary("pg_isready")
        for _ in 0..<200 {
            if try Self.run(ready, ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "postgres"]).status == 0 { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let log = (try? String(contentsOfFile: directory.file("postgres.log"), encoding: .utf8)) ?? ""
        stop()
        throw TestFailure("PostgreSQL did not start on port \(port):\n\(log)")
    }

    /// A CA, and a server certificate for localhost and 127.0.0.1 that it signed.
    private func makeCertificates() throws {
        let openssl = try Executables.onPath("openssl")
        let dir = directory.path
        try runProcess(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=governor test CA",
                                 "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.pem"]).check("openssl (CA)")
        try runProcess(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                                 "-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr"]).check("openssl (request)")
        try "subjectAltName = DNS:localhost, IP:127.0.0.1\n".write(toFile: "\(dir)/san.cnf", atomically: true, encoding: .utf8)
        try runProcess(openssl, ["x509", "-req", "-in", "\(dir)/server.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                                 "-CAcreateserial", "-days", "2", "-extfile", "\(dir)/san.cnf", "-out", "\(dir)/server.pem"]).check("openssl (sign)")
        chmod("\(dir)/server.key", 0o600)
    }

    /// Stops the server by its PID (a fast shutdown: SIGINT), waiting until it has exited.
    /// Sends `signal` to the server's postmaster and its backends (SIGSTOP: a server
    /// that accepts connections and answers nothing; SIGCONT: it answers again).
    public func send(_ signal: Int32) {
        guard let process = lock.withLock({ server }) else { return }
        _ = try? runProcess("/usr/bin/pkill", ["--signal", "\(signal)", "-P", "\(process.pid)"])
        process.send(signal)
    }

    public func stop() {
        guard let process = lock.withLock({ () -> Subprocess? in defer { server = nil }; return server }) else { return }
        process.stop(signal: SIGINT, timeout: 15)
    }

    /// Stops the server and removes its files.
    public func remove() {
        stop()
        directory.remove()
    }

    /// Runs SQL through `psql` as ``user`` and returns its unaligned output.
    public func psql(_ sql: String, database: String? = nil) throws -> String {
        let result = try Self.run(Self.binary("psql"), [
            "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database ?? self.database,
            "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        try result.check("psql")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates an empty database and returns its URL: one per test, on one server.
    public func freshDatabase(_ name: String) throws -> String {
        _ = try psql("CREATE DATABASE \"\(name)\"", database: "postgres")
        return "postgres://\(user)@127.0.0.1:\(port)/\(name)"
    }

    /// The newest installed PostgreSQL's program `name` (Debian keeps them out of PATH).
    static func binary(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() {
            let path = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("\(name) not found under \(root): install Debian's postgresql package (scripts/packages)")
    }

    /// As the `postgres` user when running as root, else as ourselves.
    private static func command(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        guard getuid() == 0 else { return (executable, arguments) }
        // HOME as well: libpq looks for client certificates in ~/.postgresql, and root's
        // home is closed to the postgres user. env executes the program in place.
        return ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", "/usr/bin/env", "HOME=/nonexistent", executable] + arguments)
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let (program, all) = command(executable, arguments)
        return try runProcess(program, all)
    }

    private static func spawn(_ executable: String, _ arguments: [String], log: String) throws -> Subprocess {
        let (program, all) = command(executable, arguments)
        return try Subprocess(program, all, outputPath: log)
    }
}

extension ProcessResult {
    /// Throws with the program's output unless it exited 0.
    func check(_ what: String) throws {
        guard status == 0 else { throw TestFailure("\(what) exited \(status): \(stderr)\(stdout)") }
    }
}

extension TestPostgres {
    /// One server for a test process, started on first use and stopped by its PID when
    /// the process exits; each test takes a database of its own on it
    /// (``freshDatabase(_:)``), so the tests stay independent and initdb runs once.
    public static func shared() throws -> TestPostgres {
        try sharedServer.get()
    }

    private static let sharedServer: Result<TestPostgres, any Error> = {
        let result = Result { try TestPostgres() }
        if case .success = result {
            atexit { if case .success(let server) = TestPostgres.sharedServer { server.remove() } }
        }
        return result
    }()

    /// A database name no other test of this process uses.
    public static func uniqueName(_ label: String) -> String {
        let safe = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return "t_" + String(safe.prefix(40)) + "_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }
}
