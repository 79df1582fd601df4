public import GovernorCore

/// A school's runs on one local date, with what became of each.
public struct TimelineDay: Codable, Sendable, Equatable {
    /// The school's local date.
    public var date: LocalDate
    /// Local midnight at the start and end of the date (23 or 25 hours apart on DST days).
    public var start: Instant
    public var end: Instant
    public var windows: [Band]
    /// Every stored run of the date, unannounced ones included (the timeline draws
    /// them faintly); JSON lists those apart, under `unannounced`, so that no
    /// reader counts them with the runs a probe was told about.
    public var runs: [Run]
    /// Why the school is closed on the date (`winter break`), nil when it is open.
    public var closed: String?

    public init(date: LocalDate, start: Instant, end: Instant, windows: [Band], runs: [Run], closed: String? = nil) {
        self.date = date
        self.start = start
        self.end = end
        self.windows = windows
        self.runs = runs
        self.closed = closed
    }

    /// A time window of the school.
    public struct Band: Codable, Sendable, Equatable {
        public var start: Instant
        public var end: Instant
        /// False for a window whose run times are not drawn yet (it has no runs to show).
        public var generated: Bool

        public init(start: Instant, end: Instant, generated: Bool) {
            self.start = start
            self.end = end
            self.generated = generated
        }
    }

    /// One scheduled run.
    public struct Run: Codable, Sendable, Equatable {
        public var probe: String
        public var runAt: Instant
        public var outcome: RunOutcome
        /// Why a missed run produced no test.
        public var reason: MissReason?
        /// For a push failure: its kind (connection-refused, auth-failed…).
        public var detail: String?
        /// The stored result, for a link to its output.
        public var resultID: Int64?

        public init(probe: String, runAt: Instant, outcome: RunOutcome, reason: MissReason? = nil, detail: String? = nil, resultID: Int64? = nil) {
            self.probe = probe
            self.runAt = runAt
            self.outcome = outcome
            self.reason = reason
            self.detail = detail
            self.resultID = resultID
        }

        public init(probe: String, runAt: UnixTime, judgement: RunJudgement, resultID: Int64?) {
            self.init(probe: probe, runAt: Instant(runAt), outcome: judgement.outcome, reason: judgement.reason, detail: judgement.detail,
                      resultID: resultID)
        }

        /// "missed (push-failed: connection-refused)", as the page's titles and the terminal say it.
        public var outcomeText: String {
            guard let reason else { return outcome.rawValue }
            return "\(outcome.rawValue) (\(reason.rawValue)\(detail.map { ": \($0)" } ?? ""))"
        }

        enum CodingKeys: String, CodingKey {
            case probe, outcome, reason, detail
            case runAt = "run_at"
            case resultID = "result_id"
        }
    }

    enum CodingKeys: String, CodingKey {
        case date, start, end, windows, runs, unannounced, closed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        date = try container.decode(LocalDate.self, forKey: .date)
        start = try container.decode(Instant.self, forKey: .start)
        end = try container.decode(Instant.self, forKey: .end)
        windows = try container.decode([Band].self, forKey: .windows)
        let announced = try container.decode([Run].self, forKey: .runs)
        let unannounced = try container.decode([Run].self, forKey: .unannounced)
        runs = (announced + unannounced).sorted { ($0.runAt, $0.probe) < ($1.runAt, $1.probe) }
        closed = try container.decodeIfPresent(String.self, forKey: .closed)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(date, forKey: .date)
        try container.encode(start, forKey: .start)
        try container.encode(end, forKey: .end)
        try container.encode(windows, forKey: .windows)
        try container.encode(runs.filter { $0.outcome != .unannounced }, forKey: .runs)
        try container.encode(runs.filter { $0.outcome == .unannounced }, forKey: .unannounced)
        try container.encodeIfPresent(closed, forKey: .closed)
    }
}
