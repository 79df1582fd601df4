import Foundation
import GovernorCore
import GovernorTestSupport
import GRDB
import Testing

@testable import GovernorSQLite
import GovernorStore

@Suite("State database: migrations, dispatch claims, outbox")
struct SQLiteStateTests {
    static let allVersions = ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20"]
    static let tables = ["window", "run", "contact", "result", "dispatch", "alertState", "outbox"]

    /// A window at 08:00 UTC on 2026-11-23 with one run of p1 at 08:10.
    static let window = ScheduledWindow(
        bounds: WindowBounds(start: 1_795_420_800, end: 1_795_435_200, localDate: LocalDate(parsing: "2026-11-23")!,
                             startBoundary: TimeOfDay(secondsSinceMidnight: 8 * 3600)!),
        runs: [ScheduledRun(probe: "p1", runAt: 1_795_421_400)])

    static func result(runAt: Int64? = 1_795_421_400) -> TestResult {
        TestResult(probe: "p1", school: "alpha", mode: .pull, runAt: runAt, startedAtMs: 1_795_421_400_004, finishedAtMs: 1_795_421_435_000,
                   exitCode: 0, output: "ok", outputTruncated: false, clockOffsetMs: -1.5, receivedAt: 1_795_421_436)
    }

    static func appliedMigrations(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in try SQLiteState.migrator.appliedIdentifiers(db) }.sorted()
    }

    static func tableNames(_ path: String) throws -> Set<String> {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")) }
    }

    @Test("an empty file gets every table and every migration")
    func migratesAnEmptyFile() async throws {
        let directory = try TemporaryDirectory("governor-store")
        defer { directory.remove() }
        let path = directory.file("state/state.sqlite")  // the directory is made too
        let database = try SQLiteState.open(path: path)
        try database.close()
        #expect(try Self.appliedMigrations(path) == Self.allVersions.sorted())
        #expect(try Self.tableNames(path).isSuperset(of: Self.tables))
    }

    @Test("a file from each earlier version is brought up to date and keeps its rows", arguments: ["v1", "v2", "v3", "v4"])
    func migratesFromEarlierVersions(_ version: String) async throws {
        let directory = try TemporaryDirectory("governor-store")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        do {
            // A file as that version of the governor left it, with a schedule, a contact and a result.
            let queue = try DatabaseQueue(path: path)
            try SQLiteState.migrator.migrate(queue, upTo: version)
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO window (school, start, "end", localDate, startBoundary, generatedAt, fingerprint)
                    VALUES ('alpha', 1795420800, 1795435200, '2026-11-23', 28800, 1795420700, 'f');
                    INSERT INTO run (school, windowStart, sequence, probe, runAt) VALUES ('alpha', 1795420800, 0, 'p1', 1795421400);
                    INSERT INTO contact (probe, lastContact) VALUES ('p1', 1795421436);
                    INSERT INTO result (probe, school, mode, runAt, startedAtMs, finishedAtMs, exitCode, output, outputTruncated, receivedAt)
                    VALUES ('p1', 'alpha', 'pull', 1795421400, 1795421400004, 1795421435000, 0, 'ok', 0, 1795421436);
                    """)
            }
            try queue.close()
        }
        #expect(try Self.appliedMigrations(path) == Array(Self.allVersions.prefix { $0 <= version }).sorted())

        let database = try SQLiteState.open(path: path)
        let windows = try await database.windows(school: "alpha", startingFrom: 0, before: .max)
        #expect(windows.map(\.scheduled) == [Self.window] && windows.first?.generatedAt == 1_795_420_700)
        #expect(try await database.contacts() == ["p1": 1_795_421_436])
        #expect(try await database.results(probe: "p1", limit: 10).map(\.output) == ["ok"])
        // The tables of later versions work.
        #expect(try await database.claimDispatch(of: StoredRun(school: "alpha", probe: "p1", runAt: 1_795_421_400, windowStart: 1_795_420_800,
                                                                windowEnd: 1_795_435_200), at: 1_795_421_397))
        #expect(try await database.outboxBacklog() == (0, 0))
        // The result stored before measurements existed is still to be read for one.
        let backfill = try #require(try await database.measurementBackfill())
        #expect(backfill.after == 0 && backfill.last == 1)
        try database.close()
        #expect(try Self.appliedMigrations(path) == Self.allVersions.sorted())
    }

    @Test("v5: results stored twice before keep their rows; the first takes the run's identity, so a re-send finds it")
    func duplicatesBeforeV5() async throws {
        let directory = try TemporaryDirectory("governor-store")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteState.migrator.migrate(queue, upTo: "v4")
            try await queue.write { db in
                for output in ["first", "second"] {
                    try db.execute(sql: """
                        INSERT INTO result (probe, school, mode, runAt, exitCode, output, outputTruncated, receivedAt)
                        VALUES ('p1', 'alpha', 'pull', 1795421400, 0, ?, 0, 1795421436)
                        """, arguments: [output])
                }
            }
            try queue.close()
        }
        let database = try SQLiteState.open(path: path)
        defer { try? database.close() }
        #expect(try await database.results(probe: "p1", limit: 10).map(\.output) == ["second", "first"])
        var resent = Self.result()
        resent.idempotencyKey = "run:1795421400"
        let (stored, created) = try await database.insertOnce(resent)
        #expect(!created && stored.output == "first")
        #expect(try await database.results(probe: "p1", limit: 10).count == 2)
    }

    @Test("a window is stored once: a second version of it is refused and the first returned", arguments: Backend.allCases)
    func windowsAreFacts(_ backend: Backend) async throws {
        let (database, close) = try await backend.open("windowsAreFacts")
        defer { close() }
        _ = try await database.storeWindow(school: "alpha", Self.window, fingerprint: "a", generatedAt: 100)
        var other = Self.window
        other.runs = [ScheduledRun(probe: "p1", runAt: 1_795_430_000)]
        let stored = try await database.storeWindow(school: "alpha", other, fingerprint: "b", generatedAt: 200)
        #expect(stored == Self.window)
        #expect(try await database.inspection.runs(probe: "p1", from: 0, before: .max) == [1_795_421_400])
    }

    @Test("windows stored in one batch: new ones with their runs, a stored one kept as it was, in order", arguments: Backend.allCases)
    func windowBatches(_ backend: Backend) async throws {
        let (database, close) = try await backend.open("windowBatches")
        defer { close() }
        _ = try await database.storeWindow(school: "alpha", Self.window, fingerprint: "a", generatedAt: 100)
        var replacement = Self.window
        replacement.runs = [ScheduledRun(probe: "p1", runAt: 1_795_430_000)]
        var beta = Self.window
        beta.runs = [ScheduledRun(probe: "p2", runAt: 1_795_421_500)]
        let stored = try await database.storeWindows([
            NewWindow(school: "beta", window: beta, fingerprint: "b"),
            NewWindow(school: "alpha", window: replacement, fingerprint: "b"),
        ], generatedAt: 200)
        #expect(stored == [beta, Self.window])
        #expect(try await database.inspection.runs(probe: "p1", from: 0, before: .max) == [1_795_421_400])
        #expect(try await database.inspection.runs(probe: "p2", from: 0, before: .max) == [1_795_421_500])
        #expect(try await database.windows(school: "beta", startingFrom: 0, before: .max).map(\.generatedAt) == [200])
    }

    @Test("the runs to come, read at start-up: at or after the instant, in time order, each with its own window", arguments: Backend.allCases)
    func runsToCome(_ backend: Backend) async throws {
        let (database, close) = try await backend.open("runsToCome")
        defer { close() }
        let later = ScheduledWindow(
            bounds: WindowBounds(start: 1_795_435_200, end: 1_795_449_600, localDate: LocalDate(parsing: "2026-11-23")!,
                                 startBoundary: TimeOfDay(secondsSinceMidnight: 12 * 3600)!),
            runs: [ScheduledRun(probe: "p1", runAt: 1_795_440_000), ScheduledRun(probe: "p2", runAt: 1_795_436_000)])
        var first = Self.window
        first.runs += [ScheduledRun(probe: "p2", runAt: 1_795_430_000)]
        var beta = Self.window
        beta.runs = [ScheduledRun(probe: "q1", runAt: 1_795_425_000)]
        _ = try await database.storeWindows([
            NewWindow(school: "alpha", window: first, fingerprint: "a"),
            NewWindow(school: "alpha", window: later, fingerprint: "a"),
            NewWindow(school: "beta", window: beta, fingerprint: "b"),
        ], generatedAt: 100)
        let runs = try await database.runs(from: 1_795_425_000)
        #expect(runs.map(\.probe) == ["q1", "p2", "p2", "p1"])
        #expect(runs.map(\.runAt) == [1_795_425_000, 1_795_430_000, 1_795_436_000, 1_795_440_000])
        #expect(runs.map(\.school) == ["beta", "alpha", "alpha", "alpha"])
        #expect(runs.map(\.windowStart) == [Self.window.bounds.start, Self.window.bounds.start, later.bounds.start, later.bounds.start])
        #expect(runs.map(\.windowEnd) == [Self.window.bounds.end, Self.window.bounds.end, later.bounds.end, later.bounds.end])
        #expect(try await database.runs(from: 1_795_449_600).isEmpty)
    }

    @Test("a run is claimed once; finished, skipped and interrupted claims leave the due list", arguments: Backend.allCases)
    func dispatchClaims(_ backend: Backend) async throws {
        let (database, close) = try await backend.open("dispatchClaims")
        defer { close() }
        _ = try await database.storeWindow(school: "alpha", Self.window, fingerprint: "a", generatedAt: 100)
        let due = try await database.undispatchedRuns(of: ["p1"], from: 0, through: .max)
        let run = try #require(due.first)
        #expect(due.count == 1 && run.windowStart == Self.window.bounds.start && run.windowEnd == Self.window.bounds.end)

        #expect(try await database.claimDispatch(of: run, at: 1_795_421_397))
        #expect(try await database.claimDispatch(of: run, at: 1_795_421_398) == false)
        #expect(try await database.undispatchedRuns(of: ["p1"], from: 0, through: .max).isEmpty)
        // Claimed and not finished: what another governor, or this one restarted,
        // records as interrupted once the claim's governor is gone.
        #expect(try await database.orphanedDispatches(holder: "restarted") == [run])

        var result = Self.result()
        result.mode = .push
        let stored = try await database.finishDispatch(of: run, as: .done, result: result, at: 1_795_421_436)
        #expect(stored?.id != nil)
        #expect(try await database.orphanedDispatches(holder: "restarted").isEmpty)
        #expect(try await database.inspection.dispatchStates(probe: "p1", from: 0, before: .max) == [run.runAt: .done])
        // A finished claim is final: it is not finished again, and a late writer (a
        // governor that stalled while another recorded its run as interrupted) adds
        // no second result.
        let late = try await database.finishDispatch(of: run, as: .interrupted, result: result.with { $0.output = "late" }, at: 1_795_421_500)
        #expect(late == nil)
        #expect(try await database.inspection.dispatchStates(probe: "p1", from: 0, before: .max) == [run.runAt: .done])
        #expect(try await database.results(probe: "p1", limit: 10).map(\.id) == [stored?.id])

        // A skipped run is claimed and finished in one step.
        let skipped = StoredRun(school: "alpha", probe: "p2", runAt: 1_795_421_000, windowStart: run.windowStart, windowEnd: run.windowEnd)
        _ = try await database.finishDispatch(of: skipped, as: .skipped, result: Self.result(), at: 1_795_421_600, claimIfNeeded: true)
        #expect(try await database.inspection.dispatchStates(probe: "p2", from: 0, before: .max) == [skipped.runAt: .skipped])
        #expect(try await database.claimDispatch(of: skipped, at: 1_795_421_601) == false)
    }

    @Test("outbox: queued with its state change, due, failed with backoff, sent once", arguments: Backend.allCases)
    func outboxTransitions(_ backend: Backend) async throws {
        let (database, close) = try await backend.open("outboxTransitions")
        defer { close() }
        let state = ProbeAlertState.new(at: 1000, lastContact: nil)
        let message = OutboxMessage(messageId: "m1@governor", sender: "governor@example.org", recipients: ["noc@example.org", "it@example.org"],
                                    subject: "[governor] DOWN", body: "text", createdAt: 1000)
        try await database.saveAlerts(states: ["p1": ("alpha", state)], removing: [], queue: [message])
        #expect(try await database.alertStates() == ["p1": state])
        #expect(try await database.outboxBacklog() == (1, 0))

        let due = try await database.inspection.dueOutboxMessages(at: 1000)
        let id = try #require(due.first?.id)
        #expect(due.count == 1 && due.first?.recipientList == ["noc@example.org", "it@example.org"] && due.first?.attempts == 0)

        try await database.markFailed(id, error: "421 try later", nextAttemptAt: 1005)
        #expect(try await database.inspection.dueOutboxMessages(at: 1004).isEmpty)
        let retried = try #require(try await database.inspection.dueOutboxMessages(at: 1005).first)
        #expect(retried.attempts == 1 && retried.lastError == "421 try later" && retried.messageId == "m1@governor")
        #expect(try await database.outboxBacklog() == (1, 1))

        try await database.markSent(id, at: 1006)
        #expect(try await database.inspection.dueOutboxMessages(at: .max).isEmpty)
        #expect(try await database.inspection.pendingOutboxCount() == 0)
        #expect(try await database.outboxBacklog() == (0, 0))

        // A removed probe's state goes; the sent message stays on record.
        try await database.saveAlerts(states: [:], removing: ["p1"], queue: [])
        #expect(try await database.alertStates().isEmpty)
    }

    @Test("results: a run's newest result counts; the latest result comes without its output", arguments: Backend.allCases)
    func runResults(_ backend: Backend) async throws {
        let (database, close) = try await backend.open("runResults")
        defer { close() }
        let first = try await database.inspection.insert(Self.result())
        var failed = Self.result()
        failed.exitCode = 2
        failed.output = String(repeating: "x", count: 1000)
        let second = try await database.inspection.insert(failed)
        let results = try await database.runResults(school: "alpha", from: 0, before: .max)
        #expect(results == [RunResultKey(probe: "p1", runAt: 1_795_421_400): StoredRunResult(id: second.id!, facts: .init(exitCode: 2, failure: nil))])
        #expect(try await database.runResults(probe: "p1", from: 1_795_421_400, through: 1_795_421_400) == results)
        #expect(first.id! < second.id!)
        let latest = try #require(try await database.inspection.latestResult(probe: "p1"))
        #expect(latest.id == second.id && latest.output.isEmpty && latest.exitCode == 2)
        #expect(try await database.latestResults()["p1"]?.id == second.id)
        // A result of a group run keeps its group.
        var grouped = Self.result()
        grouped.runAt = 1_795_425_000
        grouped.group = "lab"
        let stored = try await database.inspection.insert(grouped)
        #expect(try await database.results(probe: "p1", limit: 10).first { $0.id == stored.id }?.group == "lab")
        #expect(try await database.latestResults()["p1"]?.group == "lab")
        #expect(try await database.results(probe: "p1", limit: 10).first { $0.id == first.id }?.group == nil)
    }
}
