import Foundation
import GovernorCore
import GovernorTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

/// `POST /v1/probes/{id}/results` under what real probes and proxies do: re-sends,
/// large and odd output, and values that cannot be true.
@Suite("Result intake: nothing lost, nothing doubled")
struct ResultIntakeTests {
    static let token = TestGovernor.tokens["p1"]

    static func body(runAt: String = "2026-11-23T08:40:00Z", startedAt: String = "2026-11-23T08:40:00.004Z",
                     finishedAt: String = "2026-11-23T08:40:35.250Z", output: String = "ok", extra: String = "") -> String {
        "{\"run_at\":\"\(runAt)\",\"started_at\":\"\(startedAt)\",\"finished_at\":\"\(finishedAt)\",\"exit_code\":0,"
            + "\"output\":\(JSONText.quoted(output))\(extra)}"
    }

    static func results(_ client: any TestClientProtocol) async throws -> [[String: Any]] {
        try await client.get("/v1/probes/p1/results?limit=1000", token: token).json()["results"] as? [[String: Any]] ?? []
    }

    @Test("a re-sent result is stored once: 200 with the first one's id", arguments: Backend.allCases)
    func resendIsIdempotent(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let first = try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body())
            #expect(first.status == .created)
            let id = try #require(try first.json()["id"] as? Int)
            // The 201 was lost; the probe sends the same result again, and once more.
            for _ in 0..<2 {
                let again = try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body())
                #expect(again.status == .ok)
                #expect(try again.json()["id"] as? Int == id)
            }
            #expect(try await Self.results(client).count == 1)
            // Another run is another result.
            #expect(try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body(runAt: "2026-11-23T09:10:00Z")).status == .created)
            #expect(try await Self.results(client).count == 2)
        }
    }

    @Test("ad-hoc runs carry their own idempotency key", arguments: Backend.allCases)
    func adHocKeys(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let one = Self.body(extra: ",\"idempotency_key\":\"run-now-1\"")
            let first = try await client.post("/v1/probes/p1/results", token: Self.token, body: one)
            #expect(first.status == .created)
            let again = try await client.post("/v1/probes/p1/results", token: Self.token, body: one)
            let firstID = try first.json()["id"] as? Int, againID = try again.json()["id"] as? Int
            #expect(again.status == .ok && againID == firstID && firstID != nil)
            // Same second, another ad-hoc run, and the scheduled run of that second: three results.
            #expect(try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body(extra: ",\"idempotency_key\":\"run-now-2\"")).status == .created)
            #expect(try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body()).status == .created)
            #expect(try await Self.results(client).count == 3)
        }
    }

    @Test("output with NUL characters is kept whole, the NULs shown as ␀", arguments: Backend.allCases)
    func nulIsNotACut(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let posted = try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body(output: "before\u{0}after\u{0}"))
            #expect(posted.status == .created)
            #expect(try posted.json()["output_truncated"] as? Bool == false)
            let stored = try #require(try await Self.results(client).first)
            #expect(stored["output"] as? String == "before\u{2400}after\u{2400}")
            #expect(stored["output_truncated"] as? Bool == false)
        }
    }

    @Test("any output a probe may send is taken and cut to max_output; only bodies past the hard limit get 413")
    func largeOutput() async throws {
        let governor = try await TestGovernor(governor: "max_output = 64KiB\n")
        defer { governor.remove() }
        try await governor.test { client throws in
            // The probe's own limit is 1 MiB; control characters escape to six bytes each in JSON.
            let megabyte = String(repeating: "\u{1}", count: 1 << 20)
            let posted = try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body(output: megabyte))
            #expect(posted.status == .created, "\(posted.text.prefix(300))")
            #expect(try posted.json()["output_truncated"] as? Bool == true)
            let stored = try #require(try await Self.results(client).first)
            #expect((stored["output"] as? String)?.utf8.count == 64 * 1024)

            let huge = String(repeating: "y", count: ResultLimits.maxBodyBytes + 1)
            let refused = try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body(runAt: "2026-11-23T09:00:00Z", output: huge))
            #expect(refused.status == .contentTooLarge && refused.errorCode == "result_too_large")
        }
    }

    @Test("the probe's own cut is stored as output_truncated", arguments: Backend.allCases)
    func probeCutIsFlagged(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let posted = try await client.post("/v1/probes/p1/results", token: Self.token, body: Self.body(output: "first MiB…", extra: ",\"output_truncated\":true"))
            #expect(posted.status == .created)
            #expect(try posted.json()["output_truncated"] as? Bool == true)
            #expect(try await Self.results(client).first?["output_truncated"] as? Bool == true)
        }
    }

    @Test("values that cannot be true are refused with result_unacceptable, naming the field", arguments: [
        (body(runAt: "0001-01-01T00:00:00Z"), "run_at"),
        (body(runAt: "9999-12-31T23:59:59Z"), "run_at"),
        (body(startedAt: "2126-11-23T08:40:00Z"), "started_at"),
        (body(finishedAt: "2026-11-23T08:39:00Z"), "finished_at"),
        (body(extra: ",\"clock_offset_ms\":1e308"), "clock_offset_ms"),
        (body(extra: ",\"clock_offset_ms\":-90000000"), "clock_offset_ms"),
        (body().replacingOccurrences(of: "\"exit_code\":0", with: "\"exit_code\":99999"), "exit_code"),
    ])
    func impossibleValues(body: String, field: String) async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            let refused = try await client.post("/v1/probes/p1/results", token: Self.token, body: body)
            #expect(refused.status == .badRequest && refused.errorCode == "result_unacceptable", "\(refused.text)")
            #expect((try refused.json()["message"] as? String)?.contains("'\(field)'") == true, "\(refused.text)")
            #expect(try await Self.results(client).isEmpty)
        }
    }
}
