import Foundation
import GovernorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A school file broken while the governor is down: the governor still knows the
/// school's probes from the last good text it stored, so no queued result is refused.
@Suite("Last good school configuration across restarts", .serialized, .timeLimit(.minutes(2)))
struct LastGoodConfigTests {
    let http = HTTPTestClient()
    static let good = "[Timing]\nboundaries = 0000 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p1\n[Probe p1]\ntoken = p1-token\n"

    func results(_ server: ServerProcess) async throws -> [[String: Any]] {
        try await http.get("\(server.baseURL)/v1/probes/p1/results?limit=100", token: "p1-token").json()["results"] as? [[String: Any]] ?? []
    }

    @Test("a result queued while the governor was down is delivered although the school's file broke meanwhile")
    func brokenWhileDown() async throws {
        let directory = try TemporaryDirectory("governor-last-good")
        defer { directory.remove() }
        let config = try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        let school = try directory.write("schools/s.cfg", Self.good)
        let port = try TestSSHServer.freePort()
        let probeConfig = try directory.write("probe.cfg", """
            [Probe]
            id = p1
            token = p1-token
            server = http://127.0.0.1:\(port)
            command = echo measured
            queue = \(directory.file("queue"))
            """)
        do {
            let server = try ServerProcess(config: config, logPath: directory.file("governor.log"), port: port)
            #expect(try await http.get("\(server.baseURL)/v1/probes/p1/next", token: "p1-token").status == 200)
            server.stop()
        }
        // The governor is down: the probe's test runs and its result waits in the queue.
        _ = try await offThePool { try runProcess(try Executables.built("governor-probe"), ["run-now", "--config", probeConfig]) }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory.file("queue"))) ?? []).count == 1)

        // Meanwhile the school file breaks (a key given twice), and the governor starts again.
        try directory.write("schools/s.cfg", Self.good.replacingOccurrences(of: "delay = 1\n", with: "delay = 1\ndelay: 2\n"))
        let check = try await offThePool { try runProcess(try Executables.built("governor"), ["check", "--config", config]) }
        #expect(check.status == 1 && (check.stdout + check.stderr).contains("\(school):5:"), "\(check.stdout)\(check.stderr)")

        let server = try ServerProcess(config: config, logPath: directory.file("governor.log"), port: port)
        defer { server.stop() }
        #expect(server.log.contains("\(school):5: error"), "\(server.log)")
        #expect(server.log.contains("keeps its last good configuration"), "\(server.log)")
        #expect(try await http.get("\(server.baseURL)/v1/probes/p1/next", token: "p1-token").status == 200)

        // The probe's next contact delivers what it queued, and the new run's result.
        _ = try await offThePool { try runProcess(try Executables.built("governor-probe"), ["run-now", "--config", probeConfig]) }
        #expect(try await results(server).count == 2)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory.file("queue"))) ?? []).filter { !$0.hasPrefix(".") }.isEmpty)

        // Fixed and reloaded: the fixed text is the new last good one.
        try directory.write("schools/s.cfg", Self.good.replacingOccurrences(of: "runs_per_period = 1", with: "runs_per_period = 2"))
        server.send(SIGHUP)
        for _ in 0..<40 where !server.log.contains("configuration reloaded") {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(server.log.contains("configuration reloaded"))
        let status = try await http.get("\(server.baseURL)/v1/probes/p1", token: "p1-token")
        #expect(status.status == 200)
    }
}
