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
        let used = school.testsPerWindow * school.timing.slotSeconds
        tightestSpareSeconds = windows.map { $0.seconds - used }.min() ?? 0
    }

    /// `alpha  Europe/Berlin  2 pull, 1 push  6 windows/day  72 tests/day  tightest spare 42m0s (file)`.
    public var line: String {
        "\(name): \(timezone), \(pullProbes) pull + \(pushProbes) push probe(s), \(windowsPerDay) window(s)/day, "
            + "\(testsPerDay) test(s)/day, tightest window spare \(DurationValue.format(tightestSpareSeconds)) (\(file))"
    }
}
