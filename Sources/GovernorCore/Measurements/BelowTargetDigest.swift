/// The daily digest of schools below their target (`[Alerts] below_target_days`,
/// `digest_at`): which schools are newly below, which recovered and which are
/// still below. Pure: daily medians in, the digest's three lists out.
///
/// A school is *below* as of a date when its daily median download was under its
/// target on each of its last `below_target_days` open days that have a measurement,
/// up to that date: a day without any measurement neither breaks the run nor adds
/// to it (a probe that was off says nothing of the line). The digest compares the
/// last complete day (yesterday, in the school's zone) with the day before, so it
/// needs no memory of what it sent: the same data give the same digest.
public enum BelowTargetDigest {
    /// Whether the school is below as of `date`.
    public static func isBelow(dailyMedians: [LocalDate: Double], calendar: SchoolCalendar, targetMbps: Double, days: Int, through date: LocalDate) -> Bool {
        guard days > 0 else { return false }
        var counted = 0
        var day = date
        for _ in 0..<(SchoolConfig.longestClosureDays + days) {
            if calendar.isOpen(on: day), let median = dailyMedians[day] {
                guard median < targetMbps else { return false }
                counted += 1
                if counted == days { return true }
            }
            day = day.adding(days: -1)
        }
        return false
    }

    /// What a school's line in the digest says.
    public enum Change: String, Sendable, Equatable {
        case newlyBelow = "newly below"
        case stillBelow = "still below"
        case recovered
    }

    /// The school's change between the day before `yesterday` and `yesterday`; nil when
    /// it was not below on either.
    public static func change(dailyMedians: [LocalDate: Double], calendar: SchoolCalendar, targetMbps: Double, days: Int,
                              yesterday: LocalDate) -> Change? {
        let now = isBelow(dailyMedians: dailyMedians, calendar: calendar, targetMbps: targetMbps, days: days, through: yesterday)
        let before = isBelow(dailyMedians: dailyMedians, calendar: calendar, targetMbps: targetMbps, days: days, through: yesterday.adding(days: -1))
        switch (before, now) {
        case (false, true): return .newlyBelow
        case (true, true): return .stillBelow
        case (true, false): return .recovered
        case (false, false): return nil
        }
    }
}
