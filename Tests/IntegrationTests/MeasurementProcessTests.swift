import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// What the tests measured, end to end: `governor-probe` runs a real measurement tool
/// and `governor serve` reads its output into a measurement.
@Suite("Measurements from real tools", .serialized, .timeLimit(.minutes(3)))
struct MeasurementProcessTests {
    let http = HTTPTestClient()

    @Test("iperf3 -J -R against its own server: the download is measured and shown, and its school meets its contract; text under result_format = ndt7 fails the run as unreadable; after an upgrade the stored output is read again in the background")
    func iperf3AndUnreadable() async throws {
        let directory = try TemporaryDirectory("governor-measure")
        defer { directory.remove() }
        let iperfPort = try TestSSHServer.freePort()
        let iperfServer = try Subprocess(try Executables.onPath("iperf3"), ["-s", "-B", "127.0.0.1", "-p", "\(iperfPort)"],
                                         outputPath: directory.file("iperf3-server.log"))
        defer { _ = iperfServer.stop() }

        // One window from 4 s to 9 s: each probe runs once.
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = [4, 9].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/s.cfg", ServeProcessTests.school(name: "s", zone: zone, boundaries: boundaries, probes: ["p1"], testDuration: "3s")
            .replacingOccurrences(of: "timezone = \(zone)", with: "timezone = \(zone)\ncontracted_download_mbps = 100"))
        try directory.write("schools/t.cfg", ServeProcessTests.school(name: "t", zone: zone, boundaries: boundaries, probes: ["p2"], testDuration: "3s")
            .replacingOccurrences(of: "timezone = \(zone)", with: "timezone = \(zone)\nresult_format = ndt7"))
        try directory.write("schools/u.cfg", ServeProcessTests.school(name: "u", zone: zone, boundaries: boundaries, probes: ["p3"], testDuration: "3s")
            .replacingOccurrences(of: "timezone = \(zone)", with: "timezone = \(zone)\ncontracted_download_mbps = 50"))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }

        func probe(_ id: String, command: String) throws -> Subprocess {
            let config = try directory.write("\(id).cfg", """
                [Probe]
                id = \(id)
                token = \(id)-token
                server = http://127.0.0.1:\(server.port)
                command = \(command)
                timeout = 20s
                queue = \(directory.file("queue-\(id)"))
                """)
            return try Subprocess(try Executables.built("governor-probe"), ["run", "--config", config], outputPath: directory.file("\(id).log"))
        }
        let iperf3 = try Executables.onPath("iperf3")
        let probes = [
            try probe("p1", command: "\(iperf3) -c 127.0.0.1 -p \(iperfPort) -J -t 1 -R"),
            try probe("p2", command: "echo 'Download: 45.2 Mbit/s'"),
            // A script's JSON object: 5 of the 50 Mbit/s its school pays for.
            try probe("p3", command: #"echo '{"download_mbps": 5, "upload_mbps": 1.5}'"#),
        ]
        defer { probes.forEach { _ = $0.stop() } }

        func results(_ probe: String) async throws -> [[String: Any]] {
            try await http.get("\(server.baseURL)/v1/probes/\(probe)/results").json()["results"] as? [[String: Any]] ?? []
        }
        try await Task.sleep(for: .seconds(9))
        var (measured, unreadable): ([String: Any]?, [String: Any]?) = (nil, nil)
        var scripted: [String: Any]?
        for _ in 0..<60 where measured == nil || unreadable == nil || scripted == nil {
            measured = try await results("p1").first
            unreadable = try await results("p2").first
            scripted = try await results("p3").first
            if measured == nil || unreadable == nil || scripted == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect((scripted?["measurement"] as? [String: Any])?["tool"] as? String == "json", "\(String(describing: scripted))")
        let result = try #require(measured, "p1 reported nothing; its log: \((try? String(contentsOfFile: directory.file("p1.log"), encoding: .utf8)) ?? "")")
        #expect(result["exit_code"] as? Int == 0 && result["failure"] == nil, "\(result)")
        let measurement = try #require(result["measurement"] as? [String: Any], "no measurement in \(result)")
        #expect(measurement["tool"] as? String == "iperf3")
        // With -R the server sends: the download. Loopback moves gigabits; the figure is iperf3's own sum_received.
        #expect((measurement["download_mbps"] as? Double).map { $0 > 100 } == true, "\(measurement)")
        #expect(measurement["upload_mbps"] == nil)
        #expect(measurement["server_ip"] as? String == "127.0.0.1")
        #expect((measurement["download_id"] as? String)?.isEmpty == false)

        let failed = try #require(unreadable, "p2 reported nothing")
        #expect(failed["exit_code"] as? Int == 0)
        #expect((failed["failure"] as? String)?.hasPrefix("unreadable-output: ") == true, "\(failed)")
        #expect(failed["measurement"] == nil)

        let metrics = try await http.get("\(server.baseURL)/metrics").body
        #expect(metrics.contains(#"governor_result_readings_total{outcome="measured"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"governor_result_readings_total{outcome="unreadable"} 1"#))
        // Where the schools stand: s meets its contract of 100 Mbit/s, t has no measurement.
        let status = try await http.get("\(server.baseURL)/v1/status").json()
        let overview = (status["summary"] as? [String: Any])?["measurements"] as? [String: Any]
        #expect(overview?["meets"] as? Int == 1 && overview?["no_data"] as? Int == 1 && overview?["meeting_target"] as? Int == 1, "\(String(describing: overview))")
        #expect(overview?["below"] as? Int == 1 && overview?["poor"] as? Int == 0)
        #expect(overview?["reaching_80_percent_of_contract"] as? Int == 1 && overview?["contracted"] as? Int == 2)
        #expect(overview?["reported_last_7_open_days"] as? Int == 2 && overview?["complete"] as? Bool == true)
        let schools = (status["schools"] as? [[String: Any]]) ?? []
        let standing = schools.first { $0["name"] as? String == "s" }?["measurement"] as? [String: Any]
        #expect(standing?["state"] as? String == "meets" && standing?["target_source"] as? String == "contract" && standing?["measurements"] as? Int == 1,
                "\(String(describing: standing))")
        #expect(standing?["median_download_mbps"] as? Double == measurement["download_mbps"] as? Double)
        #expect((schools.first { $0["name"] as? String == "t" }?["measurement"] as? [String: Any])?["state"] as? String == "no-data")
        let noData = try await http.get("\(server.baseURL)/v1/status?measurement=no-data").json()["schools"] as? [[String: Any]]
        #expect(noData?.map { $0["name"] as? String } == ["t"])
        let below = try await http.get("\(server.baseURL)/v1/status?measurement=below").json()["schools"] as? [[String: Any]]
        #expect(below?.map { $0["name"] as? String } == ["u"])
        // The front page lists the schools furthest below target.
        let page = try await http.get("\(server.baseURL)/").body
        #expect(page.contains("Furthest below target") && page.contains(#"<tr class="below-line" data-school="u">"#) && page.contains("<td>10 %</td>"),
                "\(page)")
        #expect(!page.contains(#"data-school="s"><td><a href="/schools/s">s</a></td><td class="warn">"#))
        // The school page charts its daily medians against its target.
        let schoolPage = try await http.get("\(server.baseURL)/schools/u").body
        #expect(schoolPage.contains("<svg class=\"measurements\"") && schoolPage.contains("<title>target 50 Mbit/s</title>")
            && schoolPage.contains("download median 5 Mbit/s of 1 test(s)"), "\(schoolPage)")
        #expect(schoolPage.contains("measured: below, median 5 down / 1.5 up Mbit/s over 1 test(s), target 50 (contract)"))
        let meetsNamedT = try await http.get("\(server.baseURL)/v1/status?measurement=meets&school=t").json()["schools"] as? [[String: Any]]
        #expect(meetsNamedT?.isEmpty == true)
        let bad = try await http.get("\(server.baseURL)/v1/status?measurement=great")
        #expect(bad.status == 400 && bad.body.contains("expected meets, below, poor or no-data"))
        // The school's measurements, and every measurement as CSV.
        let listed = try await http.get("\(server.baseURL)/v1/schools/s/measurements").json()
        #expect((listed["target"] as? [String: Any])?["source"] as? String == "contract")
        #expect((listed["standing"] as? [String: Any])?["state"] as? String == "meets")
        let rows = listed["measurements"] as? [[String: Any]] ?? []
        #expect(rows.count == 1 && rows.first?["result_id"] as? Int == result["id"] as? Int && rows.first?["probe"] as? String == "p1", "\(listed)")
        let csv = try await http.get("\(server.baseURL)/v1/measurements.csv")
        let lines = csv.body.split(separator: "\r\n").map(String.init)
        #expect(csv.status == 200 && csv.headers.contains { $0.0.lowercased() == "content-type" && $0.1.hasPrefix("text/csv") })
        #expect(lines.first?.hasPrefix("measured_at,school,probe,result_id,tool,download_mbps,") == true && lines.count == 3, "\(csv.body)")
        let cells = lines.first { $0.contains(",s,p1,") }?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
        #expect(cells.count == 18 && cells[1] == "s" && cells[2] == "p1" && cells[4] == "iperf3", "\(cells)")
        // Its run's time, as the result has it; no group.
        #expect(cells.count == 18 && cells[16] == (result["run_at"] as? String ?? "") && cells[17] == "", "\(cells)")
        // The same figure (the JSON reader here may differ from the governor's writer in the last digit).
        let inCSV = Double(cells.count > 5 ? cells[5] : "") ?? 0, inJSON = measurement["download_mbps"] as? Double ?? -1
        #expect(abs(inCSV - inJSON) <= 1e-9 * inJSON, "\(inCSV) in the CSV, \(inJSON) in the API")
        let onlyT = try await http.get("\(server.baseURL)/v1/measurements.csv?school=t").body
        #expect(onlyT.split(separator: "\r\n").count == 1)
        let badRange = try await http.get("\(server.baseURL)/v1/measurements.csv?from=yesterday")
        #expect(badRange.status == 400 && badRange.body.contains("'from' is 'yesterday'"))
        let scraped = try await http.get("\(server.baseURL)/metrics").body
        #expect(scraped.contains(#"governor_schools_by_measurement{state="meets"} 1"#) && scraped.contains("governor_schools_meeting_target_ratio 0.5"), "\(scraped)")
        probes.forEach { _ = $0.stop() }
        #expect(server.stop() == 0)

        // The same state as an upgrade finds it: the result stored, its measurement not
        // yet. The governor serves at once and reads the output in the background.
        try await StateFile.rewindMeasurementBackfill(sqlite: directory.file("state.sqlite"))
        let upgraded = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { upgraded.stop() }
        let before = try await http.get("\(upgraded.baseURL)/v1/probes/p1/results").json()["results"] as? [[String: Any]]
        #expect(before?.first?["measurement"] == nil, "the backfill waits a few seconds after start")
        var again: [String: Any]?
        for _ in 0..<80 where again == nil {
            try await Task.sleep(for: .milliseconds(250))
            let results = try await http.get("\(upgraded.baseURL)/v1/probes/p1/results").json()["results"] as? [[String: Any]]
            again = results?.first?["measurement"] as? [String: Any]
        }
        #expect(again?["download_mbps"] as? Double == measurement["download_mbps"] as? Double, "read again: \(String(describing: again))")
        // The backfilled measurement counts in the school's standing too.
        let upgradedStatus = try await http.get("\(upgraded.baseURL)/v1/status").json()
        let upgradedOverview = (upgradedStatus["summary"] as? [String: Any])?["measurements"] as? [String: Any]
        #expect(upgradedOverview?["meets"] as? Int == 1, "\(String(describing: upgradedOverview))")
        let log = try String(contentsOfFile: directory.file("governor.log"), encoding: .utf8)
        #expect(log.contains("read the results stored before measurements existed"), "\(log.suffix(2000))")
        #expect(upgraded.stop() == 0)
    }
}

