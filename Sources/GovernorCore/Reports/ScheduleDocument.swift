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
        /// Its `[Group NAME]` sections, when it has any: probes that share every run time.
        public var groups: [Group]?

        enum CodingKeys: String, CodingKey {
            case school, timezone, windows, groups
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
            closedDays = closed.map { ClosedDay(date: $0.date.description, label: $0.label) }
            guard !config.groups.isEmpty else {
                self.windows = windows
                return
            }
            groups = config.groups.map { Group(name: $0.name, probes: $0.probes) }
            let groupOf = config.groupByProbe
            self.windows = windows.map { window in
                var window = window
                for index in window.runs.indices { window.runs[index].group = groupOf[window.runs[index].probe]?.name }
                return window
            }
        }
    }

    /// Probes of a school that test together, at one instant.
    public struct Group: Codable, Sendable, Equatable {
        public var name: String
        public var probes: [String]

        public init(name: String, probes: [String]) {
            self.name = name
            self.probes = probes
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
        /// The probe's group: every probe of it runs at this instant.
        public var group: String?

        enum CodingKeys: String, CodingKey {
            case probe, group
            case runAt = "run_at"
        }

        public init(probe: String, runAt: String) {
            self.probe = probe
            self.runAt = runAt
        }
    }
}
