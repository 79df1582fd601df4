/// Where a school stands over its measurement window: exactly one of these.
public enum MeasurementState: String, Sendable, Codable, CaseIterable {
    /// The window's median download is at least the school's target.
    case meets
    /// Below the target, but not below the poor threshold.
    case below
    /// Below the poor threshold (`poor_below_mbps`, 1 Mbit/s by default).
    case poor
    /// No download measured in the window.
    case noData = "no-data"
}

/// One school's measurements over its window, judged: the one place that turns
/// measurements into a state, for every view.
///
/// The window is the school's last `measurement_window` open days up to today
/// (its calendar applies: closed days neither count nor stretch it), and the
/// figure is the **median**, where Giga's KPIs use the mean: one test run while the
/// school's line was saturated by a video lesson moves a mean, not a median.
public struct SchoolStanding: Sendable, Equatable {
    public var state: MeasurementState
    public var medianDownloadMbps: Double?
    public var medianUploadMbps: Double?
    /// Download measurements in the window.
    public var measurements: Int
    public var target: SchoolTarget
    /// Whether a measurement falls in its last 7 open days.
    public var reportedRecently: Bool
    /// Whether the median reaches 80 % of the contracted download; nil without a
    /// contract or without data.
    public var reachesContract: Bool?
    /// Whether the figures are of group runs, each its members' summed throughput (a
    /// school whose every probe is in a group); `measurements` then counts group runs.
    public var byGroupRuns: Bool

    public init(state: MeasurementState, medianDownloadMbps: Double?, medianUploadMbps: Double?, measurements: Int, target: SchoolTarget,
                reportedRecently: Bool, reachesContract: Bool?, byGroupRuns: Bool = false) {
        self.byGroupRuns = byGroupRuns
        self.state = state
        self.medianDownloadMbps = medianDownloadMbps
        self.medianUploadMbps = medianUploadMbps
        self.measurements = measurements
        self.target = target
        self.reportedRecently = reportedRecently
        self.reachesContract = reachesContract
    }

    /// The share of the contract a median must reach to count as getting it (Giga's KPI: 80 %).
    public static let contractShare = 0.8
    /// The open days that count as recent for the reporting KPI.
    public static let recentOpenDays = 7

    /// Judges a school from its window's downloads and uploads (Mbit/s).
    public static func judge(downloads: [Double], uploads: [Double], reportedRecently: Bool, target: SchoolTarget, profile: SchoolProfile,
                             settings: MeasurementSettings, byGroupRuns: Bool = false) -> SchoolStanding {
        let download = median(of: downloads)
        let state: MeasurementState
        switch download {
        case nil: state = .noData
        case let median? where median < settings.poorBelowMbps: state = .poor
        case let median? where median < target.downloadMbps: state = .below
        default: state = .meets
        }
        let reaches: Bool? = if let download, let contract = profile.contractedDownloadMbps { download >= contract * contractShare } else { nil }
        return SchoolStanding(state: state, medianDownloadMbps: download, medianUploadMbps: median(of: uploads), measurements: downloads.count,
                              target: target, reportedRecently: reportedRecently, reachesContract: reaches, byGroupRuns: byGroupRuns)
    }

    /// The median: the middle value, or the mean of the two middle values; nil for none.
    public static func median(of values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// A school's measurement window on a date: its last `openDays` open dates up to
/// that date, found in one walk back over its calendar.
public struct MeasurementWindow: Sendable, Equatable {
    /// The earliest of those open dates (today when none is open).
    public var first: LocalDate
    /// The earliest of its last ``SchoolStanding/recentOpenDays`` open dates.
    public var recentFirst: LocalDate
    public var last: LocalDate
    /// Whether each date from `first` through `last` is open, in date order.
    public var open: [Bool]

    /// Whether the date `day` days after 1970-01-01 is an open date of the window.
    public func isOpen(daysSinceEpoch day: Int) -> Bool {
        let index = day - first.daysSinceEpoch
        return index >= 0 && index < open.count && open[index]
    }
}

extension SchoolConfig {
    /// The school's window of `openDays` open dates up to `today` (today counts when it
    /// is open). A school closed for longer than ``longestClosureDays`` looks back no further.
    public func measurementWindow(openDays: Int, through today: LocalDate) -> MeasurementWindow {
        var openBack: [Bool] = []  // from today backwards
        var openCount = 0
        var first = today
        var recentFirst = today
        var date = today
        for _ in 0..<(Self.longestClosureDays + openDays) where openCount < openDays {
            let isOpen = calendar.isOpen(on: date)
            openBack.append(isOpen)
            if isOpen {
                openCount += 1
                first = date
                if openCount <= SchoolStanding.recentOpenDays { recentFirst = date }
            }
            date = date.adding(days: -1)
        }
        let length = today.daysSinceEpoch - first.daysSinceEpoch + 1
        return MeasurementWindow(first: first, recentFirst: recentFirst, last: today, open: Array(openBack.prefix(length).reversed()))
    }

    /// The first date of the school's window (``measurementWindow(openDays:through:)``).
    public func windowStart(openDays: Int, through today: LocalDate) -> LocalDate {
        measurementWindow(openDays: openDays, through: today).first
    }
}

/// The fleet's three figures of the programme's question, over every school's
/// window (``SchoolStanding``), with their definitions in docs/measurements.md.
public struct MeasurementKPIs: Sendable, Equatable, Codable {
    /// Configured schools.
    public var schools: Int
    /// Schools with a download measured in their window.
    public var measured: Int
    /// Of those, how many have a median at or above their target.
    public var meetingTarget: Int
    /// Schools with a contract and a download measured in their window.
    public var contracted: Int
    /// Of those, how many have a median of at least 80 % of the contract.
    public var reachingContract: Int
    /// Schools with a measurement in their last 7 open days.
    public var reportedRecently: Int

    public init(schools: Int = 0, measured: Int = 0, meetingTarget: Int = 0, contracted: Int = 0, reachingContract: Int = 0, reportedRecently: Int = 0) {
        self.schools = schools
        self.measured = measured
        self.meetingTarget = meetingTarget
        self.contracted = contracted
        self.reachingContract = reachingContract
        self.reportedRecently = reportedRecently
    }

    public init(_ standings: some Sequence<SchoolStanding>) {
        self.init()
        for standing in standings {
            schools += 1
            if standing.state != .noData { measured += 1 }
            if standing.state == .meets { meetingTarget += 1 }
            if let reaches = standing.reachesContract {
                contracted += 1
                if reaches { reachingContract += 1 }
            }
            if standing.reportedRecently { reportedRecently += 1 }
        }
    }

    /// The share of measured schools that meet their target; nil when none is measured.
    public var meetingTargetShare: Double? { measured > 0 ? Double(meetingTarget) / Double(measured) : nil }
    /// The share of measured schools with a contract that get 80 % of it.
    public var reachingContractShare: Double? { contracted > 0 ? Double(reachingContract) / Double(contracted) : nil }
    /// The share of schools that reported in their last 7 open days.
    public var reportedRecentlyShare: Double? { schools > 0 ? Double(reportedRecently) / Double(schools) : nil }

    enum CodingKeys: String, CodingKey {
        case schools, measured, contracted
        case meetingTarget = "meeting_target"
        case reachingContract = "reaching_80_percent_of_contract"
        case reportedRecently = "reported_last_7_open_days"
    }
}