extension MeasurementProcessTests {
    /// A governor in UTC whose digest goes to ops@example.org; `[Governor]` is last, for a test to add to.
    static func digestGovernorFile(smtp: TestSMTPServer, belowTargetDays: Int, digestAt: String) -> String {
        """
        [Alerts]
        smtp = \(smtp.url)
        from = Governor <governor@example.org>
        to = ops@example.org
        below_target_days = \(belowTargetDays)
        digest_at = \(digestAt)
        [Governor]
        schools = schools
        state = state.sqlite
        timezone = UTC

        """
    }

    @Test("a school below its contract on two open days is in the next morning's digest once, whatever the restarts")
    func digest() async throws {
        let directory = try TemporaryDirectory("governor-digest")
        defer { directory.remove() }
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        func governorFile(digestAt: String) -> String {
            Self.digestGovernorFile(smtp: smtp, belowTargetDays: 2, digestAt: digestAt) + "public_url = http://governor.example.org/\n"
        }
        try directory.write("governor.cfg", governorFile(digestAt: "23:59:59"))
        try directory.write("schools/u.cfg", """
            [School]
            name = u
            timezone = UTC
            contracted_download_mbps = 50
            alert_to = u-it@example.org
            [Timing]
            boundaries = 0800, 1600
            runs_per_period = 1
            delay = 1
            [Probes]
            ids = p3
            [Probe p3]
            token = p3-token
            """)
        var server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        // Two days of 5 Mbit/s: the day before yesterday and yesterday, by the school's clock.
        let today = LocalDate(containing: UnixTime(Date().timeIntervalSince1970), in: TimeZone(identifier: "UTC")!)
        for back in [2, 1] {
            let date = today.adding(days: -back)
            let body = """
                {"run_at":"\(date)T10:00:00Z","started_at":"\(date)T10:00:00.004Z","finished_at":"\(date)T10:00:10Z","exit_code":0,
                 "output":"{\\"download_mbps\\": 5, \\"upload_mbps\\": 1}"}
                """
            let reply = try await http.post("\(server.baseURL)/v1/probes/p3/results", token: "p3-token", body: body)
            #expect(reply.status == 201, "\(reply.body)")
        }
        #expect(server.stop() == 0)
        #expect(smtp.messages().isEmpty, "no digest before digest_at")

        // The next start is past digest_at: the digest goes out.
        try directory.write("governor.cfg", governorFile(digestAt: "00:00"))
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        for _ in 0..<60 where smtp.messages().count < 2 { try await Task.sleep(for: .milliseconds(250)) }
        let messages = smtp.messages()
        #expect(messages.count == 2, "one per recipient: \(messages)\n\(server.log)")
        let ops = try #require(messages.first { $0.contains("To: ops@example.org") }, "\(messages)")
        #expect(ops.contains("Subject: [governor] below target: 1 new, 0 recovered, 0 still below (\(today))"), "\(ops)")
        #expect(ops.contains("u: median 5 Mbit/s on \(today.adding(days: -1)), target 50 Mbit/s (contract)"), "\(ops)")
        #expect(ops.contains("http://governor.example.org/schools/u"))
        #expect(messages.contains { $0.contains("To: u-it@example.org") })
        #expect(server.stop() == 0)

        // A restart the same day queues nothing new.
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        for _ in 0..<40 where !server.log.contains("the daily digest of schools below target is queued") { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(1))
        #expect(smtp.messages().count == 2, "\(smtp.messages())")
        #expect(server.log.contains("new=0") || server.log.contains("\"new\":\"0\"") || server.log.contains("new: 0"), "\(server.log.suffix(1500))")
        #expect(server.stop() == 0)
    }
}

