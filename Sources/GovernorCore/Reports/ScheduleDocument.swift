/// The JSON form of schedules shared by `governor schedule --json` and the server's
/// `GET /v1/schools/{name}/schedule`:
/// `{"schools":[{"school","timezone","test_duration_s","delay_s","windows":[{"start","end","runs":[{"probe","run_at"}]}],"closed_days":[{"date","label"}]}]}`.
public struct ScheduleDocument: Codable, Sendable, Equatable {
    public var schools: [School]

    public init(schools: [School]) {
        self.schools = schools
    }

    public struct School: Codable, Sendable, Equatable {
        public var school: String
        public var timezone: String
        public var testDurationSeconds: Int
        public var delaySeconds: Int
        public var windows: [Window]
        /// The dates of the range in which the school is closed, with why: they have
        /// no windows.
        public var closedDays: [ClosedDay]

        enum CodingKeys: String, CodingKey {
            case school, timezone, windows
            case testDurationSeconds = "test_duration_s"
            case delaySeconds = "delay_s"
            case closedDays = "closed_days"
        }

        public init(_ config: SchoolConfig, windows: [ScheduledWindow], closed: [(date: LocalDate, label: String)] = []) {
            self.init(config, windows: windows.map { Window($0) }, closed: closed)
        }

        public init(_ config: SchoolConfig, windows: [Window], closed: [(date: LocalDate, label: String)] = []) {
            school = config.name
            timezone = config.timeZoneName
            testDurationSeconds = config.timing.testDurationSeconds
            delaySeconds = config.timing.delaySeconds
            self.windows = windows
            closedDays = closed.map { ClosedDay(date: $0.date.description, label: $0.label) }
        }
    }

    /// A date on which the school has no windows.
    public struct ClosedDay: Codable, Sendable, Equatable {
        /// `YYYY-MM-DD`, in the school's zone.
        public var date: String
        public var label: String

        public init(date: String, label: String) {
            self.date = date
            self.label = label
        }
    }

    public struct Window: Codable, Sendable, Equatable {
        /// RFC 3339 UTC.
        public var start: String
        public var end: String
        public var runs: [Run]
        /// Set by the server: true when the window is stored (its times are final),
        /// false for a preview of a window not generated yet. Absent from `governor schedule`.
        public var stored: Bool?

        public init(_ window: ScheduledWindow, stored: Bool? = nil) {
            start = RFC3339.format(window.bounds.start)
            end = RFC3339.format(window.bounds.end)
            runs = window.runs.map { Run(probe: $0.probe, runAt: RFC3339.format($0.runAt)) }
            self.stored = stored
        }
    }

    public struct Run: Codable, Sendable, Equatable {
        public var probe: String
        public var runAt: String

        enum CodingKeys: String, CodingKey {
            case probe
            case runAt = "run_at"
        }

        public init(probe: String, runAt: String) {
            self.probe = probe
            self.runAt = runAt
        }
    }
}
