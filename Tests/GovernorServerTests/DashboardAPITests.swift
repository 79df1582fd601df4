import CompressNIO
import Foundation
import GovernorCore
import GovernorViews
import GovernorWire
import GovernorTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

@Suite("Dashboard, status and metrics, in process")
struct DashboardAPITests {
    /// p1 reports its first run (4 ms late, exit 0); p2 asks for its next run and
    /// then falls silent; the clock then moves past every run of the first window.
    static func exercise(_ governor: TestGovernor, _ client: any TestClientProtocol) async throws -> (p1Run: String, p2Run: String) {
        let p1 = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()
        let p2 = try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"]).json()
        let p1Run = try #require(p1["run_at"] as? String), p2Run = try #require(p2["run_at"] as? String)
        let started = RFC3339.format(milliseconds: (RFC3339.parse(p1Run)! * 1000) + 4)
        let body = "{\"run_at\":\"\(p1Run)\",\"started_at\":\"\(started)\",\"finished_at\":\"\(started)\",\"exit_code\":0,"
            + "\"output\":\"download 93.1 Mbit/s\\n<upload> 41.0 Mbit/s\",\"clock_offset_ms\":-2.5}"
        #expect(try await client.post("/v1/probes/p1/results", token: TestGovernor.tokens["p1"], body: body).status == .created)
        return (p1Run, p2Run)
    }

    @Test("/v1/status: counts, each probe's last result and today's runs with their outcomes")
    func status() async throws {
        // Seeded: unseeded, both of p1's runs of the first window fall before 08:30 about
        // one time in sixty, and its next run is then not in the window this test reads.
        let governor = try await TestGovernor(governor: "seed = 7\n")
        defer { governor.remove() }
        try await governor.test { client throws in
            let (p1Run, _) = try await Self.exercise(governor, client)
            let early = try JSONDecoder().decode(StatusReport.self, from: Data(try await client.get("/v1/status").text.utf8))
            // At 08:30 (the manual clock has not moved) p1's next run is still the one it was given.
            #expect(early.schools.first?.probes.first?.nextRun == Instant(RFC3339.parse(p1Run)!))
            // 12:00 is the end of the first window: every run of it has started.
            governor.clock.set(Double(RFC3339.parse("2026-11-23T12:00:00Z")!))
            let response = try await client.get("/v1/status")
            #expect(response.status == .ok)
            let report = try JSONDecoder().decode(StatusReport.self, from: Data(response.text.utf8))
            var counts = report.summary
            counts.measurements = nil
            // In process no request has an address: no egress is known.
            #expect(counts.egress?.sharedEgresses == 0 && counts.egress?.identityConflictCount == 0)
            counts.egress = nil
            #expect(counts.incidentsOpen == 0)
            counts.incidentsOpen = nil
            #expect(counts == .init(schools: 1, probes: 2, up: 2, down: 0, neverSeen: 0, outboxPending: 0, outboxFailing: 0))
            // No measurement yet: the one school has no data.
            #expect(report.summary.measurements?.noData == 1 && report.summary.measurements?.measured == 0)
            let school = try #require(report.schools.first)
            #expect(school.name == "alpha" && school.timezone == "UTC")
            let p1 = try #require(school.probes.first { $0.probe == "p1" })
            #expect(p1.label == "Library" && p1.clockOffsetMs == -2.5)
            #expect(p1.lastResult?.latenessMs == 4 && p1.lastResult?.exitCode == 0 && p1.lastResult?.runAt == Instant(RFC3339.parse(p1Run)!))

            // Two runs per probe in the first window: p1's reported one is done; of the others,
            // those before 08:30 (when the window was stored) were never announced and those
            // after it are missed (their test and grace are over at 12:00), silent since then.
            let windowRuns = school.today.runs.filter { $0.runAt < Instant(RFC3339.parse("2026-11-23T12:00:00Z")!) }
            #expect(windowRuns.count == 4)
            #expect(windowRuns.filter { $0.outcome == .done }.map(\.probe) == ["p1"])
            #expect(windowRuns.first { $0.outcome == .done }?.runAt == Instant(RFC3339.parse(p1Run)!))
            #expect(windowRuns.first { $0.outcome == .done }?.resultID == p1.lastResult?.id)
            let stored = Instant(UnixTime(TestGovernor.start))
            for run in windowRuns where run.outcome != .done {
                if run.runAt < stored {
                    #expect(run.outcome == .unannounced && run.reason == nil, "\(run)")
                } else {
                    #expect(run.outcome == .missed && run.reason == .silent, "\(run)")
                }
            }
            #expect(school.today.windows.first?.generated == true)
            // The JSON lists unannounced runs apart from the runs a probe was told about.
            let json = try response.json()
            let today = try #require(((json["schools"] as? [[String: Any]])?.first)?["today"] as? [String: Any])
            let listed = try #require(today["runs"] as? [[String: Any]]), unannounced = try #require(today["unannounced"] as? [[String: Any]])
            #expect(listed.allSatisfy { $0["outcome"] as? String != "unannounced" })
            #expect(unannounced.count == school.today.runs.count { $0.outcome == .unannounced })
            #expect(unannounced.allSatisfy { $0["outcome"] as? String == "unannounced" })
        }
    }

