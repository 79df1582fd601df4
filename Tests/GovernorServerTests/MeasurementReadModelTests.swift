import Foundation
import GovernorCore
import GovernorStore
import Testing

@testable import GovernorServer

@Suite("The measurement read model")
struct MeasurementReadModelTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func school(_ calendar: SchoolCalendar) -> SchoolConfig {
        SchoolConfig(name: "s", file: "s.cfg", timeZone: utc, timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                     probes: [], calendar: calendar, profile: SchoolProfile(contractedDownloadMbps: 20))
    }

    /// Noon UTC on `date`, in milliseconds.
    static func noon(_ date: String) -> Int64 {
        (SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 12 * 3600)!, on: LocalDate(parsing: date)!, in: utc)) * 1000
    }

    @Test("a school's window is its last open days: closed days' measurements and older ones do not count; recent is 7 open days")
    func window() {
        let model = MeasurementReadModel()
        model.beginLoad(through: 0)
        var id: Int64 = 0
        func add(_ date: String, _ mbps: Double) {
            id += 1
            model.record(MeasurementPoint(resultID: id, school: "s", measuredAtMs: Self.noon(date), downloadMbps: mbps, uploadMbps: nil), in: Self.utc)
        }
        add("2026-11-27", 1)    // Friday, before a 3-open-day window
        add("2026-11-30", 30)   // Monday
        add("2026-12-01", 10)   // Tuesday
        add("2026-12-05", 0.1)  // Saturday: closed
        add("2026-12-04", 25)   // Friday
        let weekdays = Self.school(SchoolCalendar(openDays: [.monday, .tuesday, .wednesday, .thursday, .friday]))
        let settings = MeasurementSettings(windowDays: 5)
        // Sunday the 6th: the last 5 open days are Monday the 30th to Friday the 4th.
        let standing = model.standing(of: weekdays, settings: settings, today: LocalDate(parsing: "2026-12-06")!)
        #expect(standing.measurements == 3 && standing.medianDownloadMbps == 25 && standing.state == .meets && standing.reportedRecently)
        // Every day open: the Saturday counts, and the window (5 days back from the 6th) starts on the 2nd.
        let always = model.standing(of: Self.school(.always), settings: settings, today: LocalDate(parsing: "2026-12-06")!)
        #expect(always.measurements == 2 && always.state == .below && always.medianDownloadMbps == 12.55)
        // Twenty days later nothing is recent.
        let later = model.standing(of: weekdays, settings: MeasurementSettings(windowDays: 30), today: LocalDate(parsing: "2026-12-26")!)
        #expect(!later.reportedRecently)
    }

    @Test("a measurement stored while the loader reads is counted once: by the loader when its read saw it, else by intake")
    func loadRace() {
        let model = MeasurementReadModel()
        let school = Self.school(.always)
        let today = LocalDate(parsing: "2026-12-06")!
        func point(_ id: Int64) -> MeasurementPoint {
            MeasurementPoint(resultID: id, school: "s", measuredAtMs: Self.noon("2026-12-05"), downloadMbps: Double(id), uploadMbps: nil)
        }
        // Stored before the loader set its ceiling: 7 after the loader's read (its ceiling is 6), 5 before it.
        model.record(point(5), in: Self.utc)
        model.record(point(7), in: Self.utc)
        model.beginLoad(through: 6)
        model.load([point(5), point(6)], windows: ["s": (Self.utc, Int32(LocalDate(parsing: "2026-11-01")!.daysSinceEpoch))])
        model.record(point(6), in: Self.utc)  // at or below the ceiling: the loader's
        model.record(point(8), in: Self.utc)
        model.finishLoad()
        let standing = model.standing(of: school, settings: MeasurementSettings(windowDays: 30), today: today)
        #expect(standing.measurements == 4 && standing.medianDownloadMbps == 6.5, "5, 6, 7 and 8, each once")
    }
}
