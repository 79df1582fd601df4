public import GovernorCore

/// A school's runs on one local date, with what became of each.
public struct TimelineDay: Codable, Sendable, Equatable {
    /// The school's local date.
    public var date: LocalDate
    /// Local midnight at the start and end of the date (23 or 25 hours apart on DST days).
    public var start: Instant
    public var end: Instant
    public var windows: [Band]
    public var runs: [Run]

    public init(date: LocalDate, start: Instant, end: Instant, windows: [Band], runs: [Run]) {
        self.date = date
        self.start = start
        self.end = end
        self.windows = windows
        self.runs = runs
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
        /// The stored result, for a link to its output.
        public var resultID: Int64?

        public init(probe: String, runAt: Instant, outcome: RunOutcome, resultID: Int64? = nil) {
            self.probe = probe
            self.runAt = runAt
            self.outcome = outcome
            self.resultID = resultID
        }

        enum CodingKeys: String, CodingKey {
            case probe, outcome
            case runAt = "run_at"
            case resultID = "result_id"
        }
    }
}

/// What became of a scheduled run.
public enum RunOutcome: String, Codable, Sendable, CaseIterable {
    /// A result with exit status 0.
    case done
    /// A result with another exit status, or a push run that failed to start or finish.
    case failed
    /// No result by the time the test and its grace were over.
    case missed
    /// Still to come, or running now.
    case pending

    /// Classifies one run.
    ///
    /// - Parameters:
    ///   - succeeded: whether its stored result succeeded; nil when there is none.
    ///   - settledAt: when a run without a result counts as missed: its run time plus
    ///     the school's test duration plus the alert grace.
    public static func classify(succeeded: Bool?, settledAt: UnixTime, now: UnixTime) -> RunOutcome {
        switch succeeded {
        case true?: .done
        case false?: .failed
        case nil: now >= settledAt ? .missed : .pending
        }
    }
}
