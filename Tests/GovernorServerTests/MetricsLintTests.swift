import Foundation
import GovernorCore
import GovernorTestSupport
import GovernorWire
import Testing

@testable import GovernorServer

/// Every metric family the governor can expose, each recorded once, through
/// `promtool check metrics`: Prometheus's own linter reports a family without help,
/// a counter without `_total`, a bad unit, and this suite fails on any of it.
@Suite("The metrics pass Prometheus's linter")
struct MetricsLintTests {
    @Test("promtool check metrics finds nothing to say, and every family carries its help")
    func promtoolFindsNothing() throws {
        let metrics = GovernorMetrics(version: "0.0.0-test", startedAt: 1_764_000_000)
        metrics.requestServed(route: "/v1/probes/{id}/next", method: "GET", status: 200, seconds: 0.0004)
        metrics.runsScheduled(count: 3)
        metrics.runFinished(succeeded: true)
        metrics.runFinished(succeeded: false)
        metrics.runsMissed(count: 1)
        metrics.startLateness(mode: "pull", seconds: 0.002)
        metrics.startLateness(mode: "push", seconds: 0.004)
        metrics.authFailed(reason: "wrong_token")
        metrics.outboxDeliveryFailed()
        metrics.configReloaded(success: true, at: 1_764_000_100)
        var summary = StatusReport.Summary(schools: 2, probes: 3, up: 1, down: 1, neverSeen: 1, outboxPending: 1, outboxFailing: 0)
        summary.measurements = MeasurementOverview(MeasurementKPIs(schools: 2, measured: 1, meetingTarget: 1, contracted: 1, reachingContract: 1, reportedRecently: 1),
                                                   states: [.meets: 1, .noData: 1], complete: true)
        summary.egress = EgressOverview(sharedEgresses: 1, probesSharing: 2, dailyTestsPerEgress: 4, identityConflicts: [], identityConflictCount: 0,
                                        overDailyBudget: [], overDailyBudgetCount: 1)
        summary.incidentsOpen = 1
        metrics.updateGauges(summary)
        metrics.alertmanagerPosted(accepted: true)
        metrics.alertmanagerPosted(accepted: false)
        metrics.alertmanagersUnreachable(1)
        metrics.updatePeakConcurrency([(try #require(LocalDate(year: 2026, month: 12, day: 7)), 2)])
        let text = String(decoding: metrics.exposition(), as: UTF8.self)

        let families = Set(text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("# TYPE ") else { return nil }
            return line.split(separator: " ").dropFirst(2).first.map(String.init)
        })
        #expect(families == Set(GovernorMetrics.help.keys), "every family recorded, each with its help text")

        let directory = try TemporaryDirectory("governor-promtool")
        defer { directory.remove() }
        let file = try directory.write("metrics.txt", text)
        let lint = try runProcess("/bin/sh", ["-c", "exec \"$0\" check metrics < \"$1\" 2>&1", try Executables.onPath("promtool"), file])
        #expect(lint.status == 0 && lint.stdout.isEmpty, "promtool check metrics:\n\(lint.stdout)\(lint.stderr)")
    }
}