extension MeasurementProcessTests {
    @Test("two probes of two schools behind one egress are shown as sharing it, and the egress over daily_tests_per_egress is flagged; a probe id switching addresses is an identity conflict; X-Forwarded-For counts only from a trusted proxy")
    func egress() async throws {
        let directory = try TemporaryDirectory("governor-egress")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let boundaries = [4, 9].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        try directory.write("governor.cfg", """
            [Governor]
            schools = schools
            state = state.sqlite
            trusted_proxies = 127.0.0.1
            daily_tests_per_egress = 1

            """)
        for (school, probe) in [("a", "a1"), ("b", "b1"), ("c", "c1")] {
            try directory.write("schools/\(school).cfg", ServeProcessTests.school(name: school, zone: zone, boundaries: boundaries, probes: [probe], testDuration: "2s"))
        }
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }

        // a1 and b1 are real probes whose test reports the address the measurement server saw: one school NAT... or a district's.
        func probe(_ id: String) throws -> Subprocess {
            let config = try directory.write("\(id).cfg", """
                [Probe]
                id = \(id)
                token = \(id)-token
                server = http://127.0.0.1:\(server.port)
                command = echo '{"download_mbps": 40, "client_ip": "203.0.113.10"}'
                timeout = 20s
                queue = \(directory.file("queue-\(id)"))
                """)
            return try Subprocess(try Executables.built("governor-probe"), ["run", "--config", config], outputPath: directory.file("\(id).log"))
        }
        let probes = [try probe("a1"), try probe("b1")]
        defer { probes.forEach { _ = $0.stop() } }

