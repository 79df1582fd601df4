/// The resolved configuration as JSON (`governor check --json`), for other tools:
/// every default applied, durations in seconds, probes with their mode.
public struct ConfigurationDocument: Codable, Sendable {
    public var valid: Bool
    public var governor: Governor
    public var schools: [School]
    public var problems: [Problem]

    public struct Governor: Codable, Sendable {
        public var file: String
        public var schools: String?
        public var listen: String
        public var state: String
        public var timezone: String
        public var testDurationSeconds: Int
        public var seed: UInt64?

        enum CodingKeys: String, CodingKey {
            case file, schools, listen, state, timezone, seed
            case testDurationSeconds = "test_duration_s"
        }
    }

    public struct School: Codable, Sendable {
        public var name: String
        public var file: String
        public var timezone: String
        public var alertTo: [String]
        public var timing: Timing
        public var probes: [Probe]
        public var summary: SchoolSummary
        /// The download its measurements are judged against, and where it came from.
        public var target: SchoolTarget
        /// Its labels, the governor's defaults included.
        public var labels: [String: String]
        /// Its groups: probes that share every run time.
        public var groups: [ScheduleDocument.Group]

        enum CodingKeys: String, CodingKey {
            case name, file, timezone, timing, probes, summary, target, labels, groups
            case alertTo = "alert_to"
        }
    }

    public struct Timing: Codable, Sendable {
        public var boundaries: [String]
        public var boundariesSeconds: [Int]
        public var runsPerPeriod: Int
        public var delaySeconds: Int
        public var testDurationSeconds: Int
        public var slotSeconds: Int
        public var overnight: Bool

        enum CodingKeys: String, CodingKey {
            case boundaries, overnight
            case boundariesSeconds = "boundaries_s"
            case runsPerPeriod = "runs_per_period"
            case delaySeconds = "delay_s"
            case testDurationSeconds = "test_duration_s"
            case slotSeconds = "slot_s"
        }
    }

    public struct Probe: Codable, Sendable {
        public var name: String
        public var mode: ProbeConfig.Mode
        public var user: String?
        public var host: String?
        public var port: Int?
        public var label: String?
        /// Whether a token (or its hash) is configured; the secret itself is never printed.
        public var hasToken: Bool

        enum CodingKeys: String, CodingKey {
            case name, mode, user, host, port, label
            case hasToken = "has_token"
        }
    }

    public struct Problem: Codable, Sendable {
        public var severity: ConfigProblem.Severity
        public var file: String
        public var line: Int?
        public var message: String
    }

    public init(_ configuration: Configuration) {
        let settings = configuration.governor
        valid = configuration.isValid
        governor = Governor(
            file: settings.file, schools: settings.schoolsDirectory, listen: settings.listen.description,
            state: settings.statePath, timezone: settings.timeZoneName,
            testDurationSeconds: settings.testDurationSeconds, seed: settings.seed)
        schools = configuration.schools.map { school in
            School(
                name: school.name, file: school.file, timezone: school.timeZoneName, alertTo: school.alertTo,
                timing: Timing(
                    boundaries: school.timing.boundaries.map(\.description),
                    boundariesSeconds: school.timing.boundaries.map(\.secondsSinceMidnight),
                    runsPerPeriod: school.timing.runsPerPeriod, delaySeconds: school.timing.delaySeconds,
                    testDurationSeconds: school.timing.testDurationSeconds, slotSeconds: school.timing.slotSeconds,
                    overnight: school.timing.overnight),
                probes: school.probes.map { probe in
                    Probe(name: probe.name, mode: probe.mode, user: probe.address?.user ?? probe.settings["user"],
                          host: probe.address?.host, port: probe.address?.port ?? probe.settings["port"].flatMap { Int($0) },
                          label: probe.label, hasToken: probe.token != nil || probe.tokenSHA256 != nil)
                },
                summary: SchoolSummary(school), target: school.target(configuration.governor.measurement),
                labels: school.labels.dictionary, groups: school.groups.map { ScheduleDocument.Group(name: $0.name, probes: $0.probes) })
        }
        problems = configuration.problems.map {
            Problem(severity: $0.severity, file: $0.file, line: $0.line, message: $0.message)
        }
    }
}
