import Foundation
import GovernorCore
import GovernorSQLite
import GovernorStore
import GovernorTestSupport
import Logging
import Synchronization
import Testing

@testable import GovernorServer

/// Windows stored on demand go to the database in group commits: a fleet asking at
/// once on an empty state costs a transaction per batch, not one per school, and no
/// run is answered before the transaction that holds it is durable.
@Suite("Windows asked for at once are stored in group commits")
struct GroupCommitTests {
    /// The schedule part of a real SQLite state, counting its transactions of windows.
    final class CountingScheduleStore: ScheduleStore {
        let base: SQLiteState
        let commits = Mutex<[Int]>([])

        init(_ base: SQLiteState) { self.base = base }

        func storeWindows(_ windows: [NewWindow], generatedAt: UnixTime) async throws -> [ScheduledWindow] {
            // Slow enough that the requests of a fleet pile up behind one commit, as
            // they do behind a real disk's fsync.
            try await Task.sleep(for: .milliseconds(20))
            let stored = try await base.storeWindows(windows, generatedAt: generatedAt)
            commits.withLock { $0.append(windows.count) }
            return stored
        }
        func windows(school: String, startingFrom from: UnixTime, before to: UnixTime) async throws -> [StoredWindow] {
            try await base.windows(school: school, startingFrom: from, before: to)
        }
        func generatedThrough() async throws -> [String: UnixTime] { try await base.generatedThrough() }
        func runs(from instant: UnixTime) async throws -> [StoredRun] { try await base.runs(from: instant) }
        func dropRuns(of probes: Set<String>, after instant: UnixTime, reason: String, at now: UnixTime) async throws -> Int {
            try await base.dropRuns(of: probes, after: instant, reason: reason, at: now)
        }
        func dropRuns(_ runs: [StoredRun], reason: String, at now: UnixTime) async throws -> Int {
            try await base.dropRuns(runs, reason: reason, at: now)
        }
        func cancelledRuns(probe: String, after instant: UnixTime) async throws -> [CancelledRun] {
            try await base.cancelledRuns(probe: probe, after: instant)
        }
        func forgetCancelledRuns(before instant: UnixTime) async throws { try await base.forgetCancelledRuns(before: instant) }
        func dropEmptyWindows(school: String, endingAfter instant: UnixTime) async throws -> [UnixTime] {
            try await base.dropEmptyWindows(school: school, endingAfter: instant)
        }
    }

    static let schools: [SchoolConfig] = (0..<300).map { index in
        let timing = Timing(boundaries: [TimeOfDay(hour: 8, minute: 0)!, TimeOfDay(hour: 16, minute: 0)!], runsPerPeriod: 2,
                            delaySeconds: 60, testDurationSeconds: 35, overnight: false)
        return SchoolConfig(name: String(format: "school-%03d", index), file: "s\(index).cfg", timeZone: TimeZone(identifier: "UTC")!,
                            timing: timing, probes: [ProbeConfig(name: "p\(index)", mode: .pull, line: 1)])
    }

    @Test("300 schools asking at once: a few commits, every answered run stored, every window stored once")
    func fleetAsksAtOnce() async throws {
        let directory = try TemporaryDirectory("governor-group-commit")
        defer { directory.remove() }
        let database = try SQLiteState.open(path: directory.file("state.sqlite"))
        defer { try? database.close() }
        let store = CountingScheduleStore(database)
        let configuration = Configuration(governor: GovernorSettings(file: directory.file("governor.cfg")), schools: Self.schools, problems: [])
        let owner = ScheduleOwner(database: store, live: LiveConfiguration(configuration), metrics: GovernorMetrics(startedAt: 0),
                                  logger: Logger(label: "test"))
        let now: UnixTime = 1_795_392_000 + 7 * 3600  // 2026-11-23 07:00 UTC, before the day's window
        let answers = try await withThrowingTaskGroup(of: StoredRun?.self) { group in
            for school in Self.schools {
                group.addTask { try await owner.nextRun(of: school.probes[0].name, in: school, after: now) }
            }
            return try await group.reduce(into: [StoredRun]()) { if let run = $1 { $0.append(run) } }
        }
        #expect(answers.count == Self.schools.count)
        let commits = store.commits.withLock { $0 }
        #expect(commits.reduce(0, +) == Self.schools.count, "each window stored once: \(commits)")
        #expect(commits.count <= 20, "\(commits.count) transactions for \(Self.schools.count) schools: \(commits)")
        for run in answers {
            #expect(try await database.inspection.runs(probe: run.probe, from: run.runAt, before: run.runAt + 1) == [run.runAt])
        }
    }
}
