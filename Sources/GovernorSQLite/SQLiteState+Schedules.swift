public import GovernorStore
public import GovernorCore
import GRDB

extension SQLiteState {
    /// ``ScheduleStore/storeWindow(school:_:fingerprint:generatedAt:)`` for many windows in one
    /// transaction, in order: a first start with 10,000 schools stores their current
    /// windows with one sync to disk instead of 10,000.
    public func storeWindows(_ windows: [NewWindow], generatedAt: UnixTime) async throws -> [ScheduledWindow] {
        guard !windows.isEmpty else { return [] }
        return try await writer.write { db in
            let insertWindow = try db.cachedStatement(sql: """
                INSERT INTO window (school, start, "end", localDate, startBoundary, generatedAt, fingerprint)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (school, start) DO NOTHING
                """)
            let insertRun = try db.cachedStatement(sql: "INSERT INTO run (school, windowStart, sequence, probe, runAt) VALUES (?, ?, ?, ?, ?)")
            return try windows.map { new in
                let bounds = new.window.bounds
                try insertWindow.execute(arguments: [new.school, bounds.start, bounds.end, bounds.localDate.description,
                                                     bounds.startBoundary.secondsSinceMidnight, generatedAt, new.fingerprint])
                guard db.changesCount == 1 else {
                    // Stored before: that version is the fact.
                    let existing = try WindowRecord.filter(Column("school") == new.school && Column("start") == bounds.start).fetchOne(db)
                    guard let existing else { throw DatabaseError(message: "window \(new.school)@\(bounds.start) neither inserted nor found") }
                    return try Self.scheduledWindow(existing, in: db)
                }
                for (sequence, run) in new.window.runs.enumerated() {
                    try insertRun.execute(arguments: [new.school, bounds.start, sequence, run.probe, run.runAt])
                }
                return new.window
            }
        }
    }

    /// The stored windows of `school` that start in `[from, to)`, in time order, with their runs.
    public func windows(school: String, startingFrom from: UnixTime, before to: UnixTime) async throws -> [StoredWindow] {
        try await writer.read { db in
            try WindowRecord
                .filter(Column("school") == school && Column("start") >= from && Column("start") < to)
                .order(Column("start")).fetchAll(db)
                .map { StoredWindow(scheduled: try Self.scheduledWindow($0, in: db), generatedAt: $0.generatedAt) }
        }
    }

    /// The end of the latest stored window of each school.
    public func generatedThrough() async throws -> [String: UnixTime] {
        try await writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT school, MAX(\"end\") AS through FROM window GROUP BY school")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["school"] as String, $0["through"] as Int64) })
        }
    }

    /// The runs at or after `instant`, in time order, with their windows.
    ///
    /// Read at start-up, so shaped for a large fleet: the runs come from the index on
    /// (runAt, probe, school, windowStart) alone, and the ends of their windows from
    /// the few windows still open, not from one window lookup per run.
    public func runs(from instant: UnixTime) async throws -> [StoredRun] {
        try await writer.read { db in
            struct WindowKey: Hashable { var school: String, start: UnixTime }
            var ends: [WindowKey: UnixTime] = [:]
            let windows = try Row.fetchCursor(db, sql: "SELECT school, start, \"end\" FROM window WHERE \"end\" > ?", arguments: [instant])
            while let row = try windows.next() {
                ends[WindowKey(school: row[0], start: row[1])] = row[2]
            }
            var runs: [StoredRun] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT school, probe, runAt, windowStart FROM run INDEXED BY run_on_runAt_probe
                WHERE runAt >= ? ORDER BY runAt
                """, arguments: [instant])
            while let row = try rows.next() {
                let school: String = row[0], windowStart: UnixTime = row[3]
                // A run's window holds it, so the window ends after the run: it was read above.
                guard let end = ends[WindowKey(school: school, start: windowStart)] else { continue }
                runs.append(StoredRun(school: school, probe: row[1], runAt: row[2], windowStart: windowStart, windowEnd: end))
            }
            return runs
        }
    }

    /// The runs of `probe` in `[from, to)`, in time order.
    package func runs(probe: String, from: UnixTime, before to: UnixTime) async throws -> [UnixTime] {
        try await writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT runAt FROM run WHERE probe = ? AND runAt >= ? AND runAt < ? ORDER BY runAt",
                               arguments: [probe, from, to])
        }
    }

    /// Deletes the runs after `instant` of probes no longer configured (or of schools
    /// no longer loaded); their windows and every other probe's runs stay as they are.
    @discardableResult
    public func dropRuns(of probes: Set<String>, after instant: UnixTime, reason: String, at now: UnixTime) async throws -> Int {
        guard !probes.isEmpty else { return 0 }
        return try await writer.write { db in
            let names = Array(probes)
            let marks = databaseQuestionMarks(count: names.count)
            try db.execute(sql: """
                INSERT OR REPLACE INTO cancelledRun (probe, runAt, school, reason, cancelledAt)
                SELECT probe, runAt, school, ?, ? FROM run WHERE probe IN (\(marks)) AND runAt > ?
                """, arguments: StatementArguments([reason, now] as [any DatabaseValueConvertible] + names + [instant]))
            return try RunRecord.filter(probes.contains(Column("probe")) && Column("runAt") > instant).deleteAll(db)
        }
    }

    public func dropRuns(_ runs: [StoredRun], reason: String, at now: UnixTime) async throws -> Int {
        guard !runs.isEmpty else { return 0 }
        return try await writer.write { db in
            var dropped = 0
            for run in runs {
                try db.execute(sql: "DELETE FROM run WHERE probe = ? AND runAt = ?", arguments: [run.probe, run.runAt])
                guard db.changesCount > 0 else { continue }
                dropped += 1
                try db.execute(sql: "INSERT OR REPLACE INTO cancelledRun (probe, runAt, school, reason, cancelledAt) VALUES (?, ?, ?, ?, ?)",
                               arguments: [run.probe, run.runAt, run.school, reason, now])
            }
            return dropped
        }
    }

    public func cancelledRuns(probe: String, after instant: UnixTime) async throws -> [CancelledRun] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT runAt, reason FROM cancelledRun WHERE probe = ? AND runAt > ? ORDER BY runAt", arguments: [probe, instant])
                .map { CancelledRun(runAt: $0[0], reason: $0[1]) }
        }
    }

    public func dropEmptyWindows(school: String, endingAfter instant: UnixTime) async throws -> [UnixTime] {
        try await writer.write { db in
            try Int64.fetchAll(db, sql: """
                DELETE FROM window WHERE school = ? AND "end" > ?
                AND NOT EXISTS (SELECT 1 FROM run WHERE run.school = window.school AND run.windowStart = window.start)
                RETURNING start
                """, arguments: [school, instant]).sorted()
        }
    }

    public func forgetCancelledRuns(before instant: UnixTime) async throws {
        try await writer.write { db in try db.execute(sql: "DELETE FROM cancelledRun WHERE runAt < ?", arguments: [instant]) }
    }

    static func scheduledWindow(_ record: WindowRecord, in db: Database) throws -> ScheduledWindow {
        let runs = try RunRecord.filter(Column("school") == record.school && Column("windowStart") == record.start)
            .order(Column("sequence")).fetchAll(db)
        return ScheduledWindow(bounds: record.bounds, runs: runs.map { ScheduledRun(probe: $0.probe, runAt: $0.runAt) })
    }
}
