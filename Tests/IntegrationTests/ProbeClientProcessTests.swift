import Foundation
import GovernorCore
import GovernorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `governor-probe` as a process against `governor serve` as a process.
@Suite("governor-probe as a process", .serialized, .timeLimit(.minutes(3)))
struct ProbeClientProcessTests {
    let http = HTTPTestClient()

    /// A school of `probes` with windows of 5 s from `start` s on, one 1 s test per probe per window.
    static func writeGovernor(_ directory: TemporaryDirectory, probes: [String], start: Int, windows: Int) throws {
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = (0...windows).map { ServeProcessTests.localTime(inSeconds: start + 5 * $0, offset: offset) }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/s.cfg", ServeProcessTests.school(name: "s", zone: zone, boundaries: boundaries, probes: probes))
    }

    /// A probe whose test appends `probe start end` to `log` and takes `seconds`.
    static func startProbe(_ directory: TemporaryDirectory, id: String, port: Int, log: String, seconds: Double = 0.3, extra: String = "",
                           output: String = "echo ran {probe} at {run_at}", environment: [String: String]? = nil) throws -> Subprocess {
        let config = try directory.write("\(id).cfg", """
            [Probe]
            id = \(id)
            token = \(id)-token
            server = http://127.0.0.1:\(port)
            command = s=$(env -u LD_PRELOAD date +%s.%N); sleep \(seconds); echo "{probe} $s $(env -u LD_PRELOAD date +%s.%N)" >> \(log); \(output)
            timeout = 10s
            queue = \(directory.file("queue-\(id)"))
            \(extra)
            """)
        // Under libfaketime a Swift program sees no arguments: the file is named by the environment.
        if var environment {
            environment["GOVERNOR_PROBE_CONFIG"] = config
            return try Subprocess(try Executables.built("governor-probe"), [], environment: environment, outputPath: directory.file("\(id).log"))
        }
        return try Subprocess(try Executables.built("governor-probe"), ["run", "--config", config], outputPath: directory.file("\(id).log"))
    }

