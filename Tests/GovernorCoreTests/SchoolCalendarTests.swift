import Foundation
import GovernorTestSupport
import Testing

@testable import GovernorCore

@Suite("School calendars: open days, closures and shared calendar files")
struct SchoolCalendarTests {
    static func date(_ text: String) -> LocalDate { LocalDate(parsing: text)! }

    @Test("weekdays: 1970-01-01 was a Thursday; 2026-12-07 is a Monday")
    func weekdays() {
        #expect(Self.date("1970-01-01").weekday == .thursday)
        #expect(Self.date("2026-12-07").weekday == .monday)
        #expect(Self.date("2026-12-06").weekday == .sunday)
        #expect(Self.date("1969-12-31").weekday == .wednesday)
    }

    @Test("open_days: single days, ranges, ranges across Sunday; anything else names the item")
    func openDays() throws {
        #expect(try CalendarSyntax.weekdays(["mon-fri"]).get() == [.monday, .tuesday, .wednesday, .thursday, .friday])
        #expect(try CalendarSyntax.weekdays(["sun-thu"]).get() == [.sunday, .monday, .tuesday, .wednesday, .thursday])
        #expect(try CalendarSyntax.weekdays(["Mon", "wednesday", "fri"]).get() == [.monday, .wednesday, .friday])
        #expect(try CalendarSyntax.weekdays(["sat-sat"]).get() == [.saturday])
        for bad in ["mo", "mon-", "mon-fri-sat", "holiday"] {
            #expect(throws: CalendarSyntaxError.self) { try CalendarSyntax.weekdays([bad]).get() }
        }
    }