        // c1 asks through the trusted proxy (127.0.0.1) from one address, then another, then the first again.
        for client in ["198.51.100.20", "198.51.100.21", "198.51.100.20"] {
            let reply = try await http.get("\(server.baseURL)/v1/probes/c1/next", token: "c1-token", headers: [("X-Forwarded-For", "192.0.2.99, \(client)")])
            #expect(reply.status == 200, "\(reply.body)")
        }

        func egress(_ status: [String: Any], _ probe: String) -> [String: Any]? {
            let rows = (status["schools"] as? [[String: Any]] ?? []).flatMap { $0["probes"] as? [[String: Any]] ?? [] }
            return rows.first { $0["probe"] as? String == probe }?["egress"] as? [String: Any]
        }
        var status: [String: Any] = [:]
        for _ in 0..<80 {
            status = try await http.get("\(server.baseURL)/v1/status").json()
            if egress(status, "a1")?["source"] as? String == "measurement" && egress(status, "b1")?["source"] as? String == "measurement" { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let a1 = try #require(egress(status, "a1"), "\(status)")
        #expect(a1["address"] as? String == "203.0.113.10" && a1["measured_address"] as? String == "203.0.113.10" && a1["request_address"] as? String == "127.0.0.1",
                "\(a1)")
        #expect((a1["shared_with"] as? [[String: Any]])?.map { "\($0["probe"] ?? "") \($0["school"] ?? "")" } == ["b1 b"], "\(a1)")
        #expect(a1["tests_last_24h"] as? Int == 2)
        let c1 = try #require(egress(status, "c1"), "\(status)")
        // The proxy's header names the client; what the client wrote left of it does not count.
        #expect(c1["address"] as? String == "198.51.100.20" && c1["source"] as? String == "request" && (c1["shared_with"] as? [Any])?.isEmpty == true, "\(c1)")
        let conflict = try #require(c1["identity_conflict"] as? [String: Any], "\(c1)")
        #expect(conflict["switches"] as? Int == 2 && conflict["addresses"] as? [String] == ["198.51.100.20", "198.51.100.21"], "\(conflict)")

        let overview = try #require((status["summary"] as? [String: Any])?["egress"] as? [String: Any])
        #expect(overview["shared_egresses"] as? Int == 1 && overview["probes_sharing"] as? Int == 2 && overview["identity_conflict_count"] as? Int == 1, "\(overview)")
        let busy = overview["over_daily_budget"] as? [[String: Any]]
        #expect(busy?.first?["address"] as? String == "203.0.113.10" && busy?.first?["tests_last_24h"] as? Int == 2 && busy?.first?["probes"] as? [String] == ["a1", "b1"],
                "\(overview)")

