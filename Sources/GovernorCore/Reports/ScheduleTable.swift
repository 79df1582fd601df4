import Foundation

/// The readable text form of a school's schedule: one block per window, one line
/// per run, times in the school's zone beside UTC.
public struct ScheduleTable: Sendable {
    public var school: SchoolConfig
    public var windows: [ScheduledWindow]
    /// The closed dates of the range shown, each with its label.
    public var closed: [(date: LocalDate, label: String)]

    public init(school: SchoolConfig, windows: [ScheduledWindow], closed: [(date: LocalDate, label: String)] = []) {
        self.school = school
        self.windows = windows
        self.closed = closed
    }

    public var text: String {
        let timing = school.timing
        var lines = [
            "School \(school.name) (\(school.timeZoneName)): \(school.probes.count) probe(s), "
                + "\(timing.runsPerPeriod) run(s) per window, test \(DurationValue.format(timing.testDurationSeconds)), "
                + "delay \(DurationValue.format(timing.delaySeconds))"
                + (school.groups.isEmpty ? "" : "; groups (testing together): "
                    + school.groups.map { "\($0.name) = \($0.probes.joined(separator: " + "))" }.joined(separator: ", ")),
        ]
        let groupOf = school.groupByProbe
        // At least as wide as the heading, so that short ids do not cut it.
        let width = max(school.probes.map(\.name.count).max() ?? 0, "probe".count)
        var closures = closed[...]
        for window in windows {
            while let day = closures.first, day.date < window.bounds.localDate {
                lines += ["", "  \(day.date) closed: \(day.label)"]
                closures = closures.dropFirst()
            }
            // A group's runs share their slot.
            let slots = Set(window.runs.map { run in groupOf[run.probe].map { "\($0.name)@\(run.runAt)" } ?? "\(run.probe)@\(run.runAt)" }).count
            let free = window.bounds.seconds - Int64(slots * timing.slotSeconds)
            lines.append("")
            lines.append("  \(window.bounds.localDate) \(local(window.bounds.start))–\(local(window.bounds.end)) "
                + "(\(RFC3339.format(window.bounds.start)) to \(RFC3339.format(window.bounds.end))), "
                + "\(window.runs.count) run(s), \(DurationValue.format(Int(free))) spare")
            lines.append("    " + "local".padding(toLength: 10, withPad: " ", startingAt: 0)
                + "probe".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "UTC")
            for run in window.runs {
                lines.append("    " + local(run.runAt).padding(toLength: 10, withPad: " ", startingAt: 0)
                    + run.probe.padding(toLength: width + 2, withPad: " ", startingAt: 0) + RFC3339.format(run.runAt)
                    + (groupOf[run.probe].map { "  group \($0.name)" } ?? ""))
            }
        }
        for day in closures { lines += ["", "  \(day.date) closed: \(day.label)"] }
        if windows.isEmpty && closed.isEmpty { lines.append("  (no windows)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `HH:MM:SS` in the school's zone.
    private func local(_ time: UnixTime) -> String {
        SchoolClock.timeOfDay(of: time, in: school.timeZone).clockText
    }
}
