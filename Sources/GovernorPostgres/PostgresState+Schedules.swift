public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: ScheduleStore {
    /// Stores each window unless it is stored already. Two governors storing the same
    /// window at once: PostgreSQL makes the second insert wait for the first's
    /// transaction, then skip it (`ON CONFLICT DO NOTHING`); the second then reads the
    /// first's version, which both serve.
    public func storeWindows(_ windows: [NewWindow], generatedAt: UnixTime) async throws -> [ScheduledWindow] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !windows.isEmpty else { return [] }
            return try await client.withTransaction(logger: logger) { connection in
                var stored: [ScheduledWindow] = []
                stored.reserveCapacity(windows.count)
                for new in windows {
                    let bounds = new.window.bounds
                    let inserted = try await connection.query("""
                        INSERT INTO windows (school, window_start, window_end, local_date, start_boundary, generated_at, fingerprint)
                        VALUES (\(new.school), \(bounds.start), \(bounds.end), \(bounds.localDate.description),
                                \(bounds.startBoundary.secondsSinceMidnight), \(generatedAt), \(new.fingerprint))
                        ON CONFLICT (school, window_start) DO NOTHING RETURNING window_start
                        """, logger: logger).collect()
                    guard !inserted.isEmpty else {
                        stored.append(try await Self.window(of: new.school, startingAt: bounds.start, on: connection, logger: logger))
                        continue
                    }
                    let runs = new.window.runs
                    try await connection.query("""
                        INSERT INTO runs (school, window_start, sequence, probe, run_at)
                        SELECT \(new.school), \(bounds.start), sequence, probe, run_at
                        FROM unnest(\(Array(0..<runs.count)), \(runs.map(\.probe)), \(runs.map(\.runAt))) AS r(sequence, probe, run_at)
                        """, logger: logger)
                    stored.append(new.window)
                }
                return stored
            }
        }
    }

    public func windows(school: String, startingFrom from: UnixTime, before to: UnixTime) async throws -> [StoredWindow] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("""
                SELECT window_start, window_end, local_date, start_boundary, generated_at FROM windows
                WHERE school = \(school) AND window_start >= \(from) AND window_start < \(to) ORDER BY window_start
                """, logger: logger)
            var windows: [StoredWindow] = []
            for try await (start, end, localDate, startBoundary, generatedAt) in rows.decode((Int64, Int64, String, Int, Int64).self) {
                let bounds = try Self.bounds(start: start, end: end, localDate: localDate, startBoundary: startBoundary)
                windows.append(StoredWindow(scheduled: ScheduledWindow(bounds: bounds, runs: []), generatedAt: generatedAt))
            }
            guard let first = windows.first, let last = windows.last else { return [] }
            var runs: [Int64: [ScheduledRun]] = [:]
            let runRows = try await client.query("""
                SELECT window_start, probe, run_at FROM runs
                WHERE school = \(school) AND window_start >= \(first.bounds.start) AND window_start <= \(last.bounds.start)
                ORDER BY window_start, sequence
                """, logger: logger)
            for try await (start, probe, runAt) in runRows.decode((Int64, String, Int64).self) {
                runs[start, default: []].append(ScheduledRun(probe: probe, runAt: runAt))
            }
            return windows.map { window in
                var window = window
                window.scheduled.runs = runs[window.bounds.start] ?? []
                return window
            }
        }
    }

    public func generatedThrough() async throws -> [String: UnixTime] {
        try await runBounded(within: .seconds(60)) { [self] in
            var through: [String: UnixTime] = [:]
            let rows = try await client.query("SELECT school, MAX(window_end) FROM windows GROUP BY school", logger: logger)
            for try await (school, end) in rows.decode((String, Int64).self) { through[school] = end }
            return through
        }
    }

    public func runs(from instant: UnixTime) async throws -> [StoredRun] {
        try await runBounded(within: .seconds(60)) { [self] in
            let rows = try await client.query("""
                SELECT runs.school, runs.probe, runs.run_at, windows.window_start, windows.window_end
                FROM runs JOIN windows ON windows.school = runs.school AND windows.window_start = runs.window_start
                WHERE runs.run_at >= \(instant) ORDER BY runs.run_at, runs.id
                """, logger: logger)
            var runs: [StoredRun] = []
            for try await (school, probe, runAt, start, end) in rows.decode((String, String, Int64, Int64, Int64).self) {
                runs.append(StoredRun(school: school, probe: probe, runAt: runAt, windowStart: start, windowEnd: end))
            }
            return runs
        }
    }

    package func runs(probe: String, from: UnixTime, before to: UnixTime) async throws -> [UnixTime] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("""
                SELECT run_at FROM runs WHERE probe = \(probe) AND run_at >= \(from) AND run_at < \(to) ORDER BY run_at
                """, logger: logger)
            var times: [UnixTime] = []
            for try await runAt in rows.decode(Int64.self) { times.append(runAt) }
            return times
        }
    }

    @discardableResult
    public func dropRuns(of probes: Set<String>, after instant: UnixTime, reason: String, at now: UnixTime) async throws -> Int {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !probes.isEmpty else { return 0 }
            let rows = try await client.query("""
                WITH dropped AS (DELETE FROM runs WHERE probe = ANY(\(Array(probes))) AND run_at > \(instant) RETURNING probe, run_at, school),
                recorded AS (
                    INSERT INTO cancelled_runs (probe, run_at, school, reason, cancelled_at)
                    SELECT probe, run_at, school, \(reason), \(now) FROM dropped
                    ON CONFLICT (probe, run_at) DO UPDATE SET reason = excluded.reason, cancelled_at = excluded.cancelled_at RETURNING 1)
                SELECT count(*) FROM recorded
                """, logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func dropRuns(_ runs: [StoredRun], reason: String, at now: UnixTime) async throws -> Int {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !runs.isEmpty else { return 0 }
            let rows = try await client.query("""
                WITH dropped AS (
                    DELETE FROM runs USING unnest(\(runs.map(\.probe)), \(runs.map(\.runAt))) AS gone(probe, run_at)
                    WHERE runs.probe = gone.probe AND runs.run_at = gone.run_at RETURNING runs.probe, runs.run_at, runs.school),
                recorded AS (
                    INSERT INTO cancelled_runs (probe, run_at, school, reason, cancelled_at)
                    SELECT probe, run_at, school, \(reason), \(now) FROM dropped
                    ON CONFLICT (probe, run_at) DO UPDATE SET reason = excluded.reason, cancelled_at = excluded.cancelled_at RETURNING 1)
                SELECT count(*) FROM recorded
                """, logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func cancelledRuns(probe: String, after instant: UnixTime) async throws -> [CancelledRun] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var cancelled: [CancelledRun] = []
            let rows = try await client.query("""
                SELECT run_at, reason FROM cancelled_runs WHERE probe = \(probe) AND run_at > \(instant) ORDER BY run_at
                """, logger: logger)
            for try await (runAt, reason) in rows.decode((Int64, String).self) { cancelled.append(CancelledRun(runAt: runAt, reason: reason)) }
            return cancelled
        }
    }

    public func dropEmptyWindows(school: String, endingAfter instant: UnixTime) async throws -> [UnixTime] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var starts: [UnixTime] = []
            for try await start in try await client.query("""
                DELETE FROM windows w WHERE w.school = \(school) AND w.window_end > \(instant)
                AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.school = w.school AND r.window_start = w.window_start)
                RETURNING w.window_start
                """, logger: logger).decode(Int64.self) {
                starts.append(start)
            }
            return starts.sorted()
        }
    }

    public func forgetCancelledRuns(before instant: UnixTime) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await client.query("DELETE FROM cancelled_runs WHERE run_at < \(instant)", logger: logger)
        }
    }

    /// A stored window with its runs, read inside a transaction.
    private static func window(of school: String, startingAt start: UnixTime, on connection: PostgresConnection, logger: Logger) async throws -> ScheduledWindow {
        let rows = try await connection.query("""
            SELECT window_end, local_date, start_boundary FROM windows WHERE school = \(school) AND window_start = \(start)
            """, logger: logger)
        var found: WindowBounds?
        for try await (end, localDate, startBoundary) in rows.decode((Int64, String, Int).self) {
            found = try bounds(start: start, end: end, localDate: localDate, startBoundary: startBoundary)
        }
        guard let bounds = found else {
            throw StoreError(message: "window \(school)@\(start) neither inserted nor found")
        }
        var runs: [ScheduledRun] = []
        let runRows = try await connection.query("""
            SELECT probe, run_at FROM runs WHERE school = \(school) AND window_start = \(start) ORDER BY sequence
            """, logger: logger)
        for try await (probe, runAt) in runRows.decode((String, Int64).self) { runs.append(ScheduledRun(probe: probe, runAt: runAt)) }
        return ScheduledWindow(bounds: bounds, runs: runs)
    }

    private static func bounds(start: Int64, end: Int64, localDate: String, startBoundary: Int) throws -> WindowBounds {
        guard let date = LocalDate(parsing: localDate), let boundary = TimeOfDay(secondsSinceMidnight: startBoundary) else {
            throw StoreError(message: "the stored window at \(start) has an unreadable date '\(localDate)' or start \(startBoundary)")
        }
        return WindowBounds(start: start, end: end, localDate: date, startBoundary: boundary)
    }
}
