import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// The governor's alerts through Debian's real Alertmanager, started by the test on
/// loopback with a webhook receiver of the test's own: what reaches the receiver,
/// what a silence made with `amtool` keeps from it, what a recovery resolves, and
/// what an Alertmanager that was stopped gets when it is back.
@Suite("alerts through Prometheus Alertmanager", .serialized, .timeLimit(.minutes(5)))
struct AlertmanagerProcessTests {
    let http = HTTPTestClient()

    static let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md").path

    @Test("the README's alertmanager.yml passes amtool check-config")
    func readmeConfiguration() throws {
        let directory = try TemporaryDirectory("governor-alertmanager-config")
        defer { directory.remove() }
        let file = try directory.write("alertmanager.yml", try TestAlertmanager.configuration(webhook: "http://127.0.0.1:5001/governor"))
        let checked = try runProcess(try Executables.onPath("amtool"), ["check-config", file])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("Found:") && checked.stdout.contains("2 inhibit rules"), "\(checked.stdout)")
    }

    /// An Alertmanager on 127.0.0.1 with the README's routing (group by district, a
    /// school down inhibits its probes' alerts) and a webhook to `receiver`.
    final class TestAlertmanager: @unchecked Sendable {
        let port: Int
        let directory: TemporaryDirectory
        private var process: Subprocess?

        init(receiver: String, directory: TemporaryDirectory) throws {
            self.directory = directory
            port = try TestSSHServer.freePort()
            try directory.write("alertmanager.yml", Self.configuration(webhook: receiver + "/hook"))
            try start()
        }

        static func configuration(webhook: String) throws -> String {
            // The README's file, with the test's receiver and quick grouping.
            let readme = try String(contentsOfFile: AlertmanagerProcessTests.readmePath, encoding: .utf8)
            guard let start = readme.range(of: "```yaml\n# alertmanager.yml"), let end = readme.range(of: "```", range: start.upperBound..<readme.endIndex) else {
                throw TestFailure("README.md has no ```yaml block that starts with '# alertmanager.yml'")
            }
            return String(readme[start.upperBound..<end.lowerBound])
                .replacingOccurrences(of: "http://127.0.0.1:5001/governor", with: webhook)
                .replacingOccurrences(of: "group_wait: 30s", with: "group_wait: 3s")
                .replacingOccurrences(of: "group_interval: 5m", with: "group_interval: 1s")
        }

        var url: String { "http://127.0.0.1:\(port)" }

        func start() throws {
            let process = try Subprocess(try Executables.onPath("prometheus-alertmanager"), [
                "--config.file=\(directory.file("alertmanager.yml"))", "--storage.path=\(directory.file("data"))",
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
            ], outputPath: directory.file("alertmanager.log"))
            self.process = process
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if TestSMTPServer.accepts(port) { return }
                if !process.isRunning { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw TestFailure("Alertmanager did not start on 127.0.0.1:\(port):\n\(log)")
        }

        var log: String { (try? String(contentsOfFile: directory.file("alertmanager.log"), encoding: .utf8)) ?? "" }

        func stop() {
            process?.stop(timeout: 10)
            process = nil
        }

        /// `amtool ARGS --alertmanager.url=…`.
        func amtool(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(try Executables.onPath("amtool"), arguments + ["--alertmanager.url=\(url)"])
        }
    }

    /// The alerts the receiver got, one per notification and alert: status, alertname, probe or school.
    static func notifications(_ receiver: TestHTTPReceiver) -> [(status: String, labels: [String: String])] {
        receiver.requests().flatMap { request -> [(String, [String: String])] in
            guard let object = try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any],
                  let alerts = object["alerts"] as? [[String: Any]] else { return [] }
            return alerts.map { ($0["status"] as? String ?? "", $0["labels"] as? [String: String] ?? [:]) }
        }
    }

    @Test("a probe going DOWN reaches the receiver through Alertmanager with its labels; a silence made with amtool keeps a school's alerts from it; a recovery resolves; an Alertmanager stopped meanwhile gets the alert when it is back; /metrics counts the failures")
    func throughAlertmanager() async throws {
        let directory = try TemporaryDirectory("governor-alertmanager")
        defer { directory.remove() }
        let receiver = try TestHTTPReceiver()
        defer { receiver.remove() }
        let alertmanager = try TestAlertmanager(receiver: receiver.url, directory: directory)
        defer { alertmanager.stop() }

        // Planned work at west: silenced before anything happens.
        let silence = try alertmanager.amtool(["silence", "add", "school=west", "--comment=power cut at west", "--author=ops", "--duration=1h"])
        #expect(silence.status == 0, "\(silence.stdout)\(silence.stderr)")

        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", """
            [Governor]
            schools = schools
            state = state.sqlite
            public_url = http://governor.example.org/
            labels = region=south
            [Alerts]
            alertmanager = \(alertmanager.url)
            grace = 1s
            missed_runs = 1

            """)
        // north: n1 stays silent, n2 talks (the school is not down); west: w1 silent (silenced);
        // east: e1 silent, its window later, while Alertmanager is stopped.
        try directory.write("schools/north.cfg", AlertProcessTests.school("north", probes: ["n1", "n2"], start: 3, windows: 1, zone: zone, offset: offset)
            .replacing("[School]\n", with: "[School]\nlabels = isp=acme-telecom, district=north-7\n"))
        try directory.write("schools/west.cfg", AlertProcessTests.school("west", probes: ["w1"], start: 3, windows: 1, zone: zone, offset: offset))
        try directory.write("schools/east.cfg", AlertProcessTests.school("east", probes: ["e1"], start: 30, windows: 1, zone: zone, offset: offset))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        let talking = Task {
            for _ in 0..<400 where !Task.isCancelled {
                _ = try? await http.get("\(server.baseURL)/v1/probes/n2/next", token: "n2-token")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        defer { talking.cancel() }

        func waitFor(_ what: String, seconds: Int, _ found: () -> Bool) async throws {
            for _ in 0..<(seconds * 4) where !found() { try await Task.sleep(for: .milliseconds(250)) }
            #expect(found(), "\(what)\nreceived: \(Self.notifications(receiver))\n\(server.log.suffix(3000))\n\(alertmanager.log.suffix(2000))")
        }
        try await waitFor("n1's DOWN through Alertmanager", seconds: 40) {
            Self.notifications(receiver).contains { $0.status == "firing" && $0.labels["probe"] == "n1" }
        }
        let n1 = Self.notifications(receiver).first { $0.labels["probe"] == "n1" }?.labels
        #expect(n1 == ["alertname": "GovernorProbeDown", "severity": "warning", "school": "north", "probe": "n1", "mode": "pull",
                       "isp": "acme-telecom", "district": "north-7", "region": "south"])
        // west's alerts are in Alertmanager, silenced, and never reach the receiver.
        // (w1's own alert is also inhibited by its school's, which the query of silenced alerts leaves out.)
        // (w1's run may come a few seconds after n1's in their window, and the governor
        // posts every 5 s: it is asked for until it is there, 30 s at most.)
        var silenced = try alertmanager.amtool(["alert", "query", "--silenced", "school=west", "-o", "json"])
        for _ in 0..<60 where !silenced.stdout.contains("GovernorSchoolDown") {
            try await Task.sleep(for: .milliseconds(500))
            silenced = try alertmanager.amtool(["alert", "query", "--silenced", "school=west", "-o", "json"])
        }
        #expect(silenced.stdout.contains("GovernorSchoolDown"), "\(silenced.stdout)\(silenced.stderr)\n\(server.log.suffix(2000))")
        #expect(!Self.notifications(receiver).contains { $0.labels["school"] == "west" })

        // Alertmanager stops for a minute, while e1 goes DOWN; the governor keeps trying and delivers when it is back.
        alertmanager.stop()
        try await Task.sleep(for: .seconds(60))
        #expect(!Self.notifications(receiver).contains { $0.labels["school"] == "east" })
        let metrics = try await http.get("\(server.baseURL)/metrics").body
        #expect(metrics.contains(#"governor_alertmanager_posts_total{result="failed"}"#) && metrics.contains("governor_alertmanager_unreachable 1.0"),
                "\(metrics)")
        try alertmanager.start()
        try await waitFor("e1's school DOWN after Alertmanager is back", seconds: 30) {
            Self.notifications(receiver).contains { $0.status == "firing" && $0.labels["alertname"] == "GovernorSchoolDown" && $0.labels["school"] == "east" }
        }
        // A school DOWN inhibits its probes' alerts (the README's rule).
        #expect(!Self.notifications(receiver).contains { $0.labels["probe"] == "e1" }, "\(Self.notifications(receiver))")

        // n1 is back: its alert is resolved.
        _ = try await http.get("\(server.baseURL)/v1/probes/n1/next", token: "n1-token")
        try await waitFor("n1's alert resolved", seconds: 30) {
            Self.notifications(receiver).contains { $0.status == "resolved" && $0.labels["probe"] == "n1" }
        }
        #expect(!Self.notifications(receiver).contains { $0.labels["school"] == "west" })
        talking.cancel()
        #expect(server.stop() == 0)
    }
}