    @Test("closures: a date or an inclusive range; the label of the first closure, else the weekday")
    func closures() throws {
        let winter = try CalendarSyntax.dates("2026-12-21..2027-01-06").get()
        #expect(winter.first == Self.date("2026-12-21") && winter.last == Self.date("2027-01-06"))
        #expect(throws: CalendarSyntaxError.self) { try CalendarSyntax.dates("2027-01-06..2026-12-21").get() }
        #expect(throws: CalendarSyntaxError.self) { try CalendarSyntax.dates("2026-02-30").get() }
        let calendar = SchoolCalendar(openDays: [.monday, .tuesday, .wednesday, .thursday, .friday], closures: [
            .init(first: winter.first, last: winter.last, label: "winter break"),
            .init(first: Self.date("2026-12-24"), last: Self.date("2026-12-24"), label: "christmas eve"),
        ])
        #expect(calendar.closure(on: Self.date("2026-12-18")) == nil, "a Friday")
        #expect(calendar.closure(on: Self.date("2026-12-19")) == "not open on Saturdays")
        #expect(calendar.closure(on: Self.date("2026-12-24")) == "winter break", "the first closure's label")
        #expect(calendar.closure(on: Self.date("2027-01-07")) == nil)
        let spans = calendar.closedSpans(from: Self.date("2026-12-17"), days: 30).map { "\($0.first)..\($0.last) \($0.label)" }
        #expect(spans == ["2026-12-19..2026-12-19 not open on Saturdays", "2026-12-20..2026-12-20 not open on Sundays", "2026-12-21..2027-01-06 winter break",
                          "2027-01-09..2027-01-09 not open on Saturdays", "2027-01-10..2027-01-10 not open on Sundays"])
    }

    @Test("a school closed on a date has no windows that day, and a probe's lookahead reaches past the closure")
    func noWindowsOnClosedDays() throws {
        let timing = Timing(boundaries: [TimeOfDay(parsing: "0800")!, TimeOfDay(parsing: "1200")!], runsPerPeriod: 1, delaySeconds: 60,
                            testDurationSeconds: 30, overnight: false)
        let school = SchoolConfig(name: "alpha", file: "alpha.cfg", timeZone: TimeZone(identifier: "UTC")!, timing: timing,
                                  probes: [ProbeConfig(name: "p1", mode: .pull, line: 1)],
                                  calendar: SchoolCalendar(closures: [.init(first: Self.date("2026-12-21"), last: Self.date("2027-01-06"), label: "winter break")]))
        #expect(try ScheduleGenerator.schedule(of: school, on: Self.date("2026-12-22"), seed: 1).isEmpty)
        #expect(try ScheduleGenerator.schedule(of: school, on: Self.date("2026-12-18"), seed: 1).count == 1)
        // Asked on 2026-12-22 at noon: the first window is the one of 2027-01-07.
        let noon = SchoolClock.instant(of: TimeOfDay(parsing: "1200")!, on: Self.date("2026-12-22"), in: school.timeZone)
        #expect(school.windows(endingAfter: noon, openDays: 3).first?.localDate == Self.date("2027-01-07"))
        #expect(school.windows(endingAfter: noon, days: 3).isEmpty, "the scheduler's short look sees nothing to store")
    }

    @Test("calendar keys in [School] and [Closed] files: labels from the files, errors naming file and line")
    func loading() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\n")
        try directory.write("schools/calendars/district-7.cfg", """
            [Closed]
            winter break = 2026-12-21..2027-01-06
            teacher day = 2027-03-12, 2027-05-14
            """)
        try directory.write("schools/calendars/extra.cfg", "[Closed]\nstrike = 2027-02-01\n")
        try directory.write("schools/alpha.cfg", """
            [School]
            open_days = mon-fri
            closed = 2027-04-10
            calendar = calendars/district-7.cfg, calendars/extra.cfg
            [Timing]
            boundaries = 0800 1200
            runs_per_period = 1
            delay = 1
            [Probes]
            ids = p1
            """)
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(!configuration.problems.contains { $0.isError }, "\(configuration.problems)")
        let calendar = try #require(configuration.schools.first).calendar
        #expect(calendar.openDays.count == 5)
        #expect(calendar.closures.map(\.label) == ["closed", "winter break", "teacher day", "teacher day", "strike"])
        #expect(calendar.closure(on: Self.date("2027-05-14")) == "teacher day")

        // Each mistake names its file and line.
        try directory.write("schools/calendars/broken.cfg", "[Closed]\nwinter break = 2026-12-21..2027-13-06\n")
        try directory.write("schools/alpha.cfg", """
            [School]
            open_days = mon-fry
            closed = 2027-04-10, tomorrow
            calendar = calendars/broken.cfg, calendars/missing.cfg
            [Timing]
            boundaries = 0800 1200
            runs_per_period = 1
            delay = 1
            [Probes]
            ids = p1
            """)
        let problems = try ConfigLoader.load(governorFile: main).problems.filter(\.isError)
        let described = problems.map { "\(($0.file as NSString).lastPathComponent):\($0.line ?? 0) \($0.message)" }
        #expect(described.contains { $0.hasPrefix("alpha.cfg:2 'mon-fry' in 'open_days' is not a weekday") }, "\(described)")
        #expect(described.contains { $0.hasPrefix("alpha.cfg:3 'tomorrow' in 'closed' is not a date") }, "\(described)")
        #expect(described.contains { $0.hasPrefix("broken.cfg:2 '2026-12-21..2027-13-06' in 'winter break' is not a date") }, "\(described)")
        #expect(described.contains { $0.hasPrefix("alpha.cfg:4 calendar 'calendars/missing.cfg' cannot be used") }, "\(described)")
    }

    @Test("governor check's line: the closures of the next 30 days, consecutive dates with one label as a range")
    func checkLine() {
        let timing = Timing(boundaries: [TimeOfDay(parsing: "0800")!, TimeOfDay(parsing: "1200")!], runsPerPeriod: 1, delaySeconds: 60,
                            testDurationSeconds: 30, overnight: false)
        var school = SchoolConfig(name: "alpha", file: "alpha.cfg", timeZone: TimeZone(identifier: "UTC")!, timing: timing, probes: [])
        #expect(SchoolSummary.closuresLine(of: school, from: Self.date("2026-12-01")) == nil)
        school.calendar = SchoolCalendar(closures: [.init(first: Self.date("2026-12-21"), last: Self.date("2027-01-06"), label: "winter break")])
        #expect(SchoolSummary.closuresLine(of: school, from: Self.date("2026-12-01")) == "  closed in the next 30 days: 2026-12-21..2026-12-30 (winter break)")
    }
}
