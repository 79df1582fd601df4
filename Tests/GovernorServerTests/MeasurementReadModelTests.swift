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

    /// A school with probes `single` on their own and `grouped` in the group "lab".
    static func grouped(single: [String], grouped: [String]) -> SchoolConfig {
        var school = Self.school(.always)
        school.probes = (single + grouped).enumerated().map { ProbeConfig(name: $0.element, mode: .pull, line: $0.offset + 2) }
        school.groups = [ProbeGroup(name: "lab", probes: grouped, line: 9)]
        return school
    }

    @Test("a group run is its members' sum: it judges a school whose every probe is in a group, and is charted beside single runs")
    func groupRuns() {
        let model = MeasurementReadModel()
        model.beginLoad(through: 0)
        var id: Int64 = 0
        func add(_ date: String, _ download: Double?, _ upload: Double?, group: String? = nil, runAt: Int64? = nil) {
            id += 1
            model.record(MeasurementPoint(resultID: id, school: "s", measuredAtMs: Self.noon(date) + id, downloadMbps: download, uploadMbps: upload,
                                          groupRun: GroupRunKey(group: group, runAt: runAt)), in: Self.utc)
        }
        let run1 = Self.noon("2026-12-04") / 1000
        let run2 = Self.noon("2026-12-05") / 1000
        add("2026-12-04", 90, 20, group: "lab", runAt: run1)
        add("2026-12-04", 85, nil, group: "lab", runAt: run1)   // no upload: adds none
        add("2026-12-05", 60, 10, group: "lab", runAt: run2)
        add("2026-12-05", nil, 12, group: "lab", runAt: run2)   // no download: adds none
        add("2026-12-05", 40, 9)                                 // a single probe's
        let settings = MeasurementSettings(windowDays: 30)
        let today = LocalDate(parsing: "2026-12-06")!

        // With a single probe, the school stands by it alone.
        let mixed = Self.grouped(single: ["solo"], grouped: ["lab-1", "lab-2"])
        #expect(!mixed.judgedByGroupRuns)
        let bySingle = model.standing(of: mixed, settings: settings, today: today)
        #expect(bySingle.measurements == 1 && bySingle.medianDownloadMbps == 40 && !bySingle.byGroupRuns)

        // Every probe in a group: the runs' sums, 175 and 60 down, 20 and 22 up.
        let allGrouped = Self.grouped(single: [], grouped: ["lab-1", "lab-2"])
        #expect(allGrouped.judgedByGroupRuns)
        let byRuns = model.standing(of: allGrouped, settings: settings, today: today)
        #expect(byRuns.byGroupRuns && byRuns.measurements == 2)
        #expect(byRuns.medianDownloadMbps == 117.5 && byRuns.medianUploadMbps == 21)

        // The chart has both series, each on its day.
        let days = model.daily(of: mixed, settings: settings, today: today)
        let fourth = days.first { $0.date == LocalDate(parsing: "2026-12-04")! }
        let fifth = days.first { $0.date == LocalDate(parsing: "2026-12-05")! }
        #expect(fourth?.downloadMedianMbps == nil && fourth?.groupDownloadMedianMbps == 175 && fourth?.groupUploadMedianMbps == 20)
        #expect(fifth?.downloadMedianMbps == 40 && fifth?.count == 1 && fifth?.groupDownloadMedianMbps == 60 && fifth?.groupCount == 1)

        // The daily digest reads what judges the school.
        #expect(model.dailyDownloadMedians(of: allGrouped)[LocalDate(parsing: "2026-12-04")!] == 175)
        #expect(model.dailyDownloadMedians(of: mixed)[LocalDate(parsing: "2026-12-04")!] == nil)

        // A month on, both kinds have left the window.
        let later = model.standing(of: allGrouped, settings: MeasurementSettings(windowDays: 5), today: LocalDate(parsing: "2027-01-20")!)
        #expect(later.measurements == 0 && later.state == .noData)
        var left = 0
        model.entries(of: "s", groupRuns: true) { _ in left += 1 }
        #expect(left == 0)
    }
}
