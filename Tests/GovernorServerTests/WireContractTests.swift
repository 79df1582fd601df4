import Foundation
import GovernorCore
import GovernorTestSupport
import GovernorWire
import HummingbirdTesting
import Testing

@testable import GovernorServer

/// The server's answers are the wire types' encodings: the hand-written `/next` body
/// included, and the probe's start lateness, once dropped, stored and shown.
@Suite("The server speaks the wire types")
struct WireContractTests {
    @Test("the hand-written /next body is exactly NextRun's encoding: no key more, none less")
    func nextBodyIsNextRun() async throws {
        let governor = try await TestGovernor()
        defer { governor.remove() }
        try await governor.test { client throws in
            let body = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).text
            let next = try JSONDecoder().decode(NextRun.self, from: Data(body.utf8))
            let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(next)) as? NSDictionary
            let sent = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? NSDictionary
            #expect(again == sent, "\(body)")
            #expect(next.probe == "p1" && next.school == "alpha")
        }
    }

    @Test("start_lateness_ms is stored beside the lateness from started_at, and shown in results and status", arguments: Backend.allCases)
    func probeStartLateness(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let token = TestGovernor.tokens["p1"]
            let report = ResultReport(runAt: "2026-11-23T08:40:00Z", startedAt: "2026-11-23T08:40:00.004Z", finishedAt: "2026-11-23T08:40:35.250Z",
                                      exitCode: 0, output: "download 93.1 Mbit/s", clockOffsetMs: -2.5, startLatenessMs: 0.75)
            let posted = try await client.post("/v1/probes/p1/results", token: token, body: String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
            #expect(posted.status == .created, "\(posted.text)")
            let created = try JSONDecoder().decode(ResultCreated.self, from: Data(posted.text.utf8))
            #expect(created.runAt == "2026-11-23T08:40:00Z")

            let list = try JSONDecoder().decode(ResultList.self, from: Data(try await client.get("/v1/probes/p1/results", token: token).text.utf8))
            let stored = try #require(list.results.first)
            #expect(stored.startLatenessMs == 0.75)
            #expect(stored.latenessMs == 4)

            let status = try JSONDecoder().decode(ProbeStatus.self, from: Data(try await client.get("/v1/probes/p1", token: token).text.utf8))
            #expect(status.lastResult?.startLatenessMs == 0.75 && status.lastResult?.latenessMs == 4)

            var absurd = report
            absurd.startLatenessMs = 1e300
            absurd.runAt = "2026-11-23T09:10:00Z"
            let refused = try await client.post("/v1/probes/p1/results", token: token, body: String(decoding: try JSONEncoder().encode(absurd), as: UTF8.self))
            #expect(refused.status == .badRequest && refused.text.contains("start_lateness_ms"), "\(refused.text)")
        }
    }
}
