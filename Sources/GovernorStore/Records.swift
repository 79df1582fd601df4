public import GovernorCore

// The records both backends store and the server reads: plain values, with no
// driver's conformances (each backend maps them to its own rows).

/// One alert email waiting in (or delivered from) the outbox.
public struct OutboxMessage: Codable, Sendable, Equatable {
    public var id: Int64?
    /// Without angle brackets; the same on every delivery attempt.
    public var messageId: String
    public var sender: String
    public var recipients: String
    public var subject: String
    public var body: String
    public var createdAt: Int64
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var sentAt: Int64?
    public var lastError: String?

    public init(messageId: String, sender: String, recipients: [String], subject: String, body: String, createdAt: Int64) {
        self.messageId = messageId
        self.sender = sender
        self.recipients = recipients.joined(separator: ",")
        self.subject = subject
        self.body = body
        self.createdAt = createdAt
        self.attempts = 0
        self.nextAttemptAt = createdAt
    }

    public var recipientList: [String] { recipients.split(separator: ",").map(String.init) }

}

/// A stored run with the bounds of its window.
public struct StoredRun: Sendable, Hashable {
    public var school: String
    public var probe: String
    public var runAt: UnixTime
    public var windowStart: UnixTime
    public var windowEnd: UnixTime

    public init(school: String, probe: String, runAt: UnixTime, windowStart: UnixTime, windowEnd: UnixTime) {
        self.school = school
        self.probe = probe
        self.runAt = runAt
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }
}

/// A stored window: its schedule and when it was stored. Runs before `generatedAt`
/// were never announced to anyone.
public struct StoredWindow: Sendable, Equatable {
    public var scheduled: ScheduledWindow
    public var generatedAt: UnixTime

    public init(scheduled: ScheduledWindow, generatedAt: UnixTime) {
        self.scheduled = scheduled
        self.generatedAt = generatedAt
    }

    public var bounds: WindowBounds { scheduled.bounds }
    public var runs: [ScheduledRun] { scheduled.runs }
}

/// A window to store: its school's name, its schedule and the fingerprint of the
/// school's timing it was generated from.
public struct NewWindow: Sendable {
    public var school: String
    public var window: ScheduledWindow
    public var fingerprint: String

    public init(school: String, window: ScheduledWindow, fingerprint: String) {
        self.school = school
        self.window = window
        self.fingerprint = fingerprint
    }
}

/// Where a push run stands with the dispatcher.
public enum DispatchState: String, Sendable, Codable {
    /// Claimed: the dispatcher is connecting, waiting for the run time or running the test.
    case started
    /// The test ran (successfully or not) and its result is stored.
    case done
    /// The run time had passed by more than `max_lateness` when the dispatcher saw it.
    case skipped
    /// The governor stopped while the test was in flight; it is not run again.
    case interrupted
}

/// A push run's claim as stored, for copying a state elsewhere.
public struct DispatchRecord: Sendable, Equatable {
    public var probe: String
    public var runAt: UnixTime
    public var school: String
    public var state: String
    public var claimedAt: UnixTime
    public var resultId: Int64?
    public var claimedBy: String?

    public init(probe: String, runAt: UnixTime, school: String, state: String, claimedAt: UnixTime, resultId: Int64?, claimedBy: String?) {
        self.probe = probe
        self.runAt = runAt
        self.school = school
        self.state = state
        self.claimedAt = claimedAt
        self.resultId = resultId
        self.claimedBy = claimedBy
    }
}

/// A stored window with what only a copy needs: its fingerprint and when it was stored.
public struct ExportedWindow: Sendable, Equatable {
    public var new: NewWindow
    public var generatedAt: UnixTime

    public init(new: NewWindow, generatedAt: UnixTime) {
        self.new = new
        self.generatedAt = generatedAt
    }
}

extension NewWindow: Equatable {
    public static func == (a: NewWindow, b: NewWindow) -> Bool {
        a.school == b.school && a.window == b.window && a.fingerprint == b.fingerprint
    }
}

/// A run by its probe and time: how results are matched to scheduled runs.
public struct RunResultKey: Hashable, Sendable {
    public var probe: String
    public var runAt: UnixTime

    public init(probe: String, runAt: UnixTime) {
        self.probe = probe
        self.runAt = runAt
    }
}

/// A stored result as the run judgement needs it.
public struct StoredRunResult: Sendable, Equatable {
    public var id: Int64
    public var facts: RunJudgement.ResultFacts

    public init(id: Int64, facts: RunJudgement.ResultFacts) {
        self.id = id
        self.facts = facts
    }
}

