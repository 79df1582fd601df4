import GovernorCore
import GovernorDashboard
import GovernorStore
import Hummingbird

/// `GET /v1/probes/{id}`, and each probe of `GET /v1/schools`: the probe's row of
/// ``FleetStatus``, with its school and how many results it sent in 24 hours.
struct ProbeStatus: ResponseEncodable, Decodable, Sendable {
    var probe: String
    var school: String
    var mode: ProbeConfig.Mode
    var label: String?
    var address: String?
    var lastContact: String?
    var nextRun: String?
    var consecutiveMissed: Int
    var results24h: Int
    /// UP, DOWN (after `[Alerts] missed_runs` missed runs in a row) or NEVER SEEN.
    var status: ProbeState
    var statusSince: String?
    var lastResult: ResultSummary?
    var clockOffsetMs: Double?

    init(_ row: ProbeRow, of config: ProbeConfig, school: String, results24h: Int) {
        probe = row.probe
        self.school = school
        mode = config.mode
        label = row.label
        address = row.address
        lastContact = row.lastContact.map { RFC3339.format($0.unixTime) }
        nextRun = row.nextRun.map { RFC3339.format($0.unixTime) }
        consecutiveMissed = row.consecutiveMissed
        self.results24h = results24h
        status = row.state
        statusSince = row.stateSince.map { RFC3339.format($0.unixTime) }
        lastResult = row.lastResult
        clockOffsetMs = row.clockOffsetMs
    }

    enum CodingKeys: String, CodingKey {
        case probe, school, mode, label, address, status
        case statusSince = "status_since"
        case lastContact = "last_contact"
        case nextRun = "next_run"
        case consecutiveMissed = "consecutive_missed"
        case results24h = "results_24h"
        case lastResult = "last_result"
        case clockOffsetMs = "clock_offset_ms"
    }
}

/// `GET /v1/schools`.
struct SchoolList: ResponseEncodable, Decodable, Sendable {
    struct School: Codable, Sendable {
        var school: String
        var timezone: String
        var file: String
        var probes: [ProbeStatus]
    }

    var page: StatusReport.Page
    var schools: [School]
}

/// The body of `POST /v1/probes/{id}/results`.
struct ResultReport: Decodable, Sendable {
    var runAt: String
    var startedAt: String
    var finishedAt: String
    var exitCode: Int
    var output: String
    var clockOffsetMs: Double?
    /// The probe cut the output at its own limit.
    var outputTruncated: Bool?
    /// An ad-hoc run's own identity (`governor-probe run-now`); a scheduled run's is its `run_at`.
    var idempotencyKey: String?

    /// In the order of the fields, so that the first missing one is reported first.
    enum CodingKeys: String, CodingKey {
        case runAt = "run_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case output
        case clockOffsetMs = "clock_offset_ms"
        case outputTruncated = "output_truncated"
        case idempotencyKey = "idempotency_key"
    }
}

/// A stored result as the API shows it.
struct ResultView: Codable, Sendable {
    var id: Int64
    var probe: String
    var school: String
    var mode: ProbeConfig.Mode
    var runAt: String?
    var startedAt: String?
    var finishedAt: String?
    var exitCode: Int?
    var failure: String?
    var output: String
    var outputTruncated: Bool
    var clockOffsetMs: Double?
    var receivedAt: String

    enum CodingKeys: String, CodingKey {
        case id, probe, school, mode, failure, output
        case runAt = "run_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case outputTruncated = "output_truncated"
        case clockOffsetMs = "clock_offset_ms"
        case receivedAt = "received_at"
    }

    init(_ result: TestResult) {
        id = result.id ?? 0
        probe = result.probe
        school = result.school
        mode = result.mode
        runAt = result.runAt.map { RFC3339.format($0) }
        startedAt = result.startedAtMs.map { RFC3339.format(milliseconds: $0) }
        finishedAt = result.finishedAtMs.map { RFC3339.format(milliseconds: $0) }
        exitCode = result.exitCode
        failure = result.failure
        output = result.output
        outputTruncated = result.outputTruncated
        clockOffsetMs = result.clockOffsetMs
        receivedAt = RFC3339.format(result.receivedAt)
    }
}

/// `GET /v1/probes/{id}/results`.
struct ResultList: ResponseEncodable, Decodable, Sendable {
    var probe: String
    var results: [ResultView]
}

/// `GET /v1/probes/{id}/runs`: the probe's lease, the announced runs it may run
/// without asking again, and the runs withdrawn since it leased them.
struct RunLease: ResponseEncodable, Decodable, Sendable {
    var probe: String
    var school: String
    var serverTime: String
    var leaseUntil: String
    var leaseUntilUnix: Int64
    var runs: [LeasedRun]
    var cancelled: [Cancelled]

    struct LeasedRun: Codable, Sendable, Equatable {
        var runAt: String
        var runAtUnix: Int64

        enum CodingKeys: String, CodingKey {
            case runAt = "run_at"
            case runAtUnix = "run_at_unix"
        }
    }

    struct Cancelled: Codable, Sendable, Equatable {
        var runAt: String
        var runAtUnix: Int64
        var reason: String

        enum CodingKeys: String, CodingKey {
            case reason
            case runAt = "run_at"
            case runAtUnix = "run_at_unix"
        }
    }

    enum CodingKeys: String, CodingKey {
        case probe, school, runs, cancelled
        case serverTime = "server_time"
        case leaseUntil = "lease_until"
        case leaseUntilUnix = "lease_until_unix"
    }
}

/// The answer to a stored result.
///
/// The acknowledgement names the stored result and echoes the run it belongs to
/// (`run_at`, and an ad-hoc run's `idempotency_key`): a probe deletes a queued result
/// only on an answer that matches it, never on any 200 (a captive portal's page).
struct ResultCreated: ResponseEncodable, Decodable, Sendable {
    var id: Int64
    var outputTruncated: Bool
    var runAt: String
    var idempotencyKey: String?

    enum CodingKeys: String, CodingKey {
        case id
        case outputTruncated = "output_truncated"
        case runAt = "run_at"
        case idempotencyKey = "idempotency_key"
    }
}

/// `GET /healthz`.
struct Health: ResponseEncodable, Decodable, Sendable {
    var status: String
    var schools: Int
    var probes: Int
    var version: String
    var uptimeSeconds: Int

    enum CodingKeys: String, CodingKey {
        case status, schools, probes, version
        case uptimeSeconds = "uptime_s"
    }
}

/// `GET /v1/schools/{name}/schedule`: one school of `governor schedule --json`.
struct SchoolSchedule: ResponseEncodable, Sendable {
    var document: ScheduleDocument.School

    func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
    }
}
