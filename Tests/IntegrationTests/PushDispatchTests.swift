import Foundation
import GovernorCore
import GovernorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Push mode end to end: `governor serve` and `governor dispatch` as processes, a real
/// sshd on 127.0.0.1 as the probe.
@Suite("push probes over SSH", .serialized, .timeLimit(.minutes(3)))
struct PushDispatchTests {
    let http = HTTPTestClient()

    /// governor.cfg whose [SSH] reaches `server`; the command appends its start time to `starts`.
    static func governorFile(_ server: TestSSHServer, starts: String, command: String? = nil, extra: String = "") -> String {
        """
        [Governor]
        schools = schools
        state = state.sqlite
        results_log = results.jsonl
        \(extra)
        [SSH]
        user = \(server.user)
        identity = \(server.clientKey)
        known_hosts = \(server.knownHosts)
        command = \(command ?? "date +%s.%N >> \(starts); echo probe={probe} school={school} run_at={run_at}")
        timeout = 10s
        connect_timeout = 5s

        """
    }

    static func pushSchool(_ server: TestSSHServer, boundaries: [String], zone: String, runs: Int = 1) -> String {
        """
        [School]
        name = pushy
        timezone = \(zone)
        [Timing]
        boundaries = \(boundaries.joined(separator: ", "))
        runs_per_period = \(runs)
        delay = 1s
        test_duration = 1s
        overnight = no
        [Probes]
        addresses = 127.0.0.1:\(server.port)

        """
    }

