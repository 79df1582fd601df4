import GovernorCore
import GovernorStore
import Logging

/// Everything that follows a stored result, pull or push: the status views' latest
/// result, the results log, the run counters, the measurements and the egresses.
struct ResultRecorder: Sendable {
    let live: LiveConfiguration
    let latest: LatestResults
    let measurements: MeasurementReadModel
    let egress: EgressReadModel
    let metrics: GovernorMetrics
    let logger: Logger

    func stored(_ result: TestResult) {
        latest.record(result)
        ResultsLog.append(result, to: live.snapshot.governor.resultsLog, logger: logger)
        metrics.runFinished(succeeded: result.failure == nil && result.exitCode == 0)
        metrics.resultRead(result)
        if let point = MeasurementPoint(result), let school = live.snapshot.schools[result.school] {
            measurements.record(point, in: school.timeZone)
        }
        // A result with an exit status ran its test, which the platform counts against the egress.
        if result.exitCode != nil {
            egress.test(of: result.probe, school: result.school, measuredAddress: result.measurement?.clientIP, at: result.receivedAt)
        }
        if let started = result.startedAtMs, let runAt = result.runAt {
            metrics.startLateness(mode: result.mode.rawValue, seconds: Double(started - runAt * 1000) / 1000)
        }
    }
}
