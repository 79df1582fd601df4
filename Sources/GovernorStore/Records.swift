public import GovernorCore
public import GRDB

/// A row of `window`.
struct WindowRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "window"
    var school: String
    var start: Int64
    var end: Int64
    /// The school's local date and the boundary the window starts at, as generated.
    var localDate: String
    var startBoundary: Int
    var generatedAt: Int64
    var fingerprint: String

    var bounds: WindowBounds {
        WindowBounds(start: start, end: end, localDate: LocalDate(parsing: localDate)!,
                     startBoundary: TimeOfDay(secondsSinceMidnight: startBoundary)!)
    }
}

/// A row of `run`.
struct RunRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "run"
    var id: Int64?
    var school: String
    var windowStart: Int64
    var sequence: Int
    var probe: String
    var runAt: Int64
}

/// A row of `contact`.
struct ContactRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "contact"
    var probe: String
    var lastContact: Int64
}

/// The outcome of one test, from a pull probe's report or a push dispatch.
public struct TestResult: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "result"

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

    public init(
        id: Int64? = nil, probe: String, school: String, mode: ProbeConfig.Mode, runAt: Int64?, startedAtMs: Int64?,
        finishedAtMs: Int64?, exitCode: Int?, failure: String? = nil, output: String, outputTruncated: Bool,
        clockOffsetMs: Double?, receivedAt: Int64, idempotencyKey: String? = nil, probeStartLatenessMs: Double? = nil
    ) {
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

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
