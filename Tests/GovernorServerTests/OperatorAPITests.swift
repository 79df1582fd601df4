import Foundation
import GovernorCore
import GovernorStore
import GovernorTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

@Suite("Operator API, in process")
struct OperatorAPITests {
    @Test("schools list every probe with its status", arguments: Backend.allCases)
    func schools(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"])
            let body = try await client.get("/v1/schools").json()
            let schools = try #require(body["schools"] as? [[String: Any]])
            #expect(schools.count == 1 && schools[0]["school"] as? String == "alpha" && schools[0]["timezone"] as? String == "UTC")
            let probes = try #require(schools[0]["probes"] as? [[String: Any]])
            #expect(probes.map { $0["probe"] as! String } == ["p1", "p2"])
            #expect(probes[0]["last_contact"] == nil)
            #expect(probes[1]["last_contact"] as? String == "2026-11-23T08:30:00Z")
        }
    }

    /// Twelve schools beside alpha, of one probe each: `school-00` … `school-11`.
    static func manySchools() -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<12).map { index in
            let name = String(format: "school-%02d", index)
            return ("\(name).cfg", "[School]\nname = \(name)\ntimezone = UTC\n[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 2\n[Probes]\nids = q\(index)\n[Probe q\(index)]\ntoken = token-q\(index)\n")
        })
    }

    @Test("status and schools come a page at a time: every school once, in name order, with exact totals")
    func paging() async throws {
        let governor = try await TestGovernor(otherSchools: Self.manySchools())
        defer { governor.remove() }
        try await governor.test { client throws in
            for path in ["/v1/status", "/v1/schools"] {
                var seen: [String] = [], cursor: String?
                for _ in 0..<10 {
                    let body = try await client.get(path + "?limit=5" + (cursor.map { "&cursor=\($0)" } ?? "")).json()
                    let page = try #require(body["page"] as? [String: Any])
                    #expect(page["matched_schools"] as? Int == 13 && page["matched_probes"] as? Int == 14 && page["limit"] as? Int == 5)
                    let schools = try #require(body["schools"] as? [[String: Any]])
                    seen += schools.compactMap { ($0["name"] ?? $0["school"]) as? String }
                    #expect(schools.count <= 5)
                    cursor = page["next_cursor"] as? String
                    if cursor == nil {
                        #expect(page.keys.contains("next_cursor"), "the last page says so")
                        break
                    }
                }
                #expect(seen == ["alpha"] + (0..<12).map { String(format: "school-%02d", $0) }, "\(path): \(seen)")
            }
            // The default page holds every school of a small fleet.
            let whole = try await client.get("/v1/status").json()
            #expect((whole["schools"] as? [Any])?.count == 13 && (whole["page"] as? [String: Any])?["limit"] as? Int == 50)
        }
    }

    @Test("filters: school= matches part of the name, state= and attention= select probes; totals count the matches")
    func filters() async throws {
        let governor = try await TestGovernor(otherSchools: Self.manySchools())
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"])
            let search = try await client.get("/v1/status?school=SCHOOL-1").json()
            #expect((search["schools"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["school-10", "school-11"])
            #expect((search["page"] as? [String: Any])?["matched_schools"] as? Int == 2)
            // Every view's summary counts the whole fleet, whatever the filter.
            #expect((search["summary"] as? [String: Any])?["probes"] as? Int == 14)

            let up = try await client.get("/v1/schools?state=UP").json()
            let schools = try #require(up["schools"] as? [[String: Any]])
            #expect(schools.count == 1 && (schools[0]["probes"] as? [[String: Any]])?.compactMap { $0["probe"] as? String } == ["p2"])
            #expect((up["page"] as? [String: Any])?["matched_probes"] as? Int == 1)
            let never = try await client.get("/v1/status?state=never_seen&limit=3").json()
            #expect((never["page"] as? [String: Any])?["matched_probes"] as? Int == 13)
            #expect((never["schools"] as? [Any])?.count == 3)
            // Nobody is DOWN, missing runs, failing or off the clock yet.
            let attention = try await client.get("/v1/status?attention=true").json()
            #expect((attention["schools"] as? [Any])?.isEmpty == true && (attention["page"] as? [String: Any])?["next_cursor"] is NSNull)

            // A failed latest result, and a clock off by more than a second, each need attention.
            let failed = try await client.post("/v1/probes/p2/results", token: TestGovernor.tokens["p2"], body: resultBody(exitCode: 3))
            #expect(failed.status == .created)
            let skewed = resultBody(runAt: "2026-11-23T08:41:00Z").replacingOccurrences(of: "\"clock_offset_ms\":-2.5", with: "\"clock_offset_ms\":-2500")
            #expect(try await client.post("/v1/probes/p1/results", token: TestGovernor.tokens["p1"], body: skewed).status == .created)
            let flagged = try await client.get("/v1/status?attention=true").json()
            let flaggedProbes = (flagged["schools"] as? [[String: Any]])?.flatMap { ($0["probes"] as? [[String: Any]]) ?? [] }.compactMap { $0["probe"] as? String }
            #expect(flaggedProbes == ["p1", "p2"] && (flagged["page"] as? [String: Any])?["matched_probes"] as? Int == 2)
            // A good result on time puts p2 back.
            let good = resultBody(runAt: "2026-11-23T08:42:00Z")
            #expect(try await client.post("/v1/probes/p2/results", token: TestGovernor.tokens["p2"], body: good).status == .created)
            let after = try await client.get("/v1/status?attention=true").json()
            #expect((after["page"] as? [String: Any])?["matched_probes"] as? Int == 1)

            for (query, parameter) in [("limit=0", "'limit'"), ("limit=501", "'limit'"), ("limit=ten", "'limit'"), ("state=LOST", "'state'"),
                                       ("attention=maybe", "'attention'")] {
                let response = try await client.get("/v1/status?" + query)
                #expect(response.status == .badRequest && response.text.contains(parameter), "\(query): \(response.text)")
            }
        }
    }

    @Test("schedule: stored windows as stored, the rest as previews, the same shape as governor schedule --json", arguments: Backend.allCases)
    func schedule(_ backend: Backend) async throws {
        let governor = try await TestGovernor(governor: "seed = 7\n", backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            _ = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"])
            let response = try await client.get("/v1/schools/alpha/schedule?date=2026-11-23")
            #expect(response.status == .ok)
            let document = try JSONDecoder().decode(ScheduleDocument.School.self, from: Data(response.text.utf8))
            #expect(document.school == "alpha" && document.testDurationSeconds == 35 && document.delaySeconds == 120)
            #expect(document.windows.map(\.start) == ["2026-11-23T08:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T16:00:00Z"])
            #expect(document.windows.map(\.stored) == [true, false, false])
            // With a seed the server's windows are exactly what `governor schedule --seed` prints.
            let school = governor.parts.live.snapshot.schools["alpha"]!
            let expected = try ScheduleGenerator.schedule(of: school, on: LocalDate(year: 2026, month: 11, day: 23)!, seed: 7)
            #expect(document.windows.map(\.runs) == expected.map { ScheduleDocument.Window($0).runs })

            #expect(try await client.status("/v1/schools/alpha/schedule?date=23-11-2026") == .badRequest)
            #expect(try await client.status("/v1/schools/beta/schedule") == .notFound)
            // Without a date: today in the school's zone.
            let today = try await client.get("/v1/schools/alpha/schedule").json()
            #expect((today["windows"] as? [[String: Any]])?.first?["start"] as? String == "2026-11-23T08:00:00Z")
        }
    }

    @Test("with admin_token_sha256 set, operator endpoints need it; a probe may still read its own status")
    func adminToken() async throws {
        let governor = try await TestGovernor(governor: "admin_token_sha256 = \(ProbeToken.sha256Hex("operator-secret"))\n")
        defer { governor.remove() }
        try await governor.test { client throws in
            #expect(try await client.status("/v1/schools") == .unauthorized)
            #expect(try await client.status("/v1/schools", token: "wrong") == .unauthorized)
            #expect(try await client.status("/v1/schools", token: "operator-secret") == .ok)
            #expect(try await client.status("/v1/schools/alpha/schedule") == .unauthorized)
            #expect(try await client.status("/v1/probes/p1") == .unauthorized)
            #expect(try await client.status("/v1/probes/p1", token: TestGovernor.tokens["p1"]) == .ok)
            #expect(try await client.status("/v1/probes/p1/results", token: TestGovernor.tokens["p2"]) == .unauthorized)
            #expect(try await client.status("/v1/probes/p1/results", token: "operator-secret") == .ok)
            // Health stays open for load balancers and systemd checks.
            #expect(try await client.status("/healthz") == .ok)
        }
    }

    @Test("wrong methods are 405 with Allow, unknown paths a JSON 404")
    func methodsAndPaths() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            for (method, uri, allow) in [(HTTPRequest.Method.post, "/v1/probes/p1/next", "GET"), (.delete, "/v1/schools", "GET"),
                                         (.put, "/v1/probes/p1/results", "GET, POST"), (.post, "/healthz", "GET")] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(response.headers[.allow] == allow)
                #expect(response.errorCode == "method_not_allowed")
            }
            let unknown = try await client.get("/v2/anything")
            #expect(unknown.status == .notFound && unknown.errorCode == "not_found")
        }
    }

    @Test("healthz: 200 with counts when the database takes writes", arguments: Backend.allCases)
    func health(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let response = try await client.get("/healthz")
            #expect(response.status == .ok)
            #expect(try response.json()["status"] as? String == "ok")
            #expect(try response.json()["probes"] as? Int == 2)
            #expect(try response.json()["uptime_s"] as? Int == 0)
        }
        governor.closeState()
        // Each answer is kept a moment, so that polling /healthz does not write on every request.
        governor.clock.advance(by: StateHealth.cacheSeconds)
        try await governor.test { client throws in
            let response = try await client.get("/healthz")
            #expect(response.status == .serviceUnavailable && response.errorCode == "unhealthy")
        }
    }

    @Test("reload: a broken school keeps its old configuration, a removed probe loses its future runs, new probes are served", arguments: Backend.allCases)
    func reload(_ backend: Backend) async throws {
        let beta = "[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = b1\n[Probe b1]\ntoken = b1-token\n"
        let governor = try await TestGovernor(otherSchools: ["beta.cfg": beta], backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let p1Before = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int
            _ = try await client.get("/v1/probes/b1/next", token: "b1-token")
            #expect(try await governor.parts.database.inspection.runs(probe: "b1", from: 0, before: .max).isEmpty == false)

            // alpha becomes invalid; beta swaps b1 for b2.
            try governor.directory.write("schools/alpha.cfg", "[Timing]\nboundaries = 2500\n")
            try governor.directory.write("schools/beta.cfg", beta.replacingOccurrences(of: "b1", with: "b2"))
            #expect(await governor.parts.reloader.reload())

            #expect(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int == p1Before)
            #expect(try await client.status("/v1/probes/b1/next", token: "b1-token") == .unauthorized)
            #expect(try await client.status("/v1/probes/b2/next", token: "b2-token") == .ok)
            let future = try await governor.parts.database.inspection.runs(probe: "b1", from: UnixTime(TestGovernor.start) + 1, before: .max)
            #expect(future.isEmpty)
        }
    }

    @Test("reload: a probe that moves to another school gets that school's runs, not its old school's", arguments: Backend.allCases)
    func probeMoves(_ backend: Backend) async throws {
        let beta = "[Timing]\nboundaries = 0900 1300\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = b1\n[Probe b1]\ntoken = b1-token\n"
        let governor = try await TestGovernor(otherSchools: ["beta.cfg": beta], backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let before = try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"]).json()
            #expect(before["school"] as? String == "alpha")

            try governor.directory.write("schools/alpha.cfg", TestGovernor.schoolFile(probes: "p1"))
            try governor.directory.write("schools/beta.cfg", beta.replacingOccurrences(of: "ids = b1", with: "ids = b1 p2")
                + "[Probe p2]\ntoken = \(TestGovernor.tokens["p2"]!)\n")
            #expect(await governor.parts.reloader.reload())

            let after = try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"]).json()
            #expect(after["school"] as? String == "beta")
            // One of beta's windows: usually the 09:00 one; the overnight one (stored only now,
            // at 08:30) when p2's random run in it falls in its last half hour.
            #expect(["2026-11-23T09:00:00Z", "2026-11-22T13:00:00Z"].contains(after["window_start"] as? String ?? ""), "\(after)")
        }
    }
}
