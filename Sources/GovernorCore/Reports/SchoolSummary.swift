/// The one-line facts `governor check` prints for a school.
public struct SchoolSummary: Sendable, Equatable, Codable {
    public var name: String
    public var file: String
    public var timezone: String
    public var pullProbes: Int
    public var pushProbes: Int
    public var windowsPerDay: Int
    public var testsPerDay: Int
    /// Free time in the window with the least of it, on a day without a DST change.
    public var tightestSpareSeconds: Int

    public init(_ school: SchoolConfig) {
        name = school.name
        file = school.file
        timezone = school.timeZoneName
        pullProbes = school.probes.filter { $0.mode == .pull }.count
        pushProbes = school.probes.filter { $0.mode == .push }.count
        let windows = school.timing.nominalWindows
        windowsPerDay = windows.count
        testsPerDay = windows.count * school.testsPerWindow
        let used = school.slotsPerWindow * school.timing.slotSeconds
        tightestSpareSeconds = windows.map { $0.seconds - used }.min() ?? 0
    }

    /// `alpha  Europe/Berlin  2 pull, 1 push  6 windows/day  72 tests/day  tightest spare 42m0s (file)`.
    public var line: String {
        "\(name): \(timezone), \(pullProbes) pull + \(pushProbes) push probe(s), \(windowsPerDay) window(s)/day, "
            + "\(testsPerDay) test(s)/day, tightest window spare \(DurationValue.format(tightestSpareSeconds)) (\(file))"
    }
}

extension SchoolSummary {
    /// `  target: 100 Mbit/s download, from the contract (contracted_download_mbps = 100); upload 20 Mbit/s (contracted)`:
    /// what the school's measurements are judged against, and where it came from.
    public static func targetLine(of school: SchoolConfig, settings: MeasurementSettings) -> String {
        let target = school.target(settings)
        var line = "  target: \(SchoolTarget.format(target.downloadMbps)) Mbit/s download, from \(target.explanation)"
        if let upload = school.profile.contractedUploadMbps {
            line += "; upload \(SchoolTarget.format(upload)) Mbit/s (contracted_upload_mbps)"
        }
        return line
    }

    /// `  groups: lab (lab-1, lab-2: test together, at one instant)`; nil for a school without groups.
    public static func groupsLine(of school: SchoolConfig) -> String? {
        guard !school.groups.isEmpty else { return nil }
        return "  groups (each group's probes test together, at one instant): "
            + school.groups.map { "\($0.name) (\($0.probes.joined(separator: ", ")))" }.joined(separator: "; ")
    }

    /// How far ahead `governor check` lists closures.
    public static let closureDays = 30

    /// `  closed: 2026-12-21..2027-01-06 (winter break), 2026-12-05..2026-12-06 (not open on Saturdays)`,
    /// the school's closed dates of the next ``closureDays`` from `today`; nil when none.
    public static func closuresLine(of school: SchoolConfig, from today: LocalDate) -> String? {
        let spans = school.calendar.closedSpans(from: today, days: closureDays)
        guard !spans.isEmpty else { return nil }
        return "  closed in the next \(closureDays) days: " + spans.map { span in
            (span.first == span.last ? "\(span.first)" : "\(span.first)..\(span.last)") + " (\(span.label))"
        }.joined(separator: ", ")
    }
}