    @Test("/v1/status encoded a school at a time is, byte for byte, the report encoded whole")
    func statusEncodedInParts() async throws {
        let governor = try await TestGovernor(otherSchools: OperatorAPITests.manySchools())
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await Self.exercise(governor, client)
            let served = try await client.get("/v1/status?limit=5")
            var report = try JSONDecoder().decode(StatusReport.self, from: Data(served.text.utf8))
            #expect(report.schools.count == 5)
            let whole = try GovernorRequestContext.makeEncoder().encode(report)
            #expect(Data(served.text.utf8) == whole)
            // A string in the envelope that looks like the schools array does not mislead the splice.
            report.version = #"0.0 "schools":[] \"schools\":[]"#
            for schools in [report.schools, [], Array(report.schools.prefix(1))] {
                report.schools = schools
                let parts = try StatusResponse(report: report).encoded()
                #expect(Data(parts.readableBytesView) == (try GovernorRequestContext.makeEncoder().encode(report)), "\(schools.count) schools")
            }
        }
    }

    @Test("pages, JSON and metrics are gzipped for clients that accept it; small answers and refusing clients get plain text")
    func compression() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await Self.exercise(governor, client)
            for path in ["/", "/schools/alpha", "/v1/status", "/metrics", "/openapi.json"] {
                let plain = try await client.get(path)
                let zipped = try await client.execute(uri: path, method: .get, headers: [.acceptEncoding: "br;q=1, gzip;q=0.8"])
                #expect(plain.headers[.contentEncoding] == nil, "\(path) without Accept-Encoding")
                #expect(zipped.headers[.contentEncoding] == "gzip" && zipped.headers[values: .vary].contains("Accept-Encoding"), "\(path)")
                var body = zipped.body
                let unzipped = try body.decompress(with: .gzip())
                #expect(zipped.body.readableBytes < plain.body.readableBytes, "\(path) got smaller")
                // Pages carry the time they were made: compare what does not change.
                #expect(String(buffer: unzipped).prefix(40) == plain.text.prefix(40), "\(path) unzips to the page")
                // (/metrics has counted the plain request in between.)
                #expect(path == "/metrics" || abs(unzipped.readableBytes - plain.body.readableBytes) < 64,
                        "\(path): \(unzipped.readableBytes) vs \(plain.body.readableBytes)")
            }
            let refused = try await client.execute(uri: "/v1/status", method: .get, headers: [.acceptEncoding: "gzip;q=0, identity"])
            #expect(refused.headers[.contentEncoding] == nil && refused.text.hasPrefix("{"))
            // A probe's answer is a few hundred bytes: sent as it is.
            let next = try await client.execute(uri: "/v1/probes/p2/next", method: .get,
                                                headers: [.acceptEncoding: "gzip", .authorization: "Bearer \(TestGovernor.tokens["p2"]!)"])
            #expect(next.status == .ok && next.headers[.contentEncoding] == nil && next.text.hasPrefix("{"))
        }
    }

    @Test("the pages render the state and link each run to its output")
    func pages() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await Self.exercise(governor, client)
            let overview = try await client.get("/")
            #expect(overview.status == .ok)
            #expect(overview.headers[.contentType] == "text/html; charset=utf-8")
            #expect(overview.text.contains("<a href=\"/schools/alpha\">alpha</a>"))
            #expect(!overview.text.contains("data-run-at="), "timelines are on the school pages only")
            // One mark per stored run of today on the school page, unannounced ones included (a run
            // before 08:30 in the 08:00 window; and when p1 had no run left in it, the 12:00 window is stored too).
            let report = try JSONDecoder().decode(StatusReport.self, from: Data(try await client.get("/v1/status").text.utf8))
            let stored = try #require(report.schools.first).today.runs.count
            #expect(stored >= 4)

            let school = try await client.get("/schools/alpha")
            #expect(school.status == .ok)
            #expect(school.text.components(separatedBy: "data-run-at=").count - 1 == stored)
            #expect(school.text.contains("download 93.1 Mbit/s\n&lt;upload&gt; 41.0 Mbit/s"))
            let missing = try await client.get("/schools/beta")
            #expect(missing.status == .notFound && missing.text.contains("No school is named") && missing.text.contains("/schools/alpha"))
        }
    }

    @Test("with admin_token_sha256 set, pages ask for it by basic authentication; scripts send it as a bearer token")
    func operatorToken() async throws {
        let governor = try await TestGovernor(governor: "admin_token_sha256 = \(ProbeToken.sha256Hex("operator-secret"))\n")
        defer { governor.remove() }
        try await governor.test { client throws in
            let refused = try await client.get("/")
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=\"governor\"") == true)
            for path in ["/", "/schools/alpha", "/v1/status", "/metrics"] {
                #expect(try await client.status(path) == .unauthorized, "\(path)")
                #expect(try await client.status(path, token: "operator-secret") == .ok, "\(path)")
                for (credentials, expected) in [("anyone:operator-secret", HTTPResponse.Status.ok), ("anyone:wrong", .unauthorized),
                                                ("operator-secret", .unauthorized)] {
                    let basic = "Basic " + Data(credentials.utf8).base64EncodedString()
                    let response = try await client.execute(uri: path, method: .get, headers: [.authorization: basic])
                    #expect(response.status == expected, "\(path) with \(credentials)")
                }
            }
        }
    }

    @Test("/metrics counts requests by route, runs by outcome (never by school or probe), lateness and reloads")
    func metrics() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await Self.exercise(governor, client)
            _ = try await client.get("/no/such/path")
            #expect(await governor.parts.reloader.reload())
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            let lines = Set(text.split(separator: "\n").map(String.init))
            for expected in [
                "governor_http_requests_total{route=\"/v1/probes/{id}/next\",method=\"GET\",status=\"200\"} 2",
                "governor_http_requests_total{route=\"/v1/probes/{id}/results\",method=\"POST\",status=\"201\"} 1",
                "governor_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
                // One window stored: two runs for each of the two probes.
                "governor_runs_total{outcome=\"scheduled\"} 4",
                "governor_runs_total{outcome=\"done\"} 1",
                "governor_runs_total{outcome=\"missed\"} 0",
                "governor_run_start_lateness_seconds_count{mode=\"pull\"} 1",
                "governor_run_start_lateness_seconds_bucket{mode=\"pull\",le=\"0.005\"} 1",
                "governor_run_start_lateness_seconds_bucket{mode=\"pull\",le=\"0.0025\"} 0",
                "governor_config_reloads_total{result=\"success\"} 1",
                "governor_config_reloads_total{result=\"failure\"} 0",
                "governor_probes{state=\"up\"} 2.0",
                "governor_probes{state=\"down\"} 0.0",
                "governor_outbox_messages 0.0",
                "governor_build_info{version=\"\(GovernorServer.version)\"} 1.0",
            ] {
                #expect(lines.contains(expected), "missing: \(expected)")
            }
            #expect(text.contains("# TYPE governor_http_request_duration_seconds histogram"))
            // A label per school or probe would make a national fleet's scrape tens of
            // thousands of series.
            #expect(!text.contains("school=") && !text.contains("probe="))
        }
    }
}