    static func starts(_ path: String) -> [Double] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Double($0) }
    }

    @Test("each scheduled run executes once, at its second, and is in the API and the results log")
    func runsAtEachScheduledTime() async throws {
        let sshd = try TestSSHServer()
        defer { sshd.stop() }
        let directory = try TemporaryDirectory("governor-push")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        // Three windows of 4 s from 8 s on: enough for the dispatcher's 3 s head start.
        let boundaries = [8, 12, 16, 20].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        let startsFile = directory.file("starts.txt")
        try directory.write("governor.cfg", Self.governorFile(sshd, starts: startsFile))
        try directory.write("schools/pushy.cfg", Self.pushSchool(sshd, boundaries: boundaries, zone: zone))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }

        let probe = "127.0.0.1:\(sshd.port)"
        var results: [[String: Any]] = []
        for _ in 0..<60 {
            try await Task.sleep(for: .milliseconds(500))
            results = try await http.get("\(server.baseURL)/v1/probes/\(probe)/results").json()["results"] as? [[String: Any]] ?? []
            if results.count >= 4 { break }
        }
        try await Task.sleep(for: .seconds(1))
        #expect(results.count == 3, "\(results)\n\(server.log)")
        let runTimes = results.compactMap { $0["run_at"] as? String }.compactMap { RFC3339.parsePrecise($0) }.sorted()
        let starts = Self.starts(startsFile).sorted()
        #expect(starts.count == 3, "each run executes once: \(starts)")
        // The governor's own account of each dispatch (late_ms: when it sent the exec
        // request), beside the command's own start on the probe's side.
        let dispatches = server.log.split(separator: "\n").filter { $0.contains("push test") }.joined(separator: "\n")
        for (runAt, start) in zip(runTimes, starts) {
            #expect(start >= runAt && start - runAt < 1, "started \(start - runAt) s after its run time\n\(dispatches)")
        }
        for result in results {
            #expect(result["exit_code"] as? Int == 0)
            #expect(result["failure"] == nil || result["failure"] is NSNull)
            #expect(result["mode"] as? String == "push")
            let output = result["output"] as? String ?? ""
            #expect(output == "probe=\(probe) school=pushy run_at=\(result["run_at"] as? String ?? "")\n")
        }
        let logLines = try String(contentsOfFile: directory.file("results.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(logLines.count == 3)
        for line in logLines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["probe"] as? String == probe)
        }
        // A successful dispatch counts as a contact.
        let status = try await http.get("\(server.baseURL)/v1/probes/\(probe)").json()
        #expect(status["last_contact"] != nil && !(status["last_contact"] is NSNull), "\(status)")
        #expect(server.stop() == 0)
    }

    @Test("a group of two push probes: both are dispatched at each group run's second, together")
    func pushGroup() async throws {
        let sshd = try TestSSHServer()
        defer { sshd.stop() }
        let directory = try TemporaryDirectory("governor-push-group")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = [8, 12, 16].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        let startsFile = directory.file("starts.txt")
        try directory.write("governor.cfg", Self.governorFile(sshd, starts: startsFile, command: "echo {probe} $(date +%s.%N) >> \(startsFile)"))
        // Two probes on the one sshd of the test, by two names of the loopback address,
        // each known by its host key.
        let (first, second) = ("127.0.0.1:\(sshd.port)", "localhost:\(sshd.port)")
        let known = try String(contentsOfFile: sshd.knownHosts, encoding: .utf8)
        try (known + known.replacingOccurrences(of: "[127.0.0.1]", with: "[localhost]")).write(toFile: sshd.knownHosts, atomically: true, encoding: .utf8)
        try directory.write("schools/pushy.cfg", Self.pushSchool(sshd, boundaries: boundaries, zone: zone)
            .replacing("addresses = 127.0.0.1:\(sshd.port)", with: "addresses = \(first), \(second)") + "[Group pair]\nprobes = \(first), \(second)\n")
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        func results(_ probe: String) async throws -> [[String: Any]] {
            try await http.get("\(server.baseURL)/v1/probes/\(probe)/results").json()["results"] as? [[String: Any]] ?? []
        }
        for _ in 0..<60 {
            try await Task.sleep(for: .milliseconds(500))
            if try await results(first).count >= 2, try await results(second).count >= 2 { break }
        }
        let a = try await results(first), b = try await results(second)
        #expect(a.count == 2 && b.count == 2, "\(a)\n\(b)\n\(server.log.suffix(3000))")
        #expect((a + b).allSatisfy { $0["exit_code"] as? Int == 0 && $0["group"] as? String == "pair" }, "\(a)\n\(b)")
        #expect(Set(a.compactMap { $0["run_at"] as? String }) == Set(b.compactMap { $0["run_at"] as? String }), "the same group runs")
        // Each group run: both commands started within a loose bound of each other (the
        // spread itself is the benchmark's to show: benchmarks/group-start.sh).
        let lines = ((try? String(contentsOfFile: startsFile, encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: " ") }
        let starts = lines.compactMap { $0.count == 2 ? (probe: String($0[0]), at: Double($0[1]) ?? 0) : nil }
        #expect(starts.count == 4, "\(starts)")
        for start in starts where start.probe == first {
            let partner = starts.filter { $0.probe == second }.map { abs($0.at - start.at) }.min() ?? .infinity
            #expect(partner < 0.5, "the second probe of the group started \(partner) s apart\n\(server.log.split(separator: "\n").filter { $0.contains("push") }.joined(separator: "\n"))")
        }
        #expect(server.stop() == 0)
    }

    @Test("a push probe runs iperf3 -J -R over SSH against a server the test starts: its download is measured at intake, as a pull probe's")
    func iperf3OverSSH() async throws {
        let sshd = try TestSSHServer()
        defer { sshd.stop() }
        let directory = try TemporaryDirectory("governor-push-iperf3")
        defer { directory.remove() }
        let iperfPort = try TestSSHServer.freePort()
        let iperfServer = try Subprocess(try Executables.onPath("iperf3"), ["-s", "-B", "127.0.0.1", "-p", "\(iperfPort)"],
                                         outputPath: directory.file("iperf3-server.log"))
        defer { _ = iperfServer.stop() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = [8, 13].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        let command = "\(try Executables.onPath("iperf3")) -c 127.0.0.1 -p \(iperfPort) -J -t 1 -R"
        try directory.write("governor.cfg", Self.governorFile(sshd, starts: directory.file("starts.txt"), command: command))
        try directory.write("schools/pushy.cfg", Self.pushSchool(sshd, boundaries: boundaries, zone: zone)
            .replacingOccurrences(of: "timezone = \(zone)", with: "timezone = \(zone)\ncontracted_download_mbps = 100"))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }

        let probe = "127.0.0.1:\(sshd.port)"
        var result: [String: Any]?
        for _ in 0..<60 where result == nil {
            try await Task.sleep(for: .milliseconds(500))
            result = (try await http.get("\(server.baseURL)/v1/probes/\(probe)/results").json()["results"] as? [[String: Any]])?.first
        }
        let stored = try #require(result, "no result\n\(server.log)")
        #expect(stored["mode"] as? String == "push" && stored["exit_code"] as? Int == 0, "\(stored)")
        let measurement = try #require(stored["measurement"] as? [String: Any], "\(stored)")
        #expect(measurement["tool"] as? String == "iperf3" && (measurement["download_mbps"] as? Double).map { $0 > 100 } == true, "\(measurement)")
        let status = try await http.get("\(server.baseURL)/v1/status").json()
        let standing = (status["schools"] as? [[String: Any]])?.first?["measurement"] as? [String: Any]
        #expect(standing?["state"] as? String == "meets" && standing?["measurements"] as? Int == 1, "\(String(describing: standing))")
        #expect(server.stop() == 0)
    }

    @Test("a run in flight at a crash is recorded as interrupted and a run whose time passed while down as skipped; neither runs again")
    func crashAndDowntime() async throws {
        let sshd = try TestSSHServer()
        defer { sshd.stop() }
        let directory = try TemporaryDirectory("governor-push")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        // Two windows, two runs each: A1 at 6 s and A2 at 8 s (the window is full), then
        // B1 and B2 in [10, 18] s, B2 at least 2 s after B1, so B2 is claimed after the kill.
        let reference = Date().timeIntervalSince1970.rounded(.down)
        let boundaries = [6, 10, 20].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        let startsFile = directory.file("starts.txt")
        try directory.write("governor.cfg", Self.governorFile(sshd, starts: startsFile, command: "date +%s.%N >> \(startsFile); sleep 4")
            .replacing("connect_timeout = 5s", with: "connect_timeout = 5s\nmax_lateness = 1s"))
        try directory.write("schools/pushy.cfg", Self.pushSchool(sshd, boundaries: boundaries, zone: zone, runs: 2))
        let first = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        for _ in 0..<40 where Self.starts(startsFile).isEmpty {
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(Self.starts(startsFile).count == 1, "the first run started")
        first.stop(signal: SIGKILL)

        // Stay down until B2 has passed by more than max_lateness. (A2, and B1 if it was
        // claimed 3 s ahead of its time before the kill, are interrupted; the rest skipped.)
        try await Task.sleep(for: .seconds(max(0, reference + 21 - Date().timeIntervalSince1970)))
        let second = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { second.stop() }
        let probe = "127.0.0.1:\(sshd.port)"
        var results: [[String: Any]] = []
        for _ in 0..<20 {
            results = try await http.get("\(second.baseURL)/v1/probes/\(probe)/results").json()["results"] as? [[String: Any]] ?? []
            if results.count >= 4 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let failures = results.sorted { ($0["run_at"] as? String ?? "") < ($1["run_at"] as? String ?? "") }.compactMap { $0["failure"] as? String }
        #expect(failures.count == 4, "\(failures)\n\(second.log)")
        #expect(failures.first?.hasPrefix("interrupted:") == true, "\(failures)")
        #expect(failures.last?.hasPrefix("skipped:") == true, "\(failures)")
        #expect(failures.allSatisfy { $0.hasPrefix("interrupted:") || $0.hasPrefix("skipped:") }, "\(failures)")
        try await Task.sleep(for: .seconds(1))
        #expect(Self.starts(startsFile).count == 1, "nothing ran again")
    }

    @Test("governor dispatch runs a probe's test now and reports it; a bad host key is named")
    func dispatchCommand() throws {
        let sshd = try TestSSHServer()
        defer { sshd.stop() }
        let directory = try TemporaryDirectory("governor-push")
        defer { directory.remove() }
        try directory.write("governor.cfg", Self.governorFile(sshd, starts: directory.file("starts.txt"), command: "echo hello from {probe}; echo warn >&2"))
        try directory.write("schools/pushy.cfg", Self.pushSchool(sshd, boundaries: ["0600", "1800"], zone: "UTC"))
        let governor = try Executables.built("governor")
        let probe = "127.0.0.1:\(sshd.port)"

        let ran = try runProcess(governor, ["dispatch", probe, "--config", directory.file("governor.cfg"), "--json"])
        #expect(ran.status == 0, "\(ran.stdout)\(ran.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(ran.stdout.utf8)) as? [String: Any]
        #expect(report?["stdout"] as? String == "hello from \(probe)\n")
        #expect(report?["stderr"] as? String == "warn\n")
        #expect(report?["exit_status"] as? Int == 0)

        try directory.write("empty_known_hosts", "")
        try directory.write("governor.cfg", Self.governorFile(sshd, starts: directory.file("starts.txt"))
            .replacing("known_hosts = \(sshd.knownHosts)", with: "known_hosts = empty_known_hosts"))
        let refused = try runProcess(governor, ["dispatch", probe, "--config", directory.file("governor.cfg")])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("failed: host-key-unknown:"), "\(refused.stdout)")

        let unknown = try runProcess(governor, ["dispatch", "10.9.9.9", "--config", directory.file("governor.cfg")])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no push probe '10.9.9.9'"))
    }
}
