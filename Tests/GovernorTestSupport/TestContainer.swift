#if canImport(Glibc)
import Glibc
#endif
public import Foundation

/// A minimal Debian 12 root made by debootstrap, cached in the build directory so
/// that only the first run downloads it.
public enum DebianRoot {
    /// A root with systemd as init and `packages` installed, made once per list of
    /// packages (`.build/nspawn/debian-12-HASH`); the caller boots a copy, never this one.
    public static func cached(including packages: [String]) throws -> String {
        let include = Array(Set(["systemd", "systemd-sysv"] + packages)).sorted()
        let cache = try cacheDirectory()
        let root = "\(cache)/debian-12-\(fnv1a(include.joined(separator: ",")))"
        if FileManager.default.fileExists(atPath: root + "/usr/bin/systemctl") { return root }
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        // Made under a temporary name and renamed, so an interrupted run leaves no half root.
        let building = "\(cache)/building-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: building) }
        let mirror = ProcessInfo.processInfo.environment["GOVERNOR_DEBIAN_MIRROR"] ?? "http://deb.debian.org/debian"
        // The packages are kept in `.build/nspawn/debs`, where scripts/test downloads them
        // while the builds run; what is not there yet is downloaded here.
        let debs = "\(cache)/debs"
        try FileManager.default.createDirectory(atPath: debs, withIntermediateDirectories: true)
        let result = try runProcess(Executables.onPath("debootstrap"),
                                    ["--variant=minbase", "--cache-dir=" + debs, "--include=" + include.joined(separator: ","), "bookworm", building, mirror])
        guard result.status == 0 else {
            throw TestFailure("debootstrap failed (\(result.status)):\n\(result.stdout.suffix(3000))\(result.stderr.suffix(3000))")
        }
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.moveItem(atPath: building, toPath: root)
        return root
    }

    /// `.build/nspawn`: the build directory that holds the products directory.
    public static func cacheDirectory() throws -> String {
        let products = URL(fileURLWithPath: try Executables.productsDirectory()).resolvingSymlinksInPath()
        var build = products
        while build.lastPathComponent != ".build" && build.pathComponents.count > 1 { build.deleteLastPathComponent() }
        // Products outside a .build folder (GOVERNOR_PRODUCTS_DIR): beside them.
        if build.lastPathComponent != ".build" { build = products.deletingLastPathComponent() }
        return build.appendingPathComponent("nspawn").path
    }

    /// A stable name for a list (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// A copy of a Debian root booted with `systemd-nspawn --boot`: its own systemd as
/// PID 1, its own journal, and a network namespace with loopback only, so nothing
/// inside reaches beyond it. Commands run inside through `nsenter`.
public final class BootedContainer: @unchecked Sendable {
    public let root: String
    public let consoleLog: String
    private let nspawn: Subprocess
    /// The container's PID 1, as the host sees it.
    public let leader: pid_t

    /// Copies `image` and boots the copy, binding `binds` (host path → container path)
    /// read-only; returns once systemd has finished starting the system.
    public init(image: String, binds: [(host: String, container: String)]) throws {
        let cache = try DebianRoot.cacheDirectory()
        Self.removeLeftovers(in: cache)
        let name = "governor-test-\(UUID().uuidString.prefix(8).lowercased())"
        root = "\(cache)/run-\(name)"
        consoleLog = "\(cache)/run-\(name).console"
        let copy = try runProcess("/bin/cp", ["-a", "--reflink=auto", image, root])
        guard copy.status == 0 else { throw TestFailure("cannot copy \(image): \(copy.stderr)") }

        var arguments = ["--boot", "--quiet", "--register=no", "--private-network", "--console=read-only",
                         "--directory=\(root)", "--machine=\(name)"]
        // Without a systemd of the host's own there is no unit to make a scope in.
        if !FileManager.default.fileExists(atPath: "/run/systemd/system") { arguments.append("--keep-unit") }
        arguments += binds.map { "--bind-ro=\($0.host):\($0.container)" }
        nspawn = try Subprocess(try Executables.onPath("systemd-nspawn"), arguments,
                                environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_LOG_LEVEL": "warning"],
                                outputPath: consoleLog)
        var found: pid_t?
        let deadline = Date().addingTimeInterval(30)
        while found == nil && nspawn.isRunning && Date() < deadline {
            found = Self.containerInit(startedBy: nspawn.pid)
            if found == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        guard let found else {
            _ = nspawn.stop(timeout: 10)
            try? FileManager.default.removeItem(atPath: root)
            throw TestFailure("systemd-nspawn did not start a container within 30 s:\n\(Self.tail(consoleLog))")
        }
        leader = found
        // systemctl answers once PID 1 has set up its socket; then it waits for the boot to end.
        var state = ""
        let booted = Date().addingTimeInterval(120)
        while !["running", "degraded"].contains(state) && Date() < booted {
            let boot = try run("systemctl is-system-running --wait", timeout: 120)
            state = boot.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if !["running", "degraded"].contains(state) { Thread.sleep(forTimeInterval: 0.2) }
        }
        guard ["running", "degraded"].contains(state) else {
            stop()
            throw TestFailure("the container's systemd did not finish booting within 120 s (\(state)):\n\(Self.tail(consoleLog))")
        }
    }

    /// Runs `script` with bash inside the container as root, with a clean environment,
    /// stopped after `timeout` seconds.
    @discardableResult
    public func run(_ script: String, timeout: Int = 120) throws -> ProcessResult {
        try runProcess(Executables.onPath("nsenter"), [
            "--target", "\(leader)", "--all", "--",
            "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
            "/usr/bin/timeout", "\(timeout)", "/bin/bash", "-c", script,
        ])
    }

    /// Runs `script` and returns its standard output, or throws with everything it printed.
    @discardableResult
    public func output(_ script: String, timeout: Int = 120) throws -> String {
        let result = try run(script, timeout: timeout)
        guard result.status == 0 else {
            throw TestFailure("in the container, `\(script)` exited \(result.status):\n\(result.stdout)\(result.stderr)")
        }
        return result.stdout
    }

    /// Shuts the container down (nspawn turns SIGTERM into a clean poweroff), kills it
    /// if that takes over 30 s, and removes the copy of the root and the console log.
    public func stop() {
        _ = nspawn.stop(signal: SIGTERM, timeout: 30)
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: consoleLog)
    }

    /// Copies of roots that a killed test run left behind (over an hour old: no test
    /// runs that long), each a few hundred megabytes.
    static func removeLeftovers(in cache: String) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
        for entry in entries where entry.hasPrefix("run-") || entry.hasPrefix("building-") {
            let path = "\(cache)/\(entry)"
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
               modified < Date().addingTimeInterval(-3600) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// The child of `nspawn` that is PID 1 in a PID namespace of its own.
    static func containerInit(startedBy nspawn: pid_t) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry),
                  let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
            let fields = status.split(separator: "\n").reduce(into: [String: [Substring]]()) { fields, line in
                let parts = line.split(whereSeparator: { $0 == ":" || $0 == "\t" || $0 == " " })
                if let key = parts.first { fields[String(key)] = Array(parts.dropFirst()) }
            }
            if fields["PPid"] == ["\(nspawn)"], let namespaced = fields["NSpid"], namespaced.count == 2, namespaced.last == "1" {
                return pid
            }
        }
        return nil
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(3000))
    }
}