extension DashboardAPITests {
    @Test("labels: in /v1/schools and /v1/status, which filters by them; the front page groups and filters by a label")
    func labels() async throws {
        let beta = TestGovernor.schoolFile(probes: "p3").replacingOccurrences(of: "name = alpha", with: "name = beta\nlabels = isp=acme-telecom, district=north-7")
            .replacingOccurrences(of: "[Probe p1]\ntoken_sha256 = \(ProbeToken.sha256Hex(TestGovernor.tokens["p1"]!))\nlabel = Library\n[Probe p2]\ntoken = \(TestGovernor.tokens["p2"]!)", with: "[Probe p3]\ntoken = t3")
        let governor = try await TestGovernor(governor: "labels = region=south\n", otherSchools: ["beta.cfg": beta])
        defer { governor.remove() }
        try await governor.test { client throws in
            let schools = try await client.get("/v1/schools").json()["schools"] as? [[String: Any]] ?? []
            #expect(schools.first { $0["school"] as? String == "beta" }?["labels"] as? [String: String]
                == ["region": "south", "isp": "acme-telecom", "district": "north-7"], "\(schools)")
            #expect(schools.first { $0["school"] as? String == "alpha" }?["labels"] as? [String: String] == ["region": "south"])
            let acme = try await client.get("/v1/status?label=isp%3Dacme-telecom").json()["schools"] as? [[String: Any]]
            #expect(acme?.map { $0["name"] as? String } == ["beta"])
            let both = try await client.get("/v1/status?label=region%3Dsouth&label=district%3Dnorth-7").json()["schools"] as? [[String: Any]]
            #expect(both?.map { $0["name"] as? String } == ["beta"])
            let south = try await client.get("/v1/schools?label=region%3Dsouth").json()["schools"] as? [[String: Any]]
            #expect(south?.count == 2)
            let bad = try await client.get("/v1/status?label=isp")
            #expect(bad.status == .badRequest && bad.text.contains("'label' is 'isp'"))
            let page = try await client.get("/?group=isp").text
            #expect(page.contains("Schools by isp") && page.contains(#"<tr class="group-line" data-value="acme-telecom"><td><a href="/?label=isp%3Dacme-telecom">acme-telecom</a></td><td>1</td>"#),
                    "\(page)")
            #expect(page.contains(#"<tr class="group-line" data-value="(none)"><td>(none)</td><td>1</td>"#))
            #expect(page.contains("Group by: <a href=\"/?group=region\">region</a> <b>isp</b>"), "\(page)")
            let filtered = try await client.get("/?label=isp%3Dacme-telecom").text
            #expect(filtered.contains(#"data-school="beta""#) && !filtered.contains(#"<tr class="school-line" data-school="alpha""#))
            #expect(try await client.get("/?group=nope").status == .badRequest)
        }
    }
}
