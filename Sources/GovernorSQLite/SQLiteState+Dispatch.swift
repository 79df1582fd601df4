public import GovernorStore
public import GovernorCore
import GRDB

extension SQLiteState {
    /// The stored runs of `probes` in `[from, through]` that no dispatch has claimed, in time order.
    public func undispatchedRuns(of probes: Set<String>, from: UnixTime, through: UnixTime) async throws -> [StoredRun] {
        guard !probes.isEmpty else { return [] }
        return try await writer.read { db in
            let placeholders = databaseQuestionMarks(count: probes.count)
            let rows = try Row.fetchAll(db, sql: """
                SELECT run.school, run.probe, run.runAt, window.start, window."end"
                FROM run JOIN window ON window.school = run.school AND window.start = run.windowStart
                LEFT JOIN dispatch ON dispatch.probe = run.probe AND dispatch.runAt = run.runAt
                WHERE run.runAt >= ? AND run.runAt <= ? AND dispatch.probe IS NULL AND run.probe IN (\(placeholders))
                ORDER BY run.runAt
                """, arguments: StatementArguments([from, through] as [any DatabaseValueConvertible] + probes.sorted()))
            return rows.map { StoredRun(school: $0[0], probe: $0[1], runAt: $0[2], windowStart: $0[3], windowEnd: $0[4]) }
        }
    }

    /// Claims a run for dispatch; false when it was claimed before (by this process or
    /// an earlier one), in which case it must not be dispatched again.
    public func claimDispatch(of run: StoredRun, at now: UnixTime, holder: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO dispatch (probe, runAt, school, state, claimedAt, claimedBy) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [run.probe, run.runAt, run.school, DispatchState.started.rawValue, now, holder])
            return db.changesCount == 1
        }
    }

    public func orphanedDispatches(holder: String) async throws -> [StoredRun] {
        try await writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                \(Self.claimedRuns)
                WHERE dispatch.state = ? AND dispatch.claimedBy IS NOT ? ORDER BY dispatch.runAt
                """, arguments: [DispatchState.started.rawValue, holder])
            return rows.map { StoredRun(school: $0[0], probe: $0[1], runAt: $0[2], windowStart: $0[3], windowEnd: $0[4]) }
        }
    }

    public func interruptOrphan(_ run: StoredRun, result: TestResult, holder: String, at now: UnixTime) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE dispatch SET state = ? WHERE probe = ? AND runAt = ? AND state = ? AND claimedBy IS NOT ?",
                           arguments: [DispatchState.interrupted.rawValue, run.probe, run.runAt, DispatchState.started.rawValue, holder])
            guard db.changesCount == 1 else { return false }
            let stored = try result.insertedWithMeasurement(db)
            try db.execute(sql: "UPDATE dispatch SET resultId = ? WHERE probe = ? AND runAt = ?", arguments: [stored.id, run.probe, run.runAt])
            return true
        }
    }

    /// Stores a dispatch's result and its final state in one transaction.
    ///
    /// With `claimIfNeeded`, a run not claimed yet is claimed in the same transaction
    /// (used to record a skipped run); otherwise the claim must exist.
    @discardableResult
    public func finishDispatch(of run: StoredRun, as state: DispatchState, result: TestResult, at now: UnixTime, claimIfNeeded: Bool) async throws -> TestResult? {
        try await writer.write { db -> TestResult? in
            if claimIfNeeded {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO dispatch (probe, runAt, school, state, claimedAt) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [run.probe, run.runAt, run.school, DispatchState.started.rawValue, now])
            }
            let current = try String.fetchOne(db, sql: "SELECT state FROM dispatch WHERE probe = ? AND runAt = ?", arguments: [run.probe, run.runAt])
            guard current == DispatchState.started.rawValue else { return nil }
            let stored = try result.insertedWithMeasurement(db)
            try db.execute(sql: "UPDATE dispatch SET state = ?, resultId = ? WHERE probe = ? AND runAt = ?",
                           arguments: [state.rawValue, stored.id, run.probe, run.runAt])
            return stored
        }
    }

    /// The dispatch state of each run of `probe` in `[from, to)`.
    package func dispatchStates(probe: String, from: UnixTime, before to: UnixTime) async throws -> [UnixTime: DispatchState] {
        try await writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT runAt, state FROM dispatch WHERE probe = ? AND runAt >= ? AND runAt < ?",
                                        arguments: [probe, from, to])
            return Dictionary(uniqueKeysWithValues: rows.compactMap { row in
                DispatchState(rawValue: row[1]).map { (row[0] as Int64, $0) }
            })
        }
    }

    /// The claimed runs with their windows (a run dropped since keeps its own time as its window).
    static let claimedRuns = """
        SELECT dispatch.school, dispatch.probe, dispatch.runAt, COALESCE(run.windowStart, dispatch.runAt), COALESCE(window."end", dispatch.runAt)
        FROM dispatch LEFT JOIN run ON run.probe = dispatch.probe AND run.runAt = dispatch.runAt
        LEFT JOIN window ON window.school = run.school AND window.start = run.windowStart
        """
}
