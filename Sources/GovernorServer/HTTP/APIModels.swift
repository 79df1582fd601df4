import GovernorCore
import GovernorViews
import GovernorStore
import GovernorWire
public import Hummingbird

// The API's messages live in GovernorWire, shared with `governor-probe` and
// `governor status`; here they learn to be answers, and how the server fills them.

extension NextRun: ResponseEncodable {}
extension RunLease: ResponseEncodable {}
extension ResultCreated: ResponseEncodable {}
extension ResultList: ResponseEncodable {}
extension ProbeStatus: ResponseEncodable {}
extension SchoolMeasurements: ResponseEncodable {}
extension SchoolList: ResponseEncodable {}
extension Health: ResponseEncodable {}
extension StatusReport: ResponseEncodable {}
extension SilenceView: ResponseEncodable {}
extension SilenceCreated: ResponseEncodable {}
extension SilenceList: ResponseEncodable {}
extension IncidentView: ResponseEncodable {}
extension IncidentList: ResponseEncodable {}

extension ProbeStatus {
    /// The probe's row of ``FleetStatus``, with its school and its results of 24 hours.
    init(_ row: ProbeRow, of config: ProbeConfig, school: String, results24h: Int) {
        self.init(probe: row.probe, school: school, mode: config.mode, label: row.label, address: row.address,
                  lastContact: row.lastContact.map { RFC3339.format($0.unixTime) }, nextRun: row.nextRun.map { RFC3339.format($0.unixTime) },
                  consecutiveMissed: row.consecutiveMissed, results24h: results24h, status: row.state,
                  statusSince: row.stateSince.map { RFC3339.format($0.unixTime) }, lastResult: row.lastResult, clockOffsetMs: row.clockOffsetMs)
        silenced = row.silenced
        group = row.group
    }
}

extension ResultView {
    init(_ result: TestResult) {
        self.init(id: result.id ?? 0, probe: result.probe, school: result.school, mode: result.mode,
                  runAt: result.runAt.map { RFC3339.format($0) },
                  startedAt: result.startedAtMs.map { RFC3339.format(milliseconds: $0) },
                  finishedAt: result.finishedAtMs.map { RFC3339.format(milliseconds: $0) },
                  exitCode: result.exitCode, failure: result.failure, output: result.output, outputTruncated: result.outputTruncated,
                  clockOffsetMs: result.clockOffsetMs, latenessMs: result.latenessMs, startLatenessMs: result.probeStartLatenessMs,
                  receivedAt: RFC3339.format(result.receivedAt), measurement: result.measurement)
        group = result.group
    }
}

/// `GET /v1/schools/{name}/schedule`: one school of `governor schedule --json`.
struct SchoolSchedule: ResponseEncodable, Sendable {
    var document: ScheduleDocument.School

    func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
    }
}
