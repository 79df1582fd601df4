import Foundation
import Testing

@testable import GovernorCore

@Suite("Where each school stands")
struct SchoolStandingTests {
    static let settings = MeasurementSettings(targetDownloadMbps: 20, poorBelowMbps: 1, windowDays: 30)
    static let benchmark = SchoolTarget(profile: SchoolProfile(), settings: settings)

    @Test("exactly one state, from the window's median download", arguments: [
        ([Double](), MeasurementState.noData, nil as Double?),
        ([25], .meets, 25),
        ([20], .meets, 20),  // at the target meets it
        ([19.99], .below, 19.99),
        ([1], .below, 1),    // at the poor threshold is not poor
        ([0.99], .poor, 0.99),
        // The median, not the mean: one saturated test does not sink a good month.
        ([30, 31, 0.2, 29, 32], .meets, 30),
        ([0.1, 0.2, 50], .poor, 0.2),
        ([10, 30], .meets, 20),  // even count: the mean of the two middle values
    ])
    func states(downloads: [Double], state: MeasurementState, median: Double?) {
        let standing = SchoolStanding.judge(downloads: downloads, uploads: [], reportedRecently: false, target: Self.benchmark, profile: SchoolProfile(),
                                            settings: Self.settings)
        #expect(standing.state == state)
        #expect(standing.medianDownloadMbps == median)
        #expect(standing.measurements == downloads.count)
    }

    @Test("a contract: its download is the target, and 80 % of it is what the contract KPI asks")
    func contract() {
        let profile = SchoolProfile(contractedDownloadMbps: 100)
        let target = SchoolTarget(profile: profile, settings: Self.settings)
        let at85 = SchoolStanding.judge(downloads: [85], uploads: [9, 11], reportedRecently: true, target: target, profile: profile, settings: Self.settings)
        #expect(at85.state == .below && at85.reachesContract == true && at85.medianUploadMbps == 10)
        let at79 = SchoolStanding.judge(downloads: [79.9], uploads: [], reportedRecently: true, target: target, profile: profile, settings: Self.settings)
        #expect(at79.reachesContract == false)
        let none = SchoolStanding.judge(downloads: [], uploads: [], reportedRecently: false, target: target, profile: profile, settings: Self.settings)
        #expect(none.reachesContract == nil && none.medianUploadMbps == nil)
    }

    @Test("the window is the last open days: closed days neither count nor stretch it")
    func window() throws {
        let weekdays = SchoolCalendar(openDays: [.monday, .tuesday, .wednesday, .thursday, .friday])
        let school = SchoolConfig(name: "s", file: "s.cfg", timeZone: TimeZone(identifier: "UTC")!, timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                                  probes: [], calendar: weekdays)
        let sunday = try #require(LocalDate(parsing: "2026-12-06"))
        // The last 5 open days before Sunday the 6th: Monday the 30th to Friday the 4th.
        #expect(school.windowStart(openDays: 5, through: sunday) == LocalDate(parsing: "2026-11-30"))
        #expect(school.windowStart(openDays: 1, through: sunday) == LocalDate(parsing: "2026-12-04"))
        let always = SchoolConfig(name: "a", file: "a.cfg", timeZone: TimeZone(identifier: "UTC")!, timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                                  probes: [])
        #expect(always.windowStart(openDays: 30, through: sunday) == LocalDate(parsing: "2026-11-07"))
    }

    @Test("the KPIs: measured schools meeting their target, contracted schools at 80 %, schools that reported in 7 open days")
    func kpis() {
        let settings = Self.settings
        func standing(_ downloads: [Double], contract: Double? = nil, recent: Bool) -> SchoolStanding {
            let profile = SchoolProfile(contractedDownloadMbps: contract)
            return SchoolStanding.judge(downloads: downloads, uploads: [], reportedRecently: recent, target: SchoolTarget(profile: profile, settings: settings),
                                        profile: profile, settings: settings)
        }
        let kpis = MeasurementKPIs([
            standing([25], recent: true),                // meets
            standing([5], recent: true),                 // below
            standing([90], contract: 100, recent: true), // below its contract, but at 90 % of it
            standing([50], contract: 100, recent: false),
            standing([], contract: 100, recent: false),  // no data: in no share but the reporting one
        ])
        #expect(kpis == MeasurementKPIs(schools: 5, measured: 4, meetingTarget: 1, contracted: 2, reachingContract: 1, reportedRecently: 3))
        #expect(kpis.meetingTargetShare == 0.25 && kpis.reachingContractShare == 0.5 && kpis.reportedRecentlyShare == 0.6)
        #expect(MeasurementKPIs([]).meetingTargetShare == nil)
    }
}
