import Foundation
import GovernorCore
import GovernorStore
import GovernorTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

@Suite("Probe API, in process")
struct ProbeAPITests {
    @Test("next: the earliest stored run after now, stored before it is served, the same on every ask", arguments: Backend.allCases)
    func next(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let response = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let body = try response.json()
            #expect(body["probe"] as? String == "p1" && body["school"] as? String == "alpha")
            let runAt = try #require(body["run_at_unix"] as? Int)
            #expect(body["run_at"] as? String == RFC3339.format(UnixTime(runAt)))
            #expect(runAt > Int(TestGovernor.start))
            #expect(body["server_time"] as? String == "2026-11-23T08:30:00.000000Z", "to the microsecond")
            let windowStart = try #require(RFC3339.parse(body["window_start"] as! String))
            let windowEnd = try #require(RFC3339.parse(body["window_end"] as! String))
            #expect(windowStart <= runAt && runAt < windowEnd)

            // The run comes from the stored schedule.
            let stored = try await governor.parts.database.inspection.runs(probe: "p1", from: 0, before: .max)
            #expect(stored.contains(UnixTime(runAt)))
            // Asking again gives the same answer; text/plain gives just the Unix time.
            #expect(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int == runAt)
            let plain = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"], accept: "text/plain")
            #expect(plain.text == "\(runAt)\n")
            #expect(plain.headers[.contentType] == "text/plain; charset=utf-8")
        }
    }

    @Test("next moves on as time passes, into windows generated when first asked for", arguments: Backend.allCases)
    func nextAdvances(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            var previous = 0
            var seen: [Int] = []
            // Walk through more than a day of p2's runs: 3 windows a day × 2 runs.
            for _ in 0..<8 {
                let runAt = try #require(try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"]).json()["run_at_unix"] as? Int)
                #expect(runAt > previous)
                seen.append(runAt)
                previous = runAt
                governor.clock.set(Double(runAt) + 40)
            }
            let stored = try await governor.parts.database.inspection.runs(probe: "p2", from: 0, before: .max).map(Int.init)
            #expect(Set(seen).isSubset(of: Set(stored)))
            #expect(seen.count == 8)
        }
    }

    @Test("tokens: missing or wrong is 401, an unknown probe 404; both token forms work")
    func authentication() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            let missing = try await client.get("/v1/probes/p1/next")
            #expect(missing.status == .unauthorized && missing.errorCode == "unauthorized")
            #expect(missing.headers[.wwwAuthenticate] == "Bearer realm=\"governor\"")
            // A wrong token and an unknown id get the same answer, so ids cannot be enumerated.
            let wrong = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p2"])
            let unknown = try await client.get("/v1/probes/p9/next", token: "x")
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong.text == unknown.text && wrong.text.contains("do not match"), "\(wrong.text) / \(unknown.text)")
            // p1 has token_sha256, p2 a plain token.
            #expect(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).status == .ok)
            #expect(try await client.get("/v1/probes/p2/next", token: TestGovernor.tokens["p2"]).status == .ok)
        }
        #expect(governor.parts.contacts.lastContact(of: "p1") == UnixTime(TestGovernor.start))
    }

    @Test("authentication failures are counted, and an address that keeps failing is told to slow down")
    func authFailures() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            for attempt in 1...AuthFailureLimiter.limit {
                let answer = try await client.get("/v1/probes/p\(attempt)/next", token: "guess-\(attempt)")
                #expect(answer.status == .unauthorized)
            }
            let throttled = try await client.get("/v1/probes/p1/next", token: "one-more-guess")
            #expect(throttled.status == .tooManyRequests && throttled.errorCode == "too_many_failures")
            #expect(throttled.headers[.retryAfter] != nil)
            // The right token still works from there: a school's probes share one address.
            #expect(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).status == .ok)
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains("governor_auth_failures_total{reason=\"unknown_probe\"} \(AuthFailureLimiter.limit - 2)"), "\(metrics)")
            #expect(metrics.contains("governor_auth_failures_total{reason=\"wrong_token\"} 3"), "\(metrics)")
            // A minute later the address is trusted again.
            governor.clock.advance(by: 61)
            #expect(try await client.get("/v1/probes/p1/next", token: "another-guess").status == .unauthorized)
        }
    }

    @Test("with require_tokens = no, a probe without a token is served")
    func withoutTokens() async throws {
        let school = "[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = open\n"
        let governor = try await TestGovernor(governor: "require_tokens = no\n", school: school)
        defer { governor.remove() }
        try await governor.test { client throws in
            #expect(try await client.get("/v1/probes/open/next").status == .ok)
        }
    }

    @Test("results: stored with 201, listed newest first, output capped with a flag", arguments: Backend.allCases)
    func results(_ backend: Backend) async throws {
        let governor = try await TestGovernor(governor: "max_output = 16\n", backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let token = TestGovernor.tokens["p1"]
            let first = try await client.post("/v1/probes/p1/results", token: token, body: resultBody(output: "short"))
            #expect(first.status == .created)
            #expect(try first.json()["output_truncated"] as? Bool == false)
            let long = try await client.post("/v1/probes/p1/results", token: token,
                                             body: resultBody(output: "ü" + String(repeating: "x", count: 40), exitCode: 2).replacingOccurrences(of: "\"run_at\":\"2026-11-23T08:40:00Z\"", with: "\"run_at\":\"2026-11-23T09:10:00Z\""))
            #expect(try long.json()["output_truncated"] as? Bool == true)

            let list = try await client.get("/v1/probes/p1/results?limit=5", token: token).json()
            let results = try #require(list["results"] as? [[String: Any]])
            #expect(results.count == 2)
            #expect(results[0]["exit_code"] as? Int == 2 && results[1]["exit_code"] as? Int == 0)
            #expect(results[0]["output"] as? String == "ü" + String(repeating: "x", count: 14))
            #expect(results[1]["started_at"] as? String == "2026-11-23T08:40:00.004Z")
            #expect(results[1]["finished_at"] as? String == "2026-11-23T08:40:35.250Z")
            #expect(results[1]["clock_offset_ms"] as? Double == -2.5)
            #expect(results[1]["run_at"] as? String == "2026-11-23T08:40:00Z" && results[0]["run_at"] as? String == "2026-11-23T09:10:00Z")
            #expect(try await client.get("/v1/probes/p1/results?limit=1", token: token).json()["results"].map { ($0 as! [Any]).count } == 1)
            #expect(try await client.get("/v1/probes/p1/results?limit=0", token: token).status == .badRequest)
        }
    }

    @Test("bad result bodies: 400 naming the field; output past max_output is cut, not refused")
    func badResults() async throws {
        let governor = try await TestGovernor(governor: "max_output = 1KiB\n")
        defer { governor.remove() }
        try await governor.test { client throws in
            let token = TestGovernor.tokens["p1"]
            let malformed = try await client.post("/v1/probes/p1/results", token: token, body: "{not json")
            #expect(malformed.status == .badRequest && malformed.errorCode == "bad_request")
            let missing = try await client.post("/v1/probes/p1/results", token: token, body: "{\"run_at\":\"2026-11-23T08:40:00Z\"}")
            #expect(missing.status == .badRequest)
            #expect((try missing.json()["message"] as? String)?.contains("missing field 'started_at'") == true, "\(missing.text)")
            let badTime = try await client.post("/v1/probes/p1/results", token: token, body: resultBody(runAt: "yesterday"))
            #expect(try badTime.json()["message"] as? String == "'run_at' is 'yesterday'; expected an RFC 3339 time such as 2026-11-23T07:00:00Z")
            // Larger than max_output but not than the hard limit: taken, and cut.
            let large = try await client.post("/v1/probes/p1/results", token: token, body: resultBody(output: String(repeating: "y", count: 200_000)))
            let truncated = try large.json()["output_truncated"] as? Bool
            #expect(large.status == .created && truncated == true)
            let unauthenticated = try await client.post("/v1/probes/p1/results", token: nil, body: resultBody())
            #expect(unauthenticated.status == .unauthorized)
        }
    }

    @Test("status: school, mode, last contact, next run, misses since the last contact, recent results", arguments: Backend.allCases)
    func status(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let token = TestGovernor.tokens["p1"]
            let first = try #require(try await client.get("/v1/probes/p1/next", token: token).json()["run_at_unix"] as? Int)
            _ = try await client.post("/v1/probes/p1/results", token: token, body: resultBody())
            // The alert judgement, which runs every second in `governor serve`, counts the misses.
            let alerts = governor.parts.alertService
            let judged = try await alerts.evaluate(nil)
            var status = try await client.get("/v1/probes/p1").json()
            #expect(status["school"] as? String == "alpha" && status["mode"] as? String == "pull" && status["label"] as? String == "Library")
            #expect(status["last_contact"] as? String == "2026-11-23T08:30:00Z")
            #expect(status["next_run"] as? String == RFC3339.format(UnixTime(first)))
            #expect(status["consecutive_missed"] as? Int == 0 && status["results_24h"] as? Int == 1)

            // The probe falls silent; two of its runs pass, and their grace, without contact.
            let runs = try await governor.parts.database.inspection.runs(probe: "p1", from: UnixTime(first), before: .max)
            _ = try await governor.parts.schedule.nextRun(of: "p1", in: governor.parts.live.snapshot.schools["alpha"]!, after: runs.last!)
            let later = try await governor.parts.database.inspection.runs(probe: "p1", from: UnixTime(first), before: .max)
            #expect(later.count >= 2)
            governor.clock.set(Double(later[1]) + 35 + 61)
            _ = try await alerts.evaluate(judged)
            status = try await client.get("/v1/probes/p1").json()
            #expect(status["consecutive_missed"] as? Int == 2)
        }
    }
}
