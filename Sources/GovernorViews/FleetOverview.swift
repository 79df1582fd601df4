public import GovernorWire
public import GovernorCore

/// What `/` shows: the fleet's counts, the schools that need attention first, then a
/// page of schools, each on one line. Its size depends on the page, not the fleet;
/// full timelines are on each school's page.
public struct FleetOverview: Sendable, Equatable {
    /// The page of schools, with the summary of the whole fleet and the page's counts.
    public var report: StatusReport
    /// The first schools that need attention, each with only the probes that do.
    public var attention: [SchoolStatus]
    /// How many schools and probes need attention in all.
    public var attentionSchools: Int
    public var attentionProbes: Int
    /// The page's school-name search ("" for none) and the cursor it started at.
    public var search: String
    public var cursor: String?
    /// The clock offset beyond which a probe needs attention.
    public var clockSkewMs: Double
    /// A page of the schools furthest below their target, from `belowOffset` on, of `belowTotal`.
    public var belowTarget: [BelowTargetLine] = []
    public var belowOffset = 0
    public var belowTotal = 0
    /// The label keys the schools carry (the "group by" links), the label filter of
    /// the page, and the groups of `groupKey` when the page asks for them.
    public var labelKeys: [String] = []
    public var labelFilter: [SchoolLabels.Label] = []
    public var groupKey: String?
    public var groups: [LabelGroup] = []
    /// The incidents open, then those closed in the last week, newest first.
    public var incidents: [IncidentView] = []

    public init(report: StatusReport, attention: [SchoolStatus], attentionSchools: Int, attentionProbes: Int,
                search: String, cursor: String?, clockSkewMs: Double) {
        self.report = report
        self.attention = attention
        self.attentionSchools = attentionSchools
        self.attentionProbes = attentionProbes
        self.search = search
        self.cursor = cursor
        self.clockSkewMs = clockSkewMs
    }
}

/// A school below its target, as the front page lists it.
public struct BelowTargetLine: Sendable, Equatable {
    public var school: String
    public var measurement: SchoolMeasurement

    public init(school: String, measurement: SchoolMeasurement) {
        self.school = school
        self.measurement = measurement
    }
}

/// A school in one line: its probes' states, why it needs attention, today's runs
/// by outcome, and a sparkline of today by hour.
struct SchoolLine: Equatable {
    var name: String
    var timezone: String
    var up: Int
    var down: Int
    var neverSeen: Int
    /// Probes that missed their latest runs, whose latest result failed, whose clock is off.
    var missing: Int
    var failing: Int
    var skewed: Int
    /// Today's runs by outcome.
    var outcomes: [RunOutcome: Int]
    /// Why the school is closed today, if it is.
    var closed: String?
    /// For each hour of the school's day (23 or 25 on a DST day are fitted into 24),
    /// the outcome that matters most among its runs; nil for an hour without runs.
    var hours: [RunOutcome?]

    static let hourCount = 24

    init(_ school: SchoolStatus, clockSkewMs: Double) {
        name = school.name
        timezone = school.timezone
        up = school.probes.count { $0.state == .up }
        down = school.probes.count { $0.state == .down }
        neverSeen = school.probes.count { $0.state == .neverSeen }
        missing = school.probes.count { $0.consecutiveMissed > 0 }
        failing = school.probes.count { $0.lastResult.map { !$0.succeeded } ?? false }
        skewed = school.probes.count { abs($0.clockOffsetMs ?? 0) > clockSkewMs }
        outcomes = Dictionary(grouping: school.today.runs, by: \.outcome).mapValues(\.count)
        closed = school.today.closed
        hours = Array(repeating: nil, count: Self.hourCount)
        let start = school.today.start.unixTime, length = max(1, school.today.end.unixTime - start)
        for run in school.today.runs {
            let offset = run.runAt.unixTime - start
            guard offset >= 0, offset < length else { continue }
            let hour = Int(offset * Int64(Self.hourCount) / length)
            if hours[hour].map({ Self.weight(run.outcome) > Self.weight($0) }) ?? true { hours[hour] = run.outcome }
        }
    }

    /// Which outcome an hour of the sparkline shows when it has several.
    static func weight(_ outcome: RunOutcome) -> Int {
        switch outcome {
        case .failed: 4
        case .missed: 3
        case .pending: 2
        case .done: 1
        case .unannounced, .closed: 0
        }
    }
}

/// The schools that share one value of a label, as the front page groups them.
public struct LabelGroup: Sendable, Equatable {
    public var key: String
    /// Nil for the schools without the label.
    public var value: String?
    public var schools: Int
    /// Schools whose every probe is DOWN.
    public var schoolsDown: Int
    public var probesDown: Int

    public init(key: String, value: String?, schools: Int, schoolsDown: Int, probesDown: Int) {
        self.key = key
        self.value = value
        self.schools = schools
        self.schoolsDown = schoolsDown
        self.probesDown = probesDown
    }
}
