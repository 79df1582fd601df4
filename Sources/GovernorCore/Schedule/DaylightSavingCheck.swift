import Foundation

/// The days ahead on which a daylight-saving change leaves one of a school's windows
/// too short for its tests, for `governor check`: such a window is skipped that day
/// (``SchoolConfig/holdsTests(_:)``), so the operator hears of it before, not after.
public enum DaylightSavingCheck {
    /// A warning for each school and day in the `days` local dates from `first` on
    /// whose windows a change of offset shortens below what their tests need.
    ///
    /// Only the dates around a change of offset are looked at, found once per time
    /// zone, so a fleet of 10,000 schools in a handful of zones is checked at once.
    public static func warnings(for schools: [SchoolConfig], from first: LocalDate, days: Int) -> [ConfigProblem] {
        var changes: [String: [LocalDate]] = [:]
        var problems: [ConfigProblem] = []
        for school in schools {
            let dates = changes[school.timeZoneName] ?? changeDates(in: school.timeZone, from: first, days: days)
            changes[school.timeZoneName] = dates
            for date in dates where school.calendar.isOpen(on: date) {
                for bounds in SchoolClock.windows(of: school.timing, on: date, in: school.timeZone) where !school.holdsTests(bounds) {
                    let start = SchoolClock.timeOfDay(of: bounds.start, in: school.timeZone)
                    let needed = school.slotsPerWindow * school.timing.slotSeconds
                    let message = Feasibility.message(school: school.name, window: "\(bounds.startBoundary) on \(date)", school,
                                                      needed: needed, available: Int(bounds.seconds))
                    problems.append(.warning(school.file, "\(message) (the daylight-saving change moves it to start at \(start)); it is skipped that day, and the day's other windows run"))
                }
            }
        }
        return problems
    }

    /// The local dates whose windows a change of offset can touch: the date of each
    /// change and the one before it (an overnight window ends on the next day).
    static func changeDates(in zone: TimeZone, from first: LocalDate, days: Int) -> [LocalDate] {
        var dates: [LocalDate] = []
        let start = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: first, in: zone)
        var offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(start)))
        for day in 0..<max(days, 0) {
            let noon = start + Int64(day) * 86_400 + 86_400 + 43_200
            let next = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(noon)))
            if next != offset {
                let date = first.adding(days: day)
                dates += [date, date.adding(days: 1)]
                offset = next
            }
        }
        return dates
    }
}
