import Foundation
import GovernorCore
import GovernorStore
import GovernorTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GovernorServer

@Suite("School calendars in the API: closed days have no runs, no misses and say why")
struct CalendarAPITests {
    /// TestGovernor's clock starts on Monday 2026-11-23 at 08:30 UTC.
    static let today = "2026-11-23"

    static func closedSchool(_ closed: String) -> String {
        TestGovernor.schoolFile().replacingOccurrences(of: "timezone = UTC", with: "timezone = UTC\n\(closed)")
    }

    @Test("a school closed today: the next run is tomorrow's, the schedule and the status say closed, a silent day is no miss",
          arguments: Backend.allCases)
    func closedToday(_ backend: Backend) async throws {
        let governor = try await TestGovernor(school: Self.closedSchool("closed = \(Self.today)"), backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let parts = governor.parts
            await parts.scheduler.generateDueWindows()
            let next = try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()
            let runAt = try #require(next["run_at_unix"] as? Int)
            #expect(LocalDate(containing: UnixTime(runAt), in: TimeZone(identifier: "UTC")!) == LocalDate(parsing: "2026-11-24"), "\(next)")

            let schedule = try await client.get("/v1/schools/alpha/schedule?date=\(Self.today)").json()
            #expect((schedule["windows"] as? [Any])?.isEmpty == true, "\(schedule)")
            #expect((schedule["closed_days"] as? [[String: String]]) == [["date": Self.today, "label": "closed"]])
            let status = try await client.get("/v1/status").json()
            let today = ((status["schools"] as? [[String: Any]])?.first?["today"]) as? [String: Any]
            #expect(today?["closed"] as? String == "closed", "\(status)")

            // The whole day passes; p2 never calls. Nothing is missed, nothing is sent.
            var judged = try await parts.alertService.evaluate(nil)
            for hour in 1...15 {
                governor.clock.set(TestGovernor.start + Double(hour * 3600))
                await parts.scheduler.generateDueWindows()
                judged = try await parts.alertService.evaluate(judged)
            }
            #expect(try await parts.database.runs(probe: "p2", from: 0, before: UnixTime(TestGovernor.start) + 15 * 3600).isEmpty)
            #expect(parts.status.health(of: "p2").consecutiveMissed == 0)
            #expect(try await parts.database.pendingOutboxCount() == 0)
        }
    }

    @Test("a reload that closes today drops the runs no probe was told about, keeps the announced one and does not judge it",
          arguments: Backend.allCases)
    func reloadClosesToday(_ backend: Backend) async throws {
        let governor = try await TestGovernor(backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let parts = governor.parts
            let announced = try #require(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int)
            let now = UnixTime(TestGovernor.start)
            let storedToday = try await parts.database.runs(probe: "p2", from: now + 1, before: now + 8 * 3600)
            #expect(!storedToday.isEmpty, "the window holding now stores p2's runs too")

            try governor.directory.write("schools/alpha.cfg", Self.closedSchool("closed = \(Self.today)"))
            #expect(await parts.reloader.reload())
            #expect(try await parts.database.runs(probe: "p2", from: now + 1, before: now + 8 * 3600).isEmpty, "p2 was told nothing")
            #expect(try await parts.database.runs(probe: "p1", from: now + 1, before: now + 8 * 3600) == [UnixTime(announced)], "p1's is a fact")
            #expect(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int == announced)

            // p1 goes silent; its announced run passes without a test, on a closed day.
            var judged = try await parts.alertService.evaluate(nil)
            governor.clock.set(Double(announced) + 3600)
            judged = try await parts.alertService.evaluate(judged)
            #expect(parts.status.health(of: "p1").consecutiveMissed == 0)
            let day = try await client.get("/v1/status").json()
            let runs = ((((day["schools"] as? [[String: Any]])?.first?["today"]) as? [String: Any])?["runs"]) as? [[String: Any]]
            #expect(runs?.compactMap { $0["outcome"] as? String } == ["closed"], "\(runs ?? [])")
        }
    }
}
