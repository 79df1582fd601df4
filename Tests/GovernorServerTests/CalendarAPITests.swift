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
            #expect(String(buffer: try await client.get("/schools/alpha").body).contains("\(Self.today) · closed: closed"))
            #expect(String(buffer: try await client.get("/").body).contains("closed today: closed"))

            // The whole day passes; p2 never calls. Nothing is missed, nothing is sent.
            var judged = try await parts.alertService.evaluate(nil)
            for hour in 1...15 {
                governor.clock.set(TestGovernor.start + Double(hour * 3600))
                await parts.scheduler.generateDueWindows()
                judged = try await parts.alertService.evaluate(judged)
            }
            #expect(try await parts.database.inspection.runs(probe: "p2", from: 0, before: UnixTime(TestGovernor.start) + 15 * 3600).isEmpty)
            #expect(parts.status.health(of: "p2").consecutiveMissed == 0)
            #expect(try await parts.database.inspection.pendingOutboxCount() == 0)
        }
    }

    /// A school closed for ten days whose probe asked during the closure had the
    /// first window after it stored; a reload that removed the closure left today
    /// with no window, and /next still answered the day after the old closure.
    @Test("a reload that reopens closed days gives them their windows from now on, as if the closure had never been written; announced runs stay",
          arguments: Backend.allCases)
    func reloadReopens(_ backend: Backend) async throws {
        let governor = try await TestGovernor(school: Self.closedSchool("closed = 2026-11-23..2026-12-03"), backend: backend)
        defer { governor.remove() }
        try await governor.test { client throws in
            let parts = governor.parts
            let now = UnixTime(TestGovernor.start)
            let reopening = UnixTime(1_796_342_400)  // 2026-12-04T00:00Z, the first open day
            let announced = try #require(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int)
            #expect(UnixTime(announced) >= reopening)

            try governor.directory.write("schools/alpha.cfg", TestGovernor.schoolFile())
            #expect(await parts.reloader.reload())
            let next = try #require(try await client.get("/v1/probes/p1/next", token: TestGovernor.tokens["p1"]).json()["run_at_unix"] as? Int)
            #expect(UnixTime(next) > now && UnixTime(next) < now + 8 * 3600, "today's run, not \(RFC3339.format(UnixTime(next)))")
            // Every window of the reopened days is there, drawn as it would have been.
            let today = try await parts.database.windows(school: "alpha", startingFrom: now - 3600, before: now + 7 * 3600)
            #expect(today.map { RFC3339.format($0.bounds.start) } == ["2026-11-23T08:00:00Z", "2026-11-23T12:00:00Z"])
            #expect(today.allSatisfy { window in window.runs.count == 4 && window.runs.allSatisfy { window.bounds.start <= $0.runAt && $0.runAt < window.bounds.end } })
            let days = try await parts.database.windows(school: "alpha", startingFrom: now, before: reopening)
            #expect(Set(days.map { $0.bounds.localDate }).count == 11, "11 days, today through 12-03")
            #expect(days.allSatisfy { $0.runs.count == 4 })
            // The run announced before the reload is a fact.
            #expect(try await parts.database.inspection.runs(probe: "p1", from: reopening, before: reopening + 86_400).contains(UnixTime(announced)))

            // Closed again for one day: its runs go (nobody was told), its window stays
            // empty; open again: the day's window is drawn anew, not left empty.
            let tomorrow = now + 86_400
            try governor.directory.write("schools/alpha.cfg", Self.closedSchool("closed = 2026-11-24"))
            #expect(await parts.reloader.reload())
            #expect(try await parts.database.inspection.runs(probe: "p2", from: tomorrow - 1800, before: tomorrow + 27_000).isEmpty)
            try governor.directory.write("schools/alpha.cfg", TestGovernor.schoolFile())
            #expect(await parts.reloader.reload())
            #expect(try await parts.database.inspection.runs(probe: "p2", from: tomorrow - 1800, before: tomorrow + 27_000).count == 4)
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
            let storedToday = try await parts.database.inspection.runs(probe: "p2", from: now + 1, before: now + 8 * 3600)
            #expect(!storedToday.isEmpty, "the window holding now stores p2's runs too")

            try governor.directory.write("schools/alpha.cfg", Self.closedSchool("closed = \(Self.today)"))
            #expect(await parts.reloader.reload())
            #expect(try await parts.database.inspection.runs(probe: "p2", from: now + 1, before: now + 8 * 3600).isEmpty, "p2 was told nothing")
            #expect(try await parts.database.inspection.runs(probe: "p1", from: now + 1, before: now + 8 * 3600) == [UnixTime(announced)], "p1's is a fact")
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

    @Test("a probe DOWN when a closure starts stays DOWN without reminders on the closed day; they resume after it")
    func noRemindersWhileClosed() async throws {
        let alerts = "[Alerts]\nsmtp = smtp://127.0.0.1:9\nfrom = governor@example.org\nto = noc@example.org\nmissed_runs = 1\nrepeat = 1h\n"
        // Closed on Tuesday 2026-11-24; the clock starts on Monday at 08:30.
        let governor = try await TestGovernor(governor: alerts, school: Self.closedSchool("closed = 2026-11-24"))
        defer { governor.remove() }
        let parts = governor.parts
        var judged = try await parts.alertService.evaluate(nil)
        var queuedAt: [Int: Int] = [:]  // hours after the start → messages queued by then
        for step in 1...(48 * 6) {
            governor.clock.set(TestGovernor.start + Double(step * 600))
            await parts.scheduler.generateDueWindows()
            judged = try await parts.alertService.evaluate(judged)
            if step % 6 == 0 { queuedAt[step / 6] = try await parts.database.inspection.pendingOutboxCount() }
        }
        #expect(parts.status.health(of: "p1").state == .down)
        // Hours 16 to 39 after Monday 08:30 are Tuesday 00:30 to Tuesday 23:30.
        #expect(queuedAt[15]! > 1, "DOWN, then hourly reminders on Monday: \(queuedAt.sorted { $0.key < $1.key })")
        #expect(queuedAt[39] == queuedAt[16], "none on the closed Tuesday: \(queuedAt.sorted { $0.key < $1.key })")
        #expect(queuedAt[47]! > queuedAt[39]!, "they resume on Wednesday")
    }
}
