/// The messages between a probe and the governor: what `governor-probe` asks, sends
/// and reads back. The server answers with these types and the probe decodes them;
/// the OpenAPI document describes them, and a test holds the two to each other.

/// `GET /v1/probes/{id}/next`: the probe's earliest run after now.
///
/// - Important: the server writes this body by hand on its hot path; a test decodes
///   that body with this type, so the two cannot drift.
public struct NextRun: Codable, Sendable, Equatable {
    public var probe: String
    public var school: String
    public var runAt: String
    public var runAtUnix: Int64
    public var windowStart: String
    public var windowEnd: String
    /// The governor's clock when it answered, to the microsecond: the probe's clock check.
    public var serverTime: String
    /// The probe's `[Group NAME]`: the run is a group run, which the probe starts at the
    /// governor's instant (its own clock corrected by its offset estimate).
    public var group: String?

    public init(probe: String, school: String, runAt: String, runAtUnix: Int64, windowStart: String, windowEnd: String, serverTime: String,
                group: String? = nil) {
        self.group = group
        self.probe = probe
        self.school = school
        self.runAt = runAt
        self.runAtUnix = runAtUnix
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.serverTime = serverTime
    }

    enum CodingKeys: String, CodingKey {
        case probe, school, group
        case runAt = "run_at"
        case runAtUnix = "run_at_unix"
        case windowStart = "window_start"
        case windowEnd = "window_end"
        case serverTime = "server_time"
    }
}

/// `GET /v1/probes/{id}/runs`: the probe's lease, the announced runs it may run
/// without asking again, and the runs withdrawn since it leased them.
public struct RunLease: Codable, Sendable, Equatable {
    public var probe: String
    public var school: String
    public var serverTime: String
    public var leaseUntil: String
    public var leaseUntilUnix: Int64
    public var runs: [LeasedRun]
    public var cancelled: [Cancelled]

    public init(probe: String, school: String, serverTime: String, leaseUntil: String, leaseUntilUnix: Int64, runs: [LeasedRun], cancelled: [Cancelled]) {
        self.probe = probe
        self.school = school
        self.serverTime = serverTime
        self.leaseUntil = leaseUntil
        self.leaseUntilUnix = leaseUntilUnix
        self.runs = runs
        self.cancelled = cancelled
    }

    public struct LeasedRun: Codable, Sendable, Equatable {
        public var runAt: String
        public var runAtUnix: Int64
        /// The probe's group, for a group run (``NextRun/group``).
        public var group: String?

        public init(runAt: String, runAtUnix: Int64, group: String? = nil) {
            self.runAt = runAt
            self.runAtUnix = runAtUnix
            self.group = group
        }

        enum CodingKeys: String, CodingKey {
            case group
            case runAt = "run_at"
            case runAtUnix = "run_at_unix"
        }
    }

    public struct Cancelled: Codable, Sendable, Equatable {
        public var runAt: String
        public var runAtUnix: Int64
        /// Why the run was withdrawn (`closed: winter break`, `moved`).
        public var reason: String

        public init(runAt: String, runAtUnix: Int64, reason: String) {
            self.runAt = runAt
            self.runAtUnix = runAtUnix
            self.reason = reason
        }

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

/// `POST /v1/probes/{id}/results`: one test's result, as the probe measured it.
///
/// The probe also keeps these in its queue directory until the governor acknowledges
/// them, so the encoding is the queue's file format too.
public struct ResultReport: Codable, Sendable, Equatable {
    /// The scheduled run, RFC 3339.
    public var runAt: String
    public var startedAt: String
    public var finishedAt: String
    public var exitCode: Int
    public var output: String
    /// The probe's clock minus the governor's, as the probe estimates it.
    public var clockOffsetMs: Double?
    /// The output was cut: at the probe's output limit, or to fit the governor's body limit.
    public var outputTruncated: Bool?
    /// An ad-hoc run's identity (`governor-probe run-now`), so that a re-send is
    /// recognised; a scheduled run's identity is its `run_at`.
    public var idempotencyKey: String?
    /// The moment the probe spawned the test minus the run time, both by the probe's
    /// own clock: how late the probe itself was, whatever its clock's offset.
    public var startLatenessMs: Double?

    public init(runAt: String, startedAt: String, finishedAt: String, exitCode: Int, output: String, clockOffsetMs: Double? = nil,
                startLatenessMs: Double? = nil, outputTruncated: Bool? = nil, idempotencyKey: String? = nil) {
        self.runAt = runAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.output = output
        self.clockOffsetMs = clockOffsetMs
        self.startLatenessMs = startLatenessMs
        self.outputTruncated = outputTruncated
        self.idempotencyKey = idempotencyKey
    }

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
        case startLatenessMs = "start_lateness_ms"
    }
}

/// The governor's acknowledgement of a stored result.
///
/// It names the stored result and echoes the run it belongs to (`run_at`, and an
/// ad-hoc run's `idempotency_key`): a probe deletes a queued result only on an answer
/// that matches it, never on any 200 (a captive portal's page).
public struct ResultCreated: Codable, Sendable, Equatable {
    public var id: Int64
    public var outputTruncated: Bool
    public var runAt: String
    public var idempotencyKey: String?

    public init(id: Int64, outputTruncated: Bool, runAt: String, idempotencyKey: String?) {
        self.id = id
        self.outputTruncated = outputTruncated
        self.runAt = runAt
        self.idempotencyKey = idempotencyKey
    }

    enum CodingKeys: String, CodingKey {
        case id
        case outputTruncated = "output_truncated"
        case runAt = "run_at"
        case idempotencyKey = "idempotency_key"
    }
}

/// Every error answer of the API: a stable code and a sentence for a person.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// `bad_request`, `result_unacceptable`, `result_too_large`, `unauthorized`, …
    public var error: String
    public var message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}
