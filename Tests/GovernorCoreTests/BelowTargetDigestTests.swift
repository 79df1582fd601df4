import Foundation
import GovernorTestSupport
import Testing

@testable import GovernorCore

@Suite("The daily digest of schools below target")
struct BelowTargetDigestTests {
    static func date(_ text: String) -> LocalDate { LocalDate(parsing: text)! }
    static let weekdays = SchoolCalendar(openDays: [.monday, .tuesday, .wednesday, .thursday, .friday])

    @Test("below as of a date: its last N open days with a measurement all under the target; days without one are skipped")
    func isBelow() {
        // Mon 2026-11-30 … Fri 2026-12-04; the weekend is closed.
        let medians: [LocalDate: Double] = [Self.date("2026-11-30"): 25, Self.date("2026-12-01"): 12, Self.date("2026-12-03"): 9,
                                            Self.date("2026-12-04"): 11, Self.date("2026-12-05"): 2]
        func below(_ days: Int, through: String) -> Bool {
            BelowTargetDigest.isBelow(dailyMedians: medians, calendar: Self.weekdays, targetMbps: 20, days: days, through: Self.date(through))
        }
        #expect(below(3, through: "2026-12-04"))   // Fri, Thu, (Wed has none), Tue
        #expect(!below(4, through: "2026-12-04"))  // Monday met its target
        #expect(below(3, through: "2026-12-06"))   // the closed weekend changes nothing, Saturday's figure is not counted
        #expect(!below(1, through: "2026-11-30"))
        #expect(!below(3, through: "2026-12-02"))  // only two days of a run of three yet
    }

    @Test("newly below, still below, recovered, or nothing: yesterday against the day before", arguments: [
        ([("2026-12-01", 5.0), ("2026-12-02", 6.0)], "2026-12-02", BelowTargetDigest.Change.newlyBelow as BelowTargetDigest.Change?),
        ([("2026-12-01", 5.0), ("2026-12-02", 6.0), ("2026-12-03", 4.0)], "2026-12-03", .stillBelow),
        ([("2026-12-01", 5.0), ("2026-12-02", 6.0), ("2026-12-03", 40.0)], "2026-12-03", .recovered),
        ([("2026-12-01", 30.0), ("2026-12-02", 40.0)], "2026-12-02", nil),
    ])
    func change(medians: [(String, Double)], yesterday: String, change: BelowTargetDigest.Change?) {
        let daily = Dictionary(uniqueKeysWithValues: medians.map { (Self.date($0.0), $0.1) })
        #expect(BelowTargetDigest.change(dailyMedians: daily, calendar: .always, targetMbps: 20, days: 2, yesterday: Self.date(yesterday)) == change)
    }
}

extension BelowTargetDigestTests {
    @Test("below_target_days and digest_at load; a run as long as the window, or a time that is none, is an error with the line")
    func settings() throws {
        func load(_ alerts: String, governor: String = "") throws -> Configuration {
            let directory = try GovernorTestSupport.TemporaryDirectory()
            defer { directory.remove() }
            return try ConfigLoader.load(governorFile: try directory.write("governor.cfg", "[Governor]\nrequire_tokens = no\n\(governor)[Alerts]\n\(alerts)"))
        }
        /// A broken governor.cfg is refused whole: its problems.
        func refused(_ alerts: String, governor: String = "") throws -> [String] {
            do {
                _ = try load(alerts, governor: governor)
                return []
            } catch let error as ConfigurationError {
                return error.problems.filter(\.isError).map(\.description)
            }
        }
        let good = try load("below_target_days = 5\ndigest_at = 06:30\n")
        #expect(good.governor.alertSettings.belowTargetDays == 5 && good.governor.alertSettings.digestAt == TimeOfDay(parsing: "06:30"))
        #expect(try load("").governor.alertSettings.belowTargetDays == nil)
        let tooLong = try refused("below_target_days = 7\n", governor: "measurement_window = 7d\n")
        #expect(tooLong.count == 1 && tooLong[0].hasSuffix("governor.cfg:5: error: 'below_target_days' is 7; it must be shorter than measurement_window (7 open days), over which the governor keeps daily medians"), "\(tooLong)")
        let badTime = try refused("digest_at = morning\n")
        #expect(badTime.count == 1 && badTime[0].contains("'digest_at' is 'morning'; expected a time of day such as 07:00"), "\(badTime)")
    }
}
