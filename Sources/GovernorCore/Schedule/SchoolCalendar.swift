import Foundation

/// The days a school is open: its weekdays (`open_days`) less its closures (`closed`,
/// and the `[Closed]` entries of the calendar files it names), each by local date in
/// the school's time zone.
///
/// On a closed day the school has no windows and so no runs: nothing is missed,
/// nothing is judged, no reminder goes out.
public struct SchoolCalendar: Sendable, Hashable {
    /// The weekdays the school is open; every day by default.
    public var openDays: Set<Weekday>
    /// Closed dates, each with the label an operator sees ("winter break").
    public var closures: [Closure]

    public init(openDays: Set<Weekday> = Set(Weekday.allCases), closures: [Closure] = []) {
        self.openDays = openDays
        self.closures = closures
    }

    /// Every day open: what a school without calendar keys has.
    public static let always = SchoolCalendar()

    /// An inclusive range of local dates, with its label.
    public struct Closure: Sendable, Hashable {
        public var first: LocalDate
        public var last: LocalDate
        public var label: String

        public init(first: LocalDate, last: LocalDate, label: String) {
            self.first = first
            self.last = last
            self.label = label
        }

        public func contains(_ date: LocalDate) -> Bool { first <= date && date <= last }
    }

    /// Why the school is closed on `date` (the closure's label, or the weekday it is
    /// not open on), nil when it is open. A date in several closures takes the first
    /// one's label, in the order the files list them.
    public func closure(on date: LocalDate) -> String? {
        if let closure = closures.first(where: { $0.contains(date) }) { return closure.label }
        let weekday = date.weekday
        return openDays.contains(weekday) ? nil : "not open on \(weekday.plural)"
    }

    public func isOpen(on date: LocalDate) -> Bool {
        closure(on: date) == nil
    }

    /// The closed dates of `[from, from + days)` as runs of consecutive dates with the
    /// same label, in date order: `2026-12-21..2026-12-24 winter break`.
    public func closedSpans(from: LocalDate, days: Int) -> [(first: LocalDate, last: LocalDate, label: String)] {
        var spans: [(first: LocalDate, last: LocalDate, label: String)] = []
        for (date, label) in closedDays(from: from, days: days) {
            if let last = spans.last, last.label == label, last.last.adding(days: 1) == date {
                spans[spans.count - 1].last = date
            } else {
                spans.append((date, date, label))
            }
        }
        return spans
    }

    /// The closed dates of `[from, from + days)`, each with its label, in date order.
    public func closedDays(from: LocalDate, days: Int) -> [(date: LocalDate, label: String)] {
        (0..<max(days, 0)).compactMap { offset in
            let date = from.adding(days: offset)
            return closure(on: date).map { (date, $0) }
        }
    }
}

/// A day of the week, Monday first (ISO 8601).
public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable {
    case monday = 0, tuesday, wednesday, thursday, friday, saturday, sunday

    /// `mon`, `tue`, … as the configuration writes them.
    public var abbreviation: String {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue]
    }

    public var plural: String {
        ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"][rawValue]
    }

    /// `mon` or `monday`, any case.
    public init?(parsing text: String) {
        let lower = text.lowercased()
        guard let day = Weekday.allCases.first(where: { lower == $0.abbreviation || lower == "\($0)" }) else { return nil }
        self = day
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension LocalDate {
    /// The day of the week (1970-01-01 was a Thursday).
    public var weekday: Weekday {
        Weekday(rawValue: Int((Int64(daysSinceEpoch) + 3).modulo(7)))!
    }
}

extension Int64 {
    fileprivate func modulo(_ divisor: Int64) -> Int64 {
        ((self % divisor) + divisor) % divisor
    }
}

/// Parses the calendar keys' values.
public enum CalendarSyntax {
    /// `mon-fri`, `mon, wed, fri`, `sun-thu` (a range may wrap past Sunday): the
    /// weekdays named, or the item that is not one.
    public static func weekdays(_ items: [String]) -> Result<Set<Weekday>, CalendarSyntaxError> {
        var days: Set<Weekday> = []
        for item in items {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            switch ends.count {
            case 1:
                guard let day = Weekday(parsing: ends[0]) else { return .failure(CalendarSyntaxError(item: item, expected: Self.weekdayExpectation)) }
                days.insert(day)
            case 2:
                guard let first = Weekday(parsing: ends[0]), let last = Weekday(parsing: ends[1]) else {
                    return .failure(CalendarSyntaxError(item: item, expected: Self.weekdayExpectation))
                }
                var day = first.rawValue
                for _ in 0..<7 {
                    days.insert(Weekday(rawValue: day)!)
                    if day == last.rawValue { break }
                    day = (day + 1) % 7
                }
            default:
                return .failure(CalendarSyntaxError(item: item, expected: Self.weekdayExpectation))
            }
        }
        return .success(days)
    }

    static let weekdayExpectation = "a weekday (mon, tue, wed, thu, fri, sat, sun) or a range such as mon-fri"

    /// `2026-12-21` or `2026-12-21..2027-01-06` (inclusive).
    public static func dates(_ item: String) -> Result<(first: LocalDate, last: LocalDate), CalendarSyntaxError> {
        let expected = "a date YYYY-MM-DD or an inclusive range YYYY-MM-DD..YYYY-MM-DD"
        let ends = item.components(separatedBy: "..")
        guard ends.count <= 2, let first = LocalDate(parsing: ends[0]), let last = ends.count == 2 ? LocalDate(parsing: ends[1]) : first else {
            return .failure(CalendarSyntaxError(item: item, expected: expected))
        }
        guard first <= last else {
            return .failure(CalendarSyntaxError(item: item, expected: "a range whose first date is not after its last"))
        }
        return .success((first, last))
    }
}

/// An item of a calendar key that does not parse.
public struct CalendarSyntaxError: Error, Sendable {
    public var item: String
    public var expected: String
}