    static func runs(in log: String) -> [(probe: String, start: Double, end: Double)] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 3, let start = Double(words[1]), let end = Double(words[2]) else { return nil }
            return (String(words[0]), start, end)
        }
    }

    func results(_ server: ServerProcess, _ probe: String) async throws -> [[String: Any]] {
        try await http.get("\(server.baseURL)/v1/probes/\(probe)/results?limit=100").json()["results"] as? [[String: Any]] ?? []
    }

    @Test("two probes of one school: every run executes once, on time, never overlapping, and is reported")
    func twoProbes() async throws {
        let directory = try TemporaryDirectory("governor-probe")
        defer { directory.remove() }
        try Self.writeGovernor(directory, probes: ["p1", "p2"], start: 4, windows: 4)
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        let log = directory.file("runs.txt")
        let probes = try ["p1", "p2"].map { try Self.startProbe(directory, id: $0, port: server.port, log: log) }
        defer { probes.forEach { $0.stop() } }
        // Four windows of 5 s from 4 s on: over by 24 s.
        try await Task.sleep(for: .seconds(25))
        for _ in 0..<20 {
            let delivered = try await results(server, "p1").count + (try await results(server, "p2").count)
            if delivered >= 8 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let runs = Self.runs(in: log).sorted { $0.start < $1.start }
        #expect(runs.count == 8, "\(runs)")
        for (first, second) in zip(runs, runs.dropFirst()) {
            #expect(first.end <= second.start, "tests of one school overlap: \(first) and \(second)")
        }
        for probe in ["p1", "p2"] {
            let reported = try await results(server, probe)
            #expect(reported.count == 4, "\(probe): \(reported)")
            let runTimes = Set(reported.compactMap { $0["run_at"] as? String })
            #expect(runTimes.count == 4, "each run once")
            for result in reported {
                let runAt = RFC3339.parsePrecise(result["run_at"] as? String ?? "") ?? 0
                let startedAt = RFC3339.parsePrecise(result["started_at"] as? String ?? "") ?? 0
                // At its instant, not at the next poll: the precision itself is measured by
                // `swift run -c release governor-probe-bench` (a loaded CI machine can delay a wake-up by tens of ms).
                #expect(startedAt >= runAt && startedAt - runAt < 0.5, "started \(startedAt - runAt) s after its run time")
                #expect(result["clock_offset_ms"] is Double)
                #expect((result["output"] as? String)?.hasPrefix("ran \(probe) at ") == true)
            }
            let mine = runs.filter { $0.probe == probe }.map(\.start)
            // The command's own clock reading includes starting a shell, which a machine
            // busy with the rest of the suite can delay; runs are a test apart (1 s or more),
            // so half a second still names the one run each start belongs to.
            for start in mine {
                #expect(runTimes.contains { abs((RFC3339.parsePrecise($0) ?? 0) - start) < 0.5 }, "a run nobody scheduled at \(start)")
            }
        }
        #expect(server.stop() == 0)
    }

    @Test("a group of two probes beside a single probe: governor schedule --json gives the group one run time, never overlapping the single probe's; both probes run each group run together")
    func groupRun() async throws {
        let directory = try TemporaryDirectory("governor-probe-group")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = (0...3).map { ServeProcessTests.localTime(inSeconds: 4 + 5 * $0, offset: offset) }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/s.cfg", ServeProcessTests.school(name: "s", zone: zone, boundaries: boundaries, probes: ["g1", "g2", "solo"])
            + "[Group lab]\nprobes = g1, g2\n")

        // The dry run: each window's group run at one instant, the single probe's a slot (2 s) away.
        let dry = try runProcess(try Executables.built("governor"), ["schedule", "--json", "--config", directory.file("governor.cfg")])
        #expect(dry.status == 0, "\(dry.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        let school = try #require((document["schools"] as? [[String: Any]])?.first)
        #expect((school["groups"] as? [[String: Any]])?.first?["probes"] as? [String] == ["g1", "g2"])
        let windows = school["windows"] as? [[String: Any]] ?? []
        #expect(!windows.isEmpty)
        for window in windows {
            let runs = window["runs"] as? [[String: Any]] ?? []
            func times(_ probe: String) -> [Double] { runs.filter { $0["probe"] as? String == probe }.compactMap { RFC3339.parsePrecise($0["run_at"] as? String ?? "") } }
            #expect(times("g1") == times("g2") && times("g1").count == 1, "\(runs)")
            #expect(runs.filter { $0["probe"] as? String != "solo" }.allSatisfy { $0["group"] as? String == "lab" })
            for solo in times("solo") {
                #expect(times("g1").allSatisfy { abs($0 - solo) >= 2 }, "the single probe's run overlaps the group's slot: \(runs)")
            }
        }

        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        // A group probe is told its runs are group runs, with the governor's clock to the microsecond.
        let next = try await http.get("\(server.baseURL)/v1/probes/g1/next", token: "g1-token").json()
        #expect(next["group"] as? String == "lab", "\(next)")
        #expect((next["server_time"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil, "\(next)")
        #expect(try await http.get("\(server.baseURL)/v1/probes/solo/next", token: "solo-token").json()["group"] == nil)
        let leased = try await http.get("\(server.baseURL)/v1/probes/g2/runs", token: "g2-token").json()["runs"] as? [[String: Any]] ?? []
        #expect(!leased.isEmpty && leased.allSatisfy { $0["group"] as? String == "lab" }, "\(leased)")
        #expect(try await http.get("\(server.baseURL)/v1/probes/g1").json()["group"] as? String == "lab")
        #expect(try await http.get("\(server.baseURL)/v1/probes/solo").json()["group"] == nil)
        #expect(try await http.get("\(server.baseURL)/schools/s").body.contains("group lab"), "the school page names the group")
        let schedule = try await http.get("\(server.baseURL)/v1/schools/s/schedule").json()
        #expect((schedule["groups"] as? [[String: Any]])?.first?["name"] as? String == "lab", "\(schedule)")
        let log = directory.file("runs.txt")
        // Each reports a download in the documented JSON: the group's members 90 and 85, the single probe 40.
        let downloads = ["g1": 90, "g2": 85, "solo": 40]
        let probes = try ["g1", "g2", "solo"].map {
            try Self.startProbe(directory, id: $0, port: server.port, log: log, output: "echo '{\"download_mbps\": \(downloads[$0]!)}'")
        }
        defer { probes.forEach { $0.stop() } }
        // Three windows of 5 s from 4 s on: over by 19 s.
        try await Task.sleep(for: .seconds(20))
        for _ in 0..<20 {
            if try await results(server, "g1").count >= 3, try await results(server, "g2").count >= 3 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let g1 = try await results(server, "g1"), g2 = try await results(server, "g2")
        #expect(g1.count == 3 && g2.count == 3, "\(g1)\n\(g2)\n\(server.log.suffix(2000))")
        #expect(Set(g1.compactMap { $0["run_at"] as? String }) == Set(g2.compactMap { $0["run_at"] as? String }), "the same group runs")
        #expect((g1 + g2).allSatisfy { $0["group"] as? String == "lab" }, "each result is marked as of the group run")
        #expect(try await results(server, "solo").allSatisfy { $0["group"] == nil })
        #expect(try await http.get("\(server.baseURL)/schools/s").body.contains("g1 (group run of lab)"), "the school page shows the group run's results")
        // Started together: a loose bound (the precision is the benchmark's to show).
        for first in g1 {
            let runAt = first["run_at"] as? String
            let second = try #require(g2.first { $0["run_at"] as? String == runAt })
            let a = RFC3339.parsePrecise(first["started_at"] as? String ?? "") ?? 0, b = RFC3339.parsePrecise(second["started_at"] as? String ?? "") ?? 1
            #expect(abs(a - b) < 0.1, "g1 and g2 started \(abs(a - b)) s apart for \(runAt ?? "?")")
        }
        // A group run is one thing in the measurements: its members listed with their sum.
        let measured = try await http.get("\(server.baseURL)/v1/schools/s/measurements").json()
        let groupRuns = measured["group_runs"] as? [[String: Any]] ?? []
        #expect(Set(groupRuns.compactMap { $0["run_at"] as? String }) == Set(g1.compactMap { $0["run_at"] as? String }), "\(measured)")
        #expect(groupRuns.allSatisfy { $0["group"] as? String == "lab" && Set($0["probes"] as? [String] ?? []) == ["g1", "g2"]
            && $0["download_mbps"] as? Double == 175 && $0["downloads"] as? Int == 2 }, "\(groupRuns)")
        let rows = measured["measurements"] as? [[String: Any]] ?? []
        #expect(rows.filter { $0["group"] as? String == "lab" }.count == 6 && rows.filter { $0["probe"] as? String == "solo" }.allSatisfy { $0["group"] == nil })
        let csv = try await http.get("\(server.baseURL)/v1/measurements.csv?school=s").body
        let memberLines = csv.split(separator: "\r\n").filter { $0.hasSuffix(",lab") }
        #expect(memberLines.count == 6, "\(csv)")
        // The school has a single probe: its standing is the single probe's 40, not the group's 175.
        let standing = measured["standing"] as? [String: Any]
        #expect(standing?["median_download_mbps"] as? Double == 40 && standing?["by_group_runs"] == nil, "\(standing ?? [:])")
        let page = try await http.get("\(server.baseURL)/schools/s").body
        #expect(page.contains("<polyline class=\"group-download\"") && page.contains("group run download (summed) median 175 Mbit/s"))

        // The single probe's tests never share the uplink with the group's.
        let runs = Self.runs(in: log)
        for solo in runs where solo.probe == "solo" {
            for grouped in runs where grouped.probe != "solo" {
                #expect(solo.end <= grouped.start || grouped.end <= solo.start, "\(solo) overlaps \(grouped)")
            }
        }
        #expect(server.stop() == 0)
    }

    /// libfaketime's library, which sets a process's clock off by `FAKETIME`.
    static let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

    @Test("a group probe whose clock is 2 s ahead starts the group run at the governor's instant, with its partner, and reports the offset it used")
    func groupRunWithClockOff() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.faketime), "libfaketime is missing: install the faketime package (scripts/packages)")
        let directory = try TemporaryDirectory("governor-probe-faketime")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = (0...2).map { ServeProcessTests.localTime(inSeconds: 5 + 5 * $0, offset: offset) }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/s.cfg", ServeProcessTests.school(name: "s", zone: zone, boundaries: boundaries, probes: ["g1", "g2"])
            + "[Group lab]\nprobes = g1, g2\n")
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        let log = directory.file("runs.txt")
        // g2's clock runs 2 s ahead of the governor's (and g1's): by its own clock it
        // would start every run 2 s early. The shell's `date` reads the true clock.
        var ahead = ProcessInfo.processInfo.environment
        ahead["LD_PRELOAD"] = Self.faketime
        ahead["FAKETIME"] = "+2"
        ahead["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        let probes = [
            try Self.startProbe(directory, id: "g1", port: server.port, log: log),
            try Self.startProbe(directory, id: "g2", port: server.port, log: log, environment: ahead),
        ]
        defer { probes.forEach { $0.stop() } }
        // Two windows of 5 s from 5 s on: over by 15 s.
        try await Task.sleep(for: .seconds(15))
        for _ in 0..<20 {
            if try await results(server, "g1").count >= 2, try await results(server, "g2").count >= 2 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let g1 = try await results(server, "g1"), g2 = try await results(server, "g2")
        let g2Log = (try? String(contentsOfFile: directory.file("g2.log"), encoding: .utf8)) ?? ""
        #expect(g1.count == 2 && g2.count == 2, "\(g1)\n\(g2)\n\(g2Log.suffix(3000))")
        // g2 reports the offset it corrected by: its clock minus the governor's, about +2000 ms.
        for result in g2 {
            let reported = result["clock_offset_ms"] as? Double ?? 0
            #expect(abs(reported - 2000) < 100, "g2 reported clock_offset_ms \(reported)")
        }
        // By the true clock, both started each run together, at its time.
        let runs = Self.runs(in: log)
        let starts1 = runs.filter { $0.probe == "g1" }.map(\.start), starts2 = runs.filter { $0.probe == "g2" }.map(\.start)
        #expect(starts1.count == 2 && starts2.count == 2, "\(runs)")
        for (a, b) in zip(starts1, starts2) {
            #expect(abs(a - b) < 0.1, "g1 and g2 started \(abs(a - b)) s apart by the true clock")
        }
        let runTimes = g1.compactMap { RFC3339.parsePrecise($0["run_at"] as? String ?? "") }.sorted()
        for (start, runAt) in zip(starts2, runTimes) {
            #expect(abs(start - runAt) < 0.1, "g2 started \(start - runAt) s from its run time by the true clock")
        }
        #expect(server.stop() == 0)
    }

    @Test("an outage: the probe runs anyway and delivers later; kill -9 with a result queued: delivered once after restart")
    func outages() async throws {
        let directory = try TemporaryDirectory("governor-probe")
        defer { directory.remove() }
        try Self.writeGovernor(directory, probes: ["p1"], start: 3, windows: 6)
        let port = try TestSSHServer.freePort()
        var server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"), port: port)
        let log = directory.file("runs.txt")
        var probe = try Self.startProbe(directory, id: "p1", port: port, log: log)
        defer { probe.stop() }

        // First run reported; the probe then holds the second run's time.
        for _ in 0..<40 where try await results(server, "p1").isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        #expect(try await results(server, "p1").count == 1)
        try await Task.sleep(for: .milliseconds(300))
        server.stop()
        // Down for the second run (within 5 s).
        for _ in 0..<60 where Self.runs(in: log).count < 2 { try await Task.sleep(for: .milliseconds(250)) }
        #expect(Self.runs(in: log).count == 2, "the probe ran without the governor")
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"), port: port)
        for _ in 0..<60 where try await results(server, "p1").count < 2 { try await Task.sleep(for: .milliseconds(250)) }
        #expect(try await results(server, "p1").count == 2, "the queued result arrived")

        // Governor down again; the third run is queued; the probe is killed with it queued.
        for _ in 0..<40 where Self.runs(in: log).count < 2 { try await Task.sleep(for: .milliseconds(250)) }
        server.stop()
        for _ in 0..<60 where Self.runs(in: log).count < 3 { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .milliseconds(500))
        probe.stop(signal: SIGKILL)
        let queued = try FileManager.default.contentsOfDirectory(atPath: directory.file("queue-p1")).filter { $0.hasSuffix(".json") }
        #expect(queued.count >= 1, "a result waits on disk")
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"), port: port)
        defer { server.stop() }
        probe = try Self.startProbe(directory, id: "p1", port: port, log: log)
        for _ in 0..<40 where try await results(server, "p1").count < 2 + queued.count { try await Task.sleep(for: .milliseconds(250)) }
        // Runs after the restart queue their results too, each for a moment.
        func waiting() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.file("queue-p1")).filter { $0.hasSuffix(".json") } }
        for _ in 0..<40 where try !waiting().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        #expect(try waiting().isEmpty)
        let reported = try await results(server, "p1")
        let runTimes = reported.compactMap { $0["run_at"] as? String }
        #expect(Set(runTimes).count == runTimes.count, "no result delivered twice: \(runTimes)")
        #expect(reported.count >= 2 + queued.count, "\(reported.count) reported, \(queued.count) were queued")
        #expect(reported.count == Self.runs(in: log).count, "every run reported once")
    }

    @Test("a wrong token is explained in plain words; a run time already past is not run")
    func badTokenAndTooLate() async throws {
        let directory = try TemporaryDirectory("governor-probe")
        defer { directory.remove() }
        try Self.writeGovernor(directory, probes: ["p1"], start: 30, windows: 1)
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        let token = try directory.write("wrong.token", "not-the-token\n")
        let probe = try Executables.built("governor-probe")
        let refused = try runProcess(probe, ["next", "--id", "p1", "--server", server.baseURL, "--token-file", token, "--", "true"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the token of this probe is wrong"), "\(refused.stderr)")

        // A governor whose answers are already 10 s old (a stand-in on loopback).
        let port = try TestSSHServer.freePort()
        let stub = try directory.write("stale.py", """
            import http.server, json, time
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    now = time.time()
                    at = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
                    body = json.dumps({"probe": "p1", "school": "s", "run_at": at(int(now) - 10), "run_at_unix": int(now) - 10,
                                       "window_start": at(now - 60), "window_end": at(now + 60), "server_time": at(now)}).encode()
                    self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *args): pass
            http.server.HTTPServer(("127.0.0.1", \(port)), H).serve_forever()
            """)
        let stale = try Subprocess(try Executables.python3(), [stub], outputPath: directory.file("stale.log"))
        defer { stale.stop() }
        try await Task.sleep(for: .seconds(1))
        let marker = directory.file("ran")
        // Asking for the next run before each run (lease = 0): the answer is the run time.
        let config = try directory.write("late.cfg", "[Probe]\nid = p1\nserver = http://127.0.0.1:\(port)\ncommand = touch \(marker)\nqueue = \(directory.file("queue"))\nlease = 0\n")
        let late = try Subprocess(probe, ["run", "--config", config], outputPath: directory.file("late.log"))
        try await Task.sleep(for: .seconds(3))
        late.stop()
        let said = try String(contentsOfFile: directory.file("late.log"), encoding: .utf8)
        #expect(said.contains("s past; not running it"), "\(said)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}

/// The lease's longest test (about 100 s), in a suite of its own so that it runs
/// beside the rest of the probe's process tests instead of after them.
@Suite("governor-probe's lease as a process", .serialized, .timeLimit(.minutes(3)))
struct ProbeLeaseProcessTests {
    let probes = ProbeClientProcessTests()

    @Test("a probe with a 1-minute lease runs its leased runs while the governor is stopped, delivers them afterwards, and stops when the lease ends",
          .timeLimit(.minutes(3)))
    func leaseThroughAnOutage() async throws {
        let directory = try TemporaryDirectory("governor-probe-lease")
        defer { directory.remove() }
        // Windows of 5 s from 3 s on, for 100 s: more than the lease holds.
        try ProbeClientProcessTests.writeGovernor(directory, probes: ["p1"], start: 3, windows: 20)
        let port = try TestSSHServer.freePort()
        var server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"), port: port)
        let log = directory.file("runs.txt")
        let probe = try ProbeClientProcessTests.startProbe(directory, id: "p1", port: port, log: log, extra: "lease = 1m")
        defer { probe.stop() }

        for _ in 0..<40 where try await probes.results(server, "p1").isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        #expect(try await probes.results(server, "p1").count == 1)
        let lease = try #require(ProbeLeaseFile.read(directory.file("lease.json")), "the lease is kept on disk beside the queue")
        server.stop()
        let stoppedAt = Date().timeIntervalSince1970
        // The governor stays down past the lease's end: the probe runs what it holds, then stops.
        for _ in 0..<400 where Date().timeIntervalSince1970 < Double(lease.leaseUntil) + 8 { try await Task.sleep(for: .milliseconds(250)) }
        let ran = ProbeClientProcessTests.runs(in: log)
        let duringOutage = ran.filter { $0.start > stoppedAt }
        #expect(duringOutage.count >= 8, "leased runs ran without the governor: \(ran.count) in all")
        #expect(ran.allSatisfy { $0.start <= Double(lease.leaseUntil) + 1 }, "nothing after the lease ended (\(lease.leaseUntil)): \(ran.map(\.start))")
        let held = try #require(ProbeLeaseFile.read(directory.file("lease.json")))
        #expect(duringOutage.allSatisfy { held.runs.contains(Int64($0.start.rounded(.down))) }, "every run in the outage was a leased run")
        func said() -> String { (try? String(contentsOfFile: directory.file("p1.log"), encoding: .utf8)) ?? "" }
        for _ in 0..<160 where !said().contains("no leased run is left") { try await Task.sleep(for: .milliseconds(250)) }
        #expect(said().contains("no leased run is left"), "\(said())")

        // Back: the queued results arrive, each once, and the probe leases again.
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"), port: port)
        defer { server.stop() }
        for _ in 0..<200 where try await probes.results(server, "p1").count < ran.count { try await Task.sleep(for: .milliseconds(250)) }
        let reported = try await probes.results(server, "p1").compactMap { $0["run_at"] as? String }
        #expect(reported.count == ran.count && Set(reported).count == reported.count, "\(reported.count) reported of \(ran.count) run")
        for _ in 0..<200 where (ProbeLeaseFile.read(directory.file("lease.json"))?.leaseUntil ?? 0) <= held.leaseUntil {
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect((ProbeLeaseFile.read(directory.file("lease.json"))?.leaseUntil ?? 0) > held.leaseUntil, "a new lease")
    }
}

extension ProbeClientProcessTests {
    @Test("SIGTERM while a test runs: the test finishes, its result is delivered, the probe exits 0")
    func sigterm() async throws {
        let directory = try TemporaryDirectory("governor-probe")
        defer { directory.remove() }
        try Self.writeGovernor(directory, probes: ["p1"], start: 3, windows: 1)
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        let log = directory.file("runs.txt")
        let probe = try Self.startProbe(directory, id: "p1", port: server.port, log: log, seconds: 2)
        let started = directory.file("queue-p1")
        // Wait for the test to be running (its shell is a child of the probe).
        for _ in 0..<40 {
            let children = (try? String(contentsOfFile: "/proc/\(probe.pid)/task/\(probe.pid)/children", encoding: .utf8)) ?? ""
            if !children.trimmingCharacters(in: .whitespaces).isEmpty { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        probe.send(SIGTERM)
        let status = probe.stop(signal: 0, timeout: 15)
        #expect(status == 0)
        #expect(Self.runs(in: log).count == 1, "the running test was allowed to finish")
        #expect(try await results(server, "p1").count == 1, "and its result delivered before exiting")
        #expect(FileManager.default.fileExists(atPath: started))
    }
}

/// The probe's lease file, as the tests read it.
struct ProbeLeaseFile: Decodable {
    var leaseUntil: Int64
    var runs: [Int64]

    enum CodingKeys: String, CodingKey {
        case runs
        case leaseUntil = "lease_until"
    }

    static func read(_ path: String) -> ProbeLeaseFile? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(ProbeLeaseFile.self, from: $0) }
    }
}