/// The outcome of one test, from a pull probe's report or a push dispatch.
public struct TestResult: Codable, Sendable, Equatable {
    public var id: Int64?
    public var probe: String
    public var school: String
    public var mode: ProbeConfig.Mode
    /// The scheduled time the test belongs to, when known.
    public var runAt: Int64?
    public var startedAtMs: Int64?
    public var finishedAtMs: Int64?
    public var exitCode: Int?
    /// Why the test did not run or did not finish (push dispatch failures).
    public var failure: String?
    public var output: String
    public var outputTruncated: Bool
    /// The probe's clock minus the governor's, as the probe estimated it.
    public var clockOffsetMs: Double?
    public var receivedAt: Int64
    /// What makes a re-sent result the same result: `run:RUN_AT` for a scheduled
    /// run of a pull probe, `key:KEY` for an ad-hoc run with the probe's own key; nil
    /// for push results, which their dispatch claim makes unique.
    public var idempotencyKey: String?
    /// The probe's own spawn lateness (spawn minus run time, on the probe's clock), as it
    /// reported it; nil for push results and for probes that do not report it.
    public var probeStartLatenessMs: Double?
    /// The probe's `[Group NAME]` when the result is of a group run: the results of
    /// one group run share their school, group and run time.
    public var group: String?
    /// What the test measured, read from its output at intake; stored in its own table,
    /// in the transaction that stores the result.
    public var measurement: SpeedMeasurement?

    /// The stored columns; the measurement has a table of its own.
    enum CodingKeys: String, CodingKey {
        case id, probe, school, mode, runAt, startedAtMs, finishedAtMs, exitCode, failure, output, outputTruncated, clockOffsetMs, receivedAt
        case idempotencyKey, probeStartLatenessMs
        case group = "groupName"
    }

    public init(
        id: Int64? = nil, probe: String, school: String, mode: ProbeConfig.Mode, runAt: Int64?, startedAtMs: Int64?,
        finishedAtMs: Int64?, exitCode: Int?, failure: String? = nil, output: String, outputTruncated: Bool,
        clockOffsetMs: Double?, receivedAt: Int64, idempotencyKey: String? = nil, probeStartLatenessMs: Double? = nil,
        measurement: SpeedMeasurement? = nil, group: String? = nil
    ) {
        self.group = group
        self.measurement = measurement
        self.id = id
        self.probe = probe
        self.school = school
        self.mode = mode
        self.runAt = runAt
        self.startedAtMs = startedAtMs
        self.finishedAtMs = finishedAtMs
        self.exitCode = exitCode
        self.failure = failure
        self.output = output
        self.outputTruncated = outputTruncated
        self.clockOffsetMs = clockOffsetMs
        self.receivedAt = receivedAt
        self.idempotencyKey = idempotencyKey
        self.probeStartLatenessMs = probeStartLatenessMs
    }

    /// `startedAtMs` minus the run time: when the test began by the result's own
    /// timestamp, against the run it belongs to; nil when either is unknown.
    public var latenessMs: Int64? {
        guard let startedAtMs, let runAt else { return nil }
        let (scheduled, overflow) = runAt.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (late, overflowLate) = startedAtMs.subtractingReportingOverflow(scheduled)
        return overflowLate ? nil : late
    }

}

extension TestResult {
    /// When the test was measured (milliseconds): its start, else its run time, else
    /// when its result came.
    public var measuredAtMs: Int64 {
        if let startedAtMs { return startedAtMs }
        if let runAt, case (let ms, false) = runAt.multipliedReportingOverflow(by: 1000) { return ms }
        return receivedAt.multipliedReportingOverflow(by: 1000).overflow ? 0 : receivedAt * 1000
    }

    /// Its measurement as a row, once it has an id.
    public var storedMeasurement: StoredMeasurement? {
        guard let id, let measurement else { return nil }
        return StoredMeasurement(resultID: id, probe: probe, school: school, measuredAtMs: measuredAtMs, measurement: measurement, runAt: runAt,
                                 group: group)
    }
}

/// A measurement as stored: keyed by its result, with its probe, school and time.
public struct StoredMeasurement: Sendable, Equatable {
    public var resultID: Int64
    public var probe: String
    public var school: String
    public var measuredAtMs: Int64
    public var measurement: SpeedMeasurement
    /// The scheduled run its test belongs to (seconds), when it has one.
    public var runAt: Int64?
    /// The `[Group NAME]` of a group run: the measurements of one group run share their
    /// school, group and `runAt`.
    public var group: String?

    public init(resultID: Int64, probe: String, school: String, measuredAtMs: Int64, measurement: SpeedMeasurement, runAt: Int64? = nil,
                group: String? = nil) {
        self.resultID = resultID
        self.probe = probe
        self.school = school
        self.measuredAtMs = measuredAtMs
        self.measurement = measurement
        self.runAt = runAt
        self.group = group
    }
}

/// What the read model keeps of a measurement: its school, time and throughput,
/// and the group run it is part of.
public struct MeasurementPoint: Sendable, Equatable {
    public var resultID: Int64
    public var school: String
    public var measuredAtMs: Int64
    public var downloadMbps: Double?
    public var uploadMbps: Double?
    /// The group and run time of a group run's measurement; nil for a single probe's.
    public var groupRun: GroupRunKey?

    public init(resultID: Int64, school: String, measuredAtMs: Int64, downloadMbps: Double?, uploadMbps: Double?, groupRun: GroupRunKey? = nil) {
        self.resultID = resultID
        self.school = school
        self.measuredAtMs = measuredAtMs
        self.downloadMbps = downloadMbps
        self.uploadMbps = uploadMbps
        self.groupRun = groupRun
    }
}


/// The state database cannot be used; the message names the file and the cause.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
