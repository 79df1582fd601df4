import Foundation
import GovernorCore
import GovernorPostgres
import GovernorStore
import GovernorTestSupport
import Logging
import PostgresNIO
import Testing

/// The state's backends, each a real database: an SQLite file, and a database on a
/// PostgreSQL server started for the test process.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A fresh, migrated store of this backend, and how to close and remove it.
    func open(_ label: String) async throws -> (store: any ScheduleStore, close: @Sendable () -> Void) {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory("governor-store")
            let database = try AppDatabase.open(path: directory.file("state.sqlite"))
            return (database, { try? database.close(); directory.remove() })
        case .postgres:
            let state = try await Self.postgres(label)
            return (state, { state.close() })
        }
    }

    /// A migrated ``PostgresState`` on a database of its own.
    static func postgres(_ label: String, database: String? = nil) async throws -> PostgresState {
        let server = try TestPostgres.shared()
        let name: String
        if let database {
            name = database
        } else {
            name = TestPostgres.uniqueName(label)
            _ = try server.freshDatabase(name)
        }
        let configuration = PostgresClient.Configuration(host: "127.0.0.1", port: server.port, username: server.user,
                                                         password: nil, database: name, tls: .disable)
        var logger = Logger(label: "governor.test.postgres")
        logger.logLevel = .warning
        return try await PostgresState.connect(configuration, logger: logger)
    }
}

@Suite("Schedules are facts, on SQLite and on PostgreSQL")
struct ScheduleStoreTests {
    /// A window at 08:00 UTC on 2026-11-23.
    static func window(start: UnixTime = 1_795_420_800, hours: Int64 = 4, runs: [ScheduledRun]) -> ScheduledWindow {
        ScheduledWindow(
            bounds: WindowBounds(start: start, end: start + hours * 3600, localDate: LocalDate(parsing: "2026-11-23")!,
                                 startBoundary: TimeOfDay(secondsSinceMidnight: Int((start % 86400)))!),
            runs: runs)
    }

    @Test("a window is stored once: a second version is refused and the first returned, with its runs", arguments: Backend.allCases)
    func windowsAreFacts(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("facts")
        defer { close() }
        let first = Self.window(runs: [ScheduledRun(probe: "p1", runAt: 1_795_421_400), ScheduledRun(probe: "p2", runAt: 1_795_425_000)])
        #expect(try await store.storeWindow(school: "alpha", first, fingerprint: "a", generatedAt: 100) == first)
        let other = Self.window(runs: [ScheduledRun(probe: "p1", runAt: 1_795_430_000)])
        #expect(try await store.storeWindow(school: "alpha", other, fingerprint: "b", generatedAt: 200) == first)
        #expect(try await store.runs(probe: "p1", from: 0, before: .max) == [1_795_421_400])
        let stored = try await store.windows(school: "alpha", startingFrom: 0, before: .max)
        #expect(stored.map(\.scheduled) == [first] && stored.map(\.generatedAt) == [100])
    }

    @Test("windows in one batch, in order; the runs to come with their windows; generated through; dropped runs", arguments: Backend.allCases)
    func batchesAndReads(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("batches")
        defer { close() }
        let morning = Self.window(runs: [ScheduledRun(probe: "p1", runAt: 1_795_421_400), ScheduledRun(probe: "p2", runAt: 1_795_430_000)])
        let noon = Self.window(start: 1_795_435_200, runs: [ScheduledRun(probe: "p2", runAt: 1_795_436_000), ScheduledRun(probe: "p1", runAt: 1_795_440_000)])
        let beta = Self.window(runs: [ScheduledRun(probe: "q1", runAt: 1_795_425_000)])
        let stored = try await store.storeWindows([
            NewWindow(school: "alpha", window: morning, fingerprint: "a"),
            NewWindow(school: "alpha", window: noon, fingerprint: "a"),
            NewWindow(school: "beta", window: beta, fingerprint: "b"),
        ], generatedAt: 100)
        #expect(stored == [morning, noon, beta])
        #expect(try await store.generatedThrough() == ["alpha": noon.bounds.end, "beta": beta.bounds.end])

        let runs = try await store.runs(from: 1_795_425_000)
        #expect(runs.map(\.probe) == ["q1", "p2", "p2", "p1"])
        #expect(runs.map(\.runAt) == [1_795_425_000, 1_795_430_000, 1_795_436_000, 1_795_440_000])
        #expect(runs.map(\.windowEnd) == [beta.bounds.end, morning.bounds.end, noon.bounds.end, noon.bounds.end])
        #expect(try await store.windows(school: "alpha", startingFrom: noon.bounds.start, before: .max).map(\.scheduled) == [noon])

        #expect(try await store.dropRuns(of: ["p2"], after: 1_795_430_000) == 1)
        #expect(try await store.runs(probe: "p2", from: 0, before: .max) == [1_795_430_000])
        #expect(try await store.runs(probe: "p1", from: 0, before: .max) == [1_795_421_400, 1_795_440_000])
        #expect(try await store.dropRuns(of: [], after: 0) == 0)
    }

    @Test("two governors store the same window at the same moment: one version wins and both get it")
    func concurrentGovernorsAgree() async throws {
        let server = try TestPostgres.shared()
        let name = TestPostgres.uniqueName("race")
        _ = try server.freshDatabase(name)
        // Two pools, as two governor processes have; both migrate at once (the advisory lock takes turns).
        async let first = Backend.postgres("race", database: name)
        async let second = Backend.postgres("race", database: name)
        let governors = try await [first, second]
        defer { governors.forEach { $0.close() } }
        for round in 0..<20 {
            let start = 1_795_420_800 + Int64(round) * 14_400
            let versions = (0..<2).map { index in
                Self.window(start: start, runs: (0..<10).map { ScheduledRun(probe: "p\($0)", runAt: start + Int64(index * 100 + $0 + 1)) })
            }
            async let a = governors[0].storeWindows([NewWindow(school: "alpha", window: versions[0], fingerprint: "a")], generatedAt: start)
            async let b = governors[1].storeWindows([NewWindow(school: "alpha", window: versions[1], fingerprint: "a")], generatedAt: start)
            let (won, lost) = try await (a, b)
            #expect(won == lost, "round \(round)")
            #expect(versions.contains(won[0]))
            let stored = try await governors[1].windows(school: "alpha", startingFrom: start, before: start + 1)
            #expect(stored.map(\.scheduled) == won, "round \(round): what is stored is what both serve")
        }
        #expect(try server.psql("SELECT count(*) FROM governor_migrations", database: name) == String(PostgresSchemaNames.count))
    }
}

/// How many migrations ``AppDatabase`` has; the PostgreSQL schema has the same names.
enum PostgresSchemaNames {
    static let count = AppDatabaseTests.allVersions.count
}
