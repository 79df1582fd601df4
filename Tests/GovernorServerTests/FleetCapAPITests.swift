import Foundation
import GovernorCore
import GovernorStore
import GovernorTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

@Suite("The fleet-wide cap in a serving governor")
struct FleetCapAPITests {
    @Test("windows stored by the scheduler and on probes' requests keep the fleet under max_concurrent_tests; /metrics shows each day's peak")
    func capHolds() async throws {
        // 200 schools of 2 probes × 2 runs of 35 s in 4-hour windows: 1.9 at once on average, 2 at most.
        let school = "[Timing]\nboundaries = 0800 1200 1600\nruns_per_period = 2\ndelay = 1\ntest_duration = 35s\novernight = no\n"
        let others = Dictionary(uniqueKeysWithValues: (0..<200).map { index in
            ("s\(index).cfg", school + "[Probes]\nids = s\(index)-a s\(index)-b\n[Probe s\(index)-a]\ntoken = t\n[Probe s\(index)-b]\ntoken = t\n")
        })
        let governor = try await TestGovernor(governor: "max_concurrent_tests = 2\n", otherSchools: others)
        defer { governor.remove() }
        try await governor.test { client throws in
            let parts = governor.parts
            await parts.scheduler.generateDueWindows()
            // Probes ask ahead: the afternoon windows are stored on demand.
            for index in stride(from: 0, to: 200, by: 7) {
                #expect(try await client.get("/v1/probes/s\(index)-a/runs?horizon=28800", token: "t").status == .ok)
            }
            let snapshot = parts.live.snapshot
            var load = FleetLoad()
            for run in try await parts.database.runs(from: 0) {
                load.add(runAt: run.runAt, duration: snapshot.schools[run.school]!.timing.testDurationSeconds)
            }
            let peaks = load.dailyPeaks()
            #expect(!peaks.isEmpty && peaks.allSatisfy { $0.peak <= 2 }, "\(peaks)")
            let metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains("governor_tests_peak_concurrent{day=\"2026-11-23\"} 2"), "\(metrics.split(separator: "\n").filter { $0.contains("peak") })")
        }
    }
}
