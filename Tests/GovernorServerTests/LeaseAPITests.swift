import Foundation
import GovernorCore
import GovernorStore
import GovernorTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

@Suite("Run leases: a probe's announced runs up to a horizon, and the runs withdrawn since")
struct LeaseAPITests {
    static func runTimes(_ json: [String: Any], _ key: String = "runs") -> [Int] {
        (json[key] as? [[String: Any]] ?? []).compactMap { $0["run_at_unix"] as? Int }
    }

    @Test("runs up to the horizon (at most lease_horizon), each stored, the first the same as next; a bad horizon is a 400",
          arguments: Backend.allCases)
    func lease(_ backend: Backend) async throws {
        let governor = try await TestGovernor(governor: "lease_horizon = 12h\n", backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let now = Int(TestGovernor.start)
            let token = TestGovernor.tokens["p1"]
            let lease = try await client.get("/v1/probes/p1/runs", token: token).json()
            let runs = Self.runTimes(lease)
            #expect(lease["lease_until_unix"] as? Int == now + 12 * 3600, "the governor's lease_horizon bounds the default")
            #expect(runs.count >= 3 && runs == runs.sorted() && runs.allSatisfy { $0 > now && $0 <= now + 12 * 3600 }, "\(runs)")
            let stored = try await governor.parts.database.inspection.runs(probe: "p1", from: UnixTime(now + 1), before: UnixTime(now + 12 * 3600 + 1))
            #expect(stored.map(Int.init) == runs, "every leased run is stored: a fact")
            #expect(try await client.get("/v1/probes/p1/next", token: token).json()["run_at_unix"] as? Int == runs.first)

            let short = Self.runTimes(try await client.get("/v1/probes/p1/runs?horizon=14400", token: token).json())
            #expect(short == runs.filter { $0 <= now + 14_400 })
            #expect(try await client.get("/v1/probes/p1/runs?horizon=9999999", token: token).json()["lease_until_unix"] as? Int == now + 12 * 3600)
            let bad = try await client.get("/v1/probes/p1/runs?horizon=-5", token: token)
            #expect(bad.status == .badRequest && bad.errorCode == "bad_request")
            #expect(try await client.status("/v1/probes/p1/runs", token: "wrong") == .unauthorized)
        }
    }

    @Test("runs withdrawn after they were leased are listed with why: a probe moved, a day closed", arguments: Backend.allCases)
    func cancelled(_ backend: Backend) async throws {
        let beta = "[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = b1\n[Probe b1]\ntoken = b1-token\n"
        let governor = try await TestGovernor(otherSchools: ["beta.cfg": beta], backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let p1 = Self.runTimes(try await client.get("/v1/probes/p1/runs", token: TestGovernor.tokens["p1"]).json())
            let p2 = Self.runTimes(try await client.get("/v1/probes/p2/runs", token: TestGovernor.tokens["p2"]).json())
            #expect(p1.count > 2 && p2.count > 2)

            // p2 moves to beta; alpha closes today (Monday 2026-11-23).
            try governor.directory.write("schools/alpha.cfg", TestGovernor.schoolFile(probes: "p1")
                .replacingOccurrences(of: "timezone = UTC", with: "timezone = UTC\nclosed = 2026-11-23")
                .replacingOccurrences(of: "[Probe p2]\ntoken = \(TestGovernor.tokens["p2"]!)\n", with: ""))
            try governor.directory.write("schools/beta.cfg", beta.replacingOccurrences(of: "ids = b1", with: "ids = b1 p2")
                + "[Probe p2]\ntoken = \(TestGovernor.tokens["p2"]!)\n")
            #expect(await governor.parts.reloader.reload())

            let moved = try await client.get("/v1/probes/p2/runs", token: TestGovernor.tokens["p2"]).json()
            let withdrawn = Self.runTimes(moved, "cancelled")
            #expect(Set(p2).isSubset(of: withdrawn) && withdrawn == withdrawn.sorted(), "every run of its old school: \(withdrawn)")
            #expect((moved["cancelled"] as? [[String: Any]])?.allSatisfy { $0["reason"] as? String == "moved to another school" } == true)
            #expect(moved["school"] as? String == "beta")

            let closed = try await client.get("/v1/probes/p1/runs", token: TestGovernor.tokens["p1"]).json()
            // Monday's windows end at 08:00 on Tuesday (the overnight window is Monday's).
            let endOfToday = Int(TestGovernor.start) + 23 * 3600 + 1800
            let todays = p1.filter { $0 < endOfToday && $0 != p1[0] }
            #expect(Self.runTimes(closed, "cancelled") == todays, "Monday's runs but the one it was told at its last contact")
            #expect((closed["cancelled"] as? [[String: Any]])?.first?["reason"] as? String == "school 'alpha' closed: closed")
            #expect(Self.runTimes(closed).first == p1[0], "that one is a fact")
            #expect(Self.runTimes(closed).dropFirst().allSatisfy { $0 >= endOfToday }, "then the runs after the closure")
        }
    }
}
