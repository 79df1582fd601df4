import Foundation
import GovernorSSH

// Push-dispatch lateness against a loopback sshd: the command's own start time
// (`date +%s.%N` on the probe) minus the scheduled instant. Three ways, interleaved
// in one run so that the shared machine's noise falls on all of them alike:
//
//   governor:      connect and authenticate ahead, send the command at the instant
//                  (what the dispatcher does)
//   libssh2 late:  connect at the instant, then send the command
//   ssh process:   spawn OpenSSH's `ssh` at the instant (what the original did)
//
// Then 100 probes due in the same second: every session connected ahead, all
// commands sent at one instant; the spread of their start times.
//
//     benchmarks/push-dispatch.sh      (starts a private sshd and runs this in release)

struct Options {
    var port = 22
    var user = "root"
    var key = ""
    var knownHosts = ""
    var runs = 100
    var simultaneous = 100

    init() {
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() {
            let value = arguments.popFirst() ?? ""
            switch flag {
            case "--port": port = Int(value) ?? port
            case "--user": user = value
            case "--key": key = value
            case "--known-hosts": knownHosts = value
            case "--runs": runs = Int(value) ?? runs
            case "--simultaneous": simultaneous = Int(value) ?? simultaneous
            default: fatalError("unknown option \(flag)")
            }
        }
    }
}

let options = Options()
let connectOptions = SSHConnectOptions(
    endpoint: SSHEndpoint(host: "127.0.0.1", port: options.port), user: options.user, identityFile: options.key,
    knownHostsFile: options.knownHosts, connectTimeout: .seconds(10))

func now() -> Double { Date().timeIntervalSince1970 }

func remoteStart(_ output: [UInt8]) -> Double? {
    Double(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
}

func sleep(until instant: Double) {
    let wait = instant - now()
    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
}

/// Connect ahead, send at `instant`.
func governorWay(at instant: Double) async throws -> Double {
    let connection = try await SSHConnection.connect(connectOptions)
    let result = try await connection.run("date +%s.%N", startAt: instant, timeout: .seconds(10))
    await connection.close()
    return try remoteStart(result.stdout).map { $0 - instant } ?? { throw SSHError(.channelFailed, "no timestamp") }()
}

/// Connect at `instant`, then send.
func libssh2Late(at instant: Double) async throws -> Double {
    sleep(until: instant)
    let connection = try await SSHConnection.connect(connectOptions)
    let result = try await connection.run("date +%s.%N", timeout: .seconds(10))
    await connection.close()
    return try remoteStart(result.stdout).map { $0 - instant } ?? { throw SSHError(.channelFailed, "no timestamp") }()
}

/// Spawn `ssh` at `instant`, as the original governor did.
func sshProcess(at instant: Double) throws -> Double {
    sleep(until: instant)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh")
    process.arguments = ["-q", "-i", options.key, "-p", String(options.port), "-o", "UserKnownHostsFile=\(options.knownHosts)",
                         "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "\(options.user)@127.0.0.1", "date +%s.%N"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard let start = remoteStart(Array(data)) else { throw SSHError(.channelFailed, "ssh printed no timestamp") }
    return start - instant
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func row(_ name: String, _ values: [Double]) {
    let ms = values.map { $0 * 1000 }
    print(String(format: "%-14@ %5d  p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms", name as NSString, ms.count,
                 percentile(ms, 0.5), percentile(ms, 0.99), ms.max() ?? .nan))
}

print("dispatch lateness: the command's own start time minus the scheduled instant (loopback sshd, port \(options.port))")
var governor: [Double] = [], late: [Double] = [], spawned: [Double] = []
for index in 0..<(options.runs * 3) {
    // Each run is scheduled 0.3 s ahead, at an instant that is not on a whole second.
    let instant = now() + 0.3
    switch index % 3 {
    case 0: governor.append(try await governorWay(at: instant))
    case 1: late.append(try await libssh2Late(at: instant))
    default: spawned.append(try sshProcess(at: instant))
    }
}
row("governor", governor)
row("libssh2 late", late)
row("ssh process", spawned)

print("\n\(options.simultaneous) probes due in the same second (sessions connected ahead)")
let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
    for _ in 0..<options.simultaneous { group.addTask { try await SSHConnection.connect(connectOptions) } }
    var connections: [SSHConnection] = []
    for try await connection in group { connections.append(connection) }
    return connections
}
let instant = now().rounded(.down) + 2
let starts = try await withThrowingTaskGroup(of: Double.self) { group in
    for connection in connections {
        group.addTask {
            let result = try await connection.run("date +%s.%N", startAt: instant, timeout: .seconds(30))
            await connection.close()
            return remoteStart(result.stdout) ?? .nan
        }
    }
    var starts: [Double] = []
    for try await start in group { starts.append(start) }
    return starts
}
let lateness = starts.map { $0 - instant }
row("simultaneous", lateness)
print(String(format: "spread (last start - first start): %.2f ms", ((starts.max() ?? 0) - (starts.min() ?? 0)) * 1000))