        let shared = try await http.get("\(server.baseURL)/v1/status?egress=shared").json()["schools"] as? [[String: Any]]
        #expect(shared?.map { $0["name"] as? String } == ["a", "b"])
        let conflicted = try await http.get("\(server.baseURL)/v1/status?egress=conflict").json()["schools"] as? [[String: Any]]
        #expect(conflicted?.map { $0["name"] as? String } == ["c"])
        #expect(try await http.get("\(server.baseURL)/v1/status?egress=cloned").status == 400)

        // The dashboard: the school page names the other school's probe, the front page the conflict and the busy egress.
        let schoolPage = try await http.get("\(server.baseURL)/schools/a").body
        #expect(schoolPage.contains("203.0.113.10 (measured)") && schoolPage.contains("shared with b1 (b)"), "\(schoolPage)")
        let front = try await http.get("\(server.baseURL)/").body
        #expect(front.contains(#"<li class="conflict-line" data-probe="c1">"#) && front.contains("switched 2 times between 198.51.100.20, 198.51.100.21"), "\(front)")
        #expect(front.contains(#"<li class="busy-egress" data-address="203.0.113.10">"#) && front.contains("2 tests in 24 h from 2 probes: a1, b1"))
        let metrics = try await http.get("\(server.baseURL)/metrics").body
        for line in ["governor_egresses_shared 1.0", "governor_probes_sharing_egress 2.0", "governor_egresses_over_daily_budget 1.0", "governor_probe_identity_conflicts 1.0"] {
            #expect(metrics.contains("\n\(line)\n"), "\(line) in \(metrics)")
        }
        probes.forEach { _ = $0.stop() }
        #expect(server.stop() == 0)
    }

    @Test("a school with a month of measurements below its contract is below, first in the worst-schools list, and in the digest once")
    func monthBelowTarget() async throws {
        let directory = try TemporaryDirectory("governor-month")
        defer { directory.remove() }
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        func governorFile(digestAt: String) -> String {
            Self.digestGovernorFile(smtp: smtp, belowTargetDays: 5, digestAt: digestAt)
        }
        try directory.write("governor.cfg", governorFile(digestAt: "23:59:59"))
        for (name, contract) in [("low", 50), ("fine", 10)] {
            try directory.write("schools/\(name).cfg", """
                [School]
                name = \(name)
                timezone = UTC
                contracted_download_mbps = \(contract)
                [Timing]
                boundaries = 0800, 1600
                runs_per_period = 1
                delay = 1
                [Probes]
                ids = \(name)-1
                [Probe \(name)-1]
                token = \(name)-1-token
                """)
        }
        var server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        // The window's 29 days before today, two tests a day at each school: 4 to 6 Mbit/s at 'low' (of 50), 20 at 'fine' (of 10).
        let today = LocalDate(containing: UnixTime(Date().timeIntervalSince1970), in: TimeZone(identifier: "UTC")!)
        for back in 1...29 {
            let date = today.adding(days: -back)
            for (index, hour) in ["09", "14"].enumerated() {
                for (school, mbps) in [("low", 4 + back % 3), ("fine", 20)] {
                    let body = """
                        {"run_at":"\(date)T\(hour):00:00Z","started_at":"\(date)T\(hour):00:00.004Z","finished_at":"\(date)T\(hour):00:10Z","exit_code":0,
                         "idempotency_key":"\(school)-\(back)-\(index)","output":"{\\"download_mbps\\": \(mbps)}"}
                        """
                    let reply = try await http.post("\(server.baseURL)/v1/probes/\(school)-1/results", token: "\(school)-1-token", body: body)
                    #expect(reply.status == 201, "\(reply.body)")
                }
            }
        }
        #expect(server.stop() == 0)
        #expect(smtp.messages().isEmpty, "no digest before digest_at")

        // Started again past digest_at: the digest goes out, and the views agree with it.
        try directory.write("governor.cfg", governorFile(digestAt: "00:00"))
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        for _ in 0..<60 where smtp.messages().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        let status = try await http.get("\(server.baseURL)/v1/status").json()
        let low = (status["schools"] as? [[String: Any]])?.first { $0["name"] as? String == "low" }?["measurement"] as? [String: Any]
        #expect(low?["state"] as? String == "below" && low?["measurements"] as? Int == 58 && low?["median_download_mbps"] as? Double == 5, "\(String(describing: low))")
        let below = try await http.get("\(server.baseURL)/v1/status?measurement=below").json()["schools"] as? [[String: Any]]
        #expect(below?.map { $0["name"] as? String } == ["low"])
        let front = try await http.get("\(server.baseURL)/").body
        #expect(front.contains(#"<tr class="below-line" data-school="low">"#) && front.contains("<td>10 %</td>") && !front.contains(#"data-school="fine"><td><a href="/schools/fine">fine</a></td><td class="warn">"#),
                "\(front)")
        // Below on 29 days in a row: still below, in one digest.
        let messages = smtp.messages()
        #expect(messages.count == 1, "\(messages)\n\(server.log)")
        #expect(messages.first?.contains("Subject: [governor] below target: 0 new, 0 recovered, 1 still below (\(today))") == true, "\(messages)")
        #expect(messages.first?.contains("low: median ") == true && messages.first?.contains("fine") == false, "\(messages)")
        #expect(server.stop() == 0)
        // A restart sends it no second time.
        server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        for _ in 0..<40 where !server.log.contains("the daily digest of schools below target is queued") { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(1))
        #expect(smtp.messages().count == 1, "\(smtp.messages())")
        #expect(server.stop() == 0)
    }
}
