public import GovernorStore
public import GovernorCore
import GRDB

extension SQLiteState {
    /// Records the latest contact of each probe; an older time never replaces a newer one.
    public func recordContacts(_ contacts: [String: UnixTime]) async throws {
        guard !contacts.isEmpty else { return }
        try await writer.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO contact (probe, lastContact) VALUES (?, ?)
                ON CONFLICT(probe) DO UPDATE SET lastContact = MAX(lastContact, excluded.lastContact)
                """)
            for (probe, time) in contacts {
                try statement.execute(arguments: [probe, time])
            }
        }
    }

    /// Every probe's last contact.
    public func contacts() async throws -> [String: UnixTime] {
        try await writer.read { db in
            Dictionary(uniqueKeysWithValues: try ContactRecord.fetchAll(db).map { ($0.probe, $0.lastContact) })
        }
    }

    /// Stores a result unless one with the same probe and idempotency key is stored
    /// already, and returns what is stored: the new result (`created`), or the first.
    public func insertOnce(_ result: TestResult) async throws -> (result: TestResult, created: Bool) {
        try await writer.write { db in
            if let key = result.idempotencyKey,
               let existing = try ResultRow.filter(Column("probe") == result.probe && Column("idempotencyKey") == key).fetchOne(db) {
                return (existing.record, false)
            }
            return (try result.insertedWithMeasurement(db), true)
        }
    }

    /// Stores a result and returns it with its id.
    package func insert(_ result: TestResult) async throws -> TestResult {
        try await writer.write { db in
            try result.insertedWithMeasurement(db)
        }
    }

    /// A probe's results, newest first.
    public func results(probe: String, limit: Int) async throws -> [TestResult] {
        try await writer.read { db in
            try Self.withMeasurements(ResultRow.filter(Column("probe") == probe).order(Column("id").desc).limit(limit).fetchAll(db).map(\.record), db)
        }
    }

    /// How many results each of `probes` has sent since `instant` (probes without
    /// any are left out): one index range per probe.
    public func resultCounts(of probes: [String], since instant: UnixTime) async throws -> [String: Int] {
        try await writer.read { db in
            let statement = try db.cachedStatement(sql: "SELECT COUNT(*) FROM result WHERE probe = ? AND receivedAt >= ?")
            var counts: [String: Int] = [:]
            for probe in probes {
                let count = try Int.fetchOne(statement, arguments: [probe, instant]) ?? 0
                if count > 0 { counts[probe] = count }
            }
            return counts
        }
    }

    /// How many results `probe` has sent since `instant`.
    public func resultCount(probe: String, since instant: UnixTime) async throws -> Int {
        try await writer.read { db in
            try ResultRow.filter(Column("probe") == probe && Column("receivedAt") >= instant).fetchCount(db)
        }
    }

    /// Writes a few kilobytes and commits them: what `/healthz` asks of the disk.
    /// - Throws: the database's error (SQLITE_FULL, SQLITE_READONLY, I/O errors…).
    public func probeWrite(at now: UnixTime) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO healthProbe (id, at, pad) VALUES (1, ?, randomblob(4096))", arguments: [now])
        }
    }
}

extension SQLiteState {
    /// How many of the probe's runs in `(after, upTo]` passed without it; only runs
    /// generated before their time count (a window stored late cannot be missed).
    package func runsWithoutContact(probe: String, after: UnixTime, upTo: UnixTime) async throws -> Int {
        guard upTo > after else { return 0 }
        return try await writer.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM run JOIN window ON window.school = run.school AND window.start = run.windowStart
                WHERE run.probe = ? AND run.runAt > ? AND run.runAt <= ? AND run.runAt >= window.generatedAt
                """, arguments: [probe, after, upTo]) ?? 0
        }
    }
}
