import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// The operator's view of a real `governor serve`: the dashboard in headless
/// Chromium, `/metrics` through Prometheus's own parser, and `governor status`.
@Suite("The operator's view of a running governor", .serialized)
struct DashboardProcessTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let scripts = packageRoot + "/Tests/IntegrationTests/Scripts"
    static let adminToken = "operator-secret-for-tests"
    let http = HTTPTestClient()

    /// Where screenshots are kept for CI to collect: `$GOVERNOR_TEST_ARTIFACTS`, else
    /// `.build/test-artifacts` in the package.
    static var artifacts: String {
        let directory = ProcessInfo.processInfo.environment["GOVERNOR_TEST_ARTIFACTS"] ?? packageRoot + "/.build/test-artifacts"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A governor with an operator token and a demo school whose windows start in a
    /// few seconds; probe d1 has reported its first run.
    func startGovernor(_ directory: TemporaryDirectory) async throws -> ServerProcess {
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = [2, 12, 22, 32].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        try directory.write("governor.cfg", """
            [Governor]
            schools = schools
            state = state.sqlite
            admin_token_sha256 = \(sha256Hex(Self.adminToken))
            """)
        var school = ServeProcessTests.school(name: "demo", zone: zone, boundaries: boundaries, probes: ["d1", "d2"], runs: 2)
        school = school.replacingOccurrences(of: "[Probe d1]\n", with: "[Probe d1]\nlabel = Library <PC>\n")
        try directory.write("schools/demo.cfg", school)
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))

        let answer = try await http.get("\(server.baseURL)/v1/probes/d1/next", token: "d1-token")
        let runAt = try #require(try answer.json()["run_at"] as? String, "\(answer.status) \(answer.body)\n\(server.log)")
        let result = "{\"run_at\":\"\(runAt)\",\"started_at\":\"\(runAt)\",\"finished_at\":\"\(runAt)\",\"exit_code\":0,"
            + "\"output\":\"download 93.1 Mbit/s\",\"clock_offset_ms\":1.5}"
        #expect(try await http.post("\(server.baseURL)/v1/probes/d1/results", token: "d1-token", body: result).status == 201)
        _ = try await http.get("\(server.baseURL)/v1/probes/d2/next", token: "d2-token")
        return server
    }

    func sha256Hex(_ text: String) -> String {
        let result = try? runProcess(Executables.python3(), ["-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", text])
        return result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    func statusReport(_ server: ServerProcess) async throws -> [String: Any] {
        let reply = try await http.get("\(server.baseURL)/v1/status", token: Self.adminToken)
        #expect(reply.status == 200, "\(reply.body)")
        return try reply.json()
    }

    /// Runs the browser check on one page; returns its report.
    func loadInChromium(_ url: String, screenshot name: String) throws -> [String: Any] {
        let screenshot = Self.artifacts + "/" + name
        let basic = "Basic " + Data("operator:\(Self.adminToken)".utf8).base64EncodedString()
        let run = try runProcess(Executables.python3(), [Self.scripts + "/browser_check.py", url, screenshot, basic])
        #expect(run.status == 0, "browser_check.py failed: \(run.stderr)")
        print("dashboard screenshot: \(screenshot)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    @Test("Chromium loads the dashboard and the school page: no console errors, a line per school, one mark per run, a screenshot that is not blank",
          .timeLimit(.minutes(3)))
    func browser() async throws {
        let directory = try TemporaryDirectory("governor-dashboard")
        defer { directory.remove() }
        let server = try await startGovernor(directory)
        defer { server.stop() }
        let status = try await statusReport(server)
        let school = try #require((status["schools"] as? [[String: Any]])?.first)
        let runs = try #require((school["today"] as? [String: Any])?["runs"] as? [[String: Any]])
        #expect(runs.count >= 4, "the first window holds two runs for each probe")

        for (path, name) in [("/", "dashboard-overview.png"), ("/schools/demo", "dashboard-school.png")] {
            let report = try loadInChromium(server.baseURL + path, screenshot: name)
            #expect(report["loaded"] as? Bool == true, "\(path): \(report)")
            #expect((report["console"] as? [Any])?.isEmpty == true, "\(path) console: \(report["console"] ?? "")")
            #expect((report["exceptions"] as? [Any])?.isEmpty == true, "\(path) exceptions: \(report["exceptions"] ?? "")")
            #expect((report["failures"] as? [Any])?.isEmpty == true, "\(path) failed loads: \(report["failures"] ?? "")")
            #expect((report["http_errors"] as? [Any])?.isEmpty == true, "\(path) HTTP errors: \(report["http_errors"] ?? "")")
            if path == "/" {
                // The overview: a line per school, timelines only on the school pages.
                #expect(report["lines"] as? Int == 1 && report["marks"] as? Int == 0, "\(path): \(report)")
            } else {
                // The runs stored when the status was read; the page was read after, so it may show more.
                #expect((report["marks"] as? Int ?? 0) >= runs.count, "\(path): \(report["marks"] ?? "") marks")
            }
            #expect((report["colors"] as? Int ?? 0) > 20, "\(path): the screenshot has \(report["colors"] ?? "") colours")
            #expect((report["non_background_fraction"] as? Double ?? 0) > 0.03, "\(path): the screenshot is almost blank")
            #expect(FileManager.default.fileExists(atPath: Self.artifacts + "/" + name))
        }
        // Without the token a browser gets the login prompt and no page.
        let refused = try await http.get(server.baseURL + "/")
        #expect(refused.status == 401)
        #expect(refused.headers.contains { $0.0.lowercased() == "www-authenticate" && $0.1.hasPrefix("Basic") })
    }

    @Test("/metrics is valid Prometheus text with requests, probes, runs, lateness, outbox and reloads",
          .timeLimit(.minutes(2)))
    func metrics() async throws {
        let directory = try TemporaryDirectory("governor-metrics")
        defer { directory.remove() }
        let server = try await startGovernor(directory)
        defer { server.stop() }
        _ = try await http.get(server.baseURL + "/no/such/page")
        server.send(SIGHUP)
        try await Task.sleep(for: .seconds(1))
        let reply = try await http.get(server.baseURL + "/metrics", token: Self.adminToken)
        #expect(reply.status == 200)
        #expect(try await http.get(server.baseURL + "/metrics").status == 401)
        let file = try directory.write("metrics.txt", reply.body)
        let parsed = try runProcess(Executables.python3(), [Self.scripts + "/parse_metrics.py", file])
        #expect(parsed.status == 0, "prometheus_client rejected the exposition: \(parsed.stderr)")
        // Prometheus's own linter: every family has its help, names and units are sound.
        let lint = try runProcess("/bin/sh", ["-c", "exec \"$0\" check metrics < \"$1\" 2>&1", try Executables.onPath("promtool"), file])
        #expect(lint.status == 0 && lint.stdout.isEmpty, "promtool check metrics:\n\(lint.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any] ?? [:]
        let families = try #require(json["families"] as? [String: [String: Any]])

        func samples(_ family: String) -> [(name: String, labels: [String: String], value: Double)] {
            ((families[family]?["samples"] as? [[Any]]) ?? []).map { sample in
                (sample[0] as? String ?? "", sample[1] as? [String: String] ?? [:], (sample[2] as? Double) ?? Double(sample[2] as? Int ?? -1))
            }
        }
        func value(_ family: String, _ name: String, _ labels: [String: String]) -> Double? {
            samples(family).first { $0.name == name && $0.labels == labels }?.value
        }
        let types = families.mapValues { $0["type"] as? String ?? "" }
        for (family, type) in [
            ("governor_http_requests", "counter"), ("governor_http_request_duration_seconds", "histogram"), ("governor_probes", "gauge"),
            ("governor_runs", "counter"), ("governor_run_start_lateness_seconds", "histogram"), ("governor_outbox_messages", "gauge"),
            ("governor_outbox_delivery_failures", "counter"), ("governor_config_reloads", "counter"),
            ("governor_config_last_reload_timestamp_seconds", "gauge"),
        ] {
            #expect(types[family] == type, "\(family) is \(types[family] ?? "missing")")
        }
        #expect(value("governor_http_requests", "governor_http_requests_total", ["route": "/v1/probes/{id}/next", "method": "GET", "status": "200"]) == 2)
        #expect(value("governor_http_requests", "governor_http_requests_total", ["route": "/v1/probes/{id}/results", "method": "POST", "status": "201"]) == 1)
        #expect(value("governor_http_requests", "governor_http_requests_total", ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
        #expect(value("governor_probes", "governor_probes", ["state": "up"]) == 2)
        #expect((value("governor_runs", "governor_runs_total", ["outcome": "scheduled"]) ?? 0) >= 4)
        #expect(value("governor_runs", "governor_runs_total", ["outcome": "done"]) == 1)
        #expect(value("governor_run_start_lateness_seconds", "governor_run_start_lateness_seconds_count", ["mode": "pull"]) == 1)
        #expect(value("governor_outbox_messages", "governor_outbox_messages", [:]) == 0)
        #expect(value("governor_config_reloads", "governor_config_reloads_total", ["result": "success"]) == 1)
        let reloadedAt = value("governor_config_last_reload_timestamp_seconds", "governor_config_last_reload_timestamp_seconds", [:]) ?? 0
        #expect(abs(reloadedAt - Date().timeIntervalSince1970) < 30)
        // Request latency: every bucket series ends at +Inf with the count.
        let next = samples("governor_http_request_duration_seconds").filter { $0.labels["route"] == "/v1/probes/{id}/next" }
        #expect(next.first { $0.labels["le"] == "+Inf" }?.value == 2)
    }

    @Test("governor status prints the dashboard's tables, or its JSON, from the running governor", .timeLimit(.minutes(2)))
    func statusCommand() async throws {
        let directory = try TemporaryDirectory("governor-status")
        defer { directory.remove() }
        let server = try await startGovernor(directory)
        defer { server.stop() }
        let governor = try Executables.built("governor")
        let tokenFile = try directory.write("admin.token", Self.adminToken + "\n")

        let text = try runProcess(governor, ["status", "--server", server.baseURL, "--token-file", tokenFile])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("governor ") == true && lines.first?.contains(" at \(server.baseURL), up ") == true, "\(lines.first ?? "")")
        #expect(lines.contains { $0.hasPrefix("schools 1  probes 2  UP 2  DOWN 0  never seen 0  alerts pending 0") })
        #expect(lines.contains { $0.hasPrefix("demo (") })
        let d1 = try #require(lines.first { $0.hasPrefix("  d1 ") })
        #expect(d1.contains("pull") && d1.contains("Library <PC>") && d1.contains("UP") && d1.contains("exit 0") && d1.contains("+1.5 ms"), "\(d1)")

        let json = try runProcess(governor, ["status", "--server", server.baseURL, "--json"], environment: ["GOVERNOR_ADMIN_TOKEN": Self.adminToken])
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
        #expect((report["summary"] as? [String: Any])?["probes"] as? Int == 2)
        let probes = ((report["schools"] as? [[String: Any]])?.first?["probes"] as? [[String: Any]]) ?? []
        #expect(probes.map { $0["probe"] as? String } == ["d1", "d2"])
        #expect((probes.first?["last_result"] as? [String: Any])?["exit_code"] as? Int == 0)

        let refused = try runProcess(governor, ["status", "--server", server.baseURL], environment: [:])
        #expect(refused.status == 1 && refused.stderr.contains("needs the operator token"), "\(refused.stderr)")
        let closed = try runProcess(governor, ["status", "--server", "http://127.0.0.1:\(try TestSSHServer.freePort())", "--timeout", "3"])
        #expect(closed.status == 1 && closed.stderr.contains("cannot reach the governor"), "\(closed.stderr)")
    }
}
