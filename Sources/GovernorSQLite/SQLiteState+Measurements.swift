public import GovernorStore
public import GovernorCore
import GRDB

extension TestResult {
    /// Inserts the result and, when it has one, its measurement, in the caller's transaction.
    func insertedWithMeasurement(_ db: Database) throws -> TestResult {
        let stored = try inserted(db)
        if let measurement = stored.storedMeasurement {
            try SQLiteState.insert(measurement, db)
        }
        return stored
    }
}

extension SQLiteState {
    static let measurementColumns = """
        resultId, probe, school, measuredAtMs, tool, downloadMbps, uploadMbps, minRttMs, retransmissionPercent, retransmits, lossPercent,
        serverName, serverIp, clientIp, downloadId, uploadId, runAt, groupName
        """

    static func insert(_ stored: StoredMeasurement, _ db: Database) throws {
        let m = stored.measurement
        try db.cachedStatement(sql: """
            INSERT INTO measurement (\(measurementColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (resultId) DO NOTHING
            """).execute(arguments: [
                stored.resultID, stored.probe, stored.school, stored.measuredAtMs, m.tool.rawValue, m.downloadMbps, m.uploadMbps, m.minRTTMs,
                m.retransmissionPercent, m.retransmits, m.lossPercent, m.serverName, m.serverIP, m.clientIP, m.downloadID, m.uploadID, stored.runAt,
                stored.group,
            ])
    }

    static func measurement(_ row: Row) throws -> StoredMeasurement {
        let toolName: String = row[4]
        guard let tool = SpeedMeasurement.Tool(rawValue: toolName) else {
            throw StoreError(message: "a stored measurement has the unknown tool '\(toolName)'")
        }
        return StoredMeasurement(
            resultID: row[0], probe: row[1], school: row[2], measuredAtMs: row[3],
            measurement: SpeedMeasurement(tool: tool, downloadMbps: row[5], uploadMbps: row[6], minRTTMs: row[7], retransmissionPercent: row[8],
                                          retransmits: row[9], lossPercent: row[10], serverName: row[11], serverIP: row[12], clientIP: row[13],
                                          downloadID: row[14], uploadID: row[15]),
            runAt: row[16], group: row[17])
    }

    public func measurements(ofResults ids: [Int64]) async throws -> [Int64: SpeedMeasurement] {
        guard !ids.isEmpty else { return [:] }
        return try await writer.read { db in try Self.measurements(ofResults: ids, db) }
    }

    static func measurements(ofResults ids: [Int64], _ db: Database) throws -> [Int64: SpeedMeasurement] {
        let statement = try db.cachedStatement(sql: "SELECT \(measurementColumns) FROM measurement WHERE resultId = ?")
        var found: [Int64: SpeedMeasurement] = [:]
        for id in ids {
            if let row = try Row.fetchOne(statement, arguments: [id]) { found[id] = try measurement(row).measurement }
        }
        return found
    }

    /// `results` with their measurements: a page of results costs one lookup each.
    static func withMeasurements(_ results: [TestResult], _ db: Database) throws -> [TestResult] {
        let found = try measurements(ofResults: results.compactMap(\.id), db)
        guard !found.isEmpty else { return results }
        return results.map { result in
            var result = result
            result.measurement = result.id.flatMap { found[$0] }
            return result
        }
    }

    public func measurements(school: String, fromMs: Int64, beforeMs: Int64) async throws -> [StoredMeasurement] {
        try await writer.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT \(Self.measurementColumns) FROM measurement WHERE school = ? AND measuredAtMs >= ? AND measuredAtMs < ?
                ORDER BY measuredAtMs, resultId
                """, arguments: [school, fromMs, beforeMs])
            var found: [StoredMeasurement] = []
            while let row = try rows.next() { found.append(try Self.measurement(row)) }
            return found
        }
    }

    public func measurementPoints(after id: Int64, through last: Int64, limit: Int) async throws -> [MeasurementPoint] {
        try await writer.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT resultId, school, measuredAtMs, downloadMbps, uploadMbps, groupName, runAt FROM measurement
                WHERE resultId > ? AND resultId <= ? ORDER BY resultId LIMIT ?
                """, arguments: [id, last, limit])
            var points: [MeasurementPoint] = []
            points.reserveCapacity(min(limit, 65_536))
            while let row = try rows.next() {
                points.append(MeasurementPoint(resultID: row[0], school: row[1], measuredAtMs: row[2], downloadMbps: row[3], uploadMbps: row[4],
                                               groupRun: GroupRunKey(group: row[5], runAt: row[6])))
            }
            return points
        }
    }

    public func lastMeasuredResultID() async throws -> Int64 {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(resultId), 0) FROM measurement") ?? 0 }
    }

    public func measurements(fromMs: Int64, beforeMs: Int64, after: (ms: Int64, resultID: Int64)?, limit: Int) async throws -> [StoredMeasurement] {
        try await writer.read { db in
            let (afterMs, afterID) = after ?? (Int64.min, Int64.min)
            let rows = try Row.fetchCursor(db, sql: """
                SELECT \(Self.measurementColumns) FROM measurement
                WHERE measuredAtMs >= ? AND measuredAtMs < ? AND (measuredAtMs, resultId) > (?, ?)
                ORDER BY measuredAtMs, resultId LIMIT ?
                """, arguments: [fromMs, beforeMs, afterMs, afterID, limit])
            var found: [StoredMeasurement] = []
            while let row = try rows.next() { found.append(try Self.measurement(row)) }
            return found
        }
    }

    public func measurementBackfill() async throws -> (after: Int64, last: Int64)? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT afterId, lastId FROM measurementBackfill WHERE id = 1") else { return nil }
            let (after, last): (Int64, Int64) = (row[0], row[1])
            return after < last ? (after, last) : nil
        }
    }

    public func results(after id: Int64, through last: Int64, limit: Int) async throws -> [TestResult] {
        try await writer.read { db in
            try ResultRow.filter(Column("id") > id && Column("id") <= last).order(Column("id")).limit(limit).fetchAll(db).map(\.record)
        }
    }

    public func advanceBackfill(from after: Int64, to: Int64, storing measurements: [StoredMeasurement]) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE measurementBackfill SET afterId = ? WHERE id = 1 AND afterId = ?", arguments: [to, after])
            guard db.changesCount == 1 else { return false }
            for measurement in measurements { try Self.insert(measurement, db) }
            return true
        }
    }

    /// For the tests: the state as an upgrade finds it (see the tests' `StateInspection`).
    package func rewindMeasurementBackfill() async throws {
        try await writer.write { db in
            try db.execute(sql: """
                DELETE FROM measurement;
                UPDATE measurementBackfill SET afterId = 0, lastId = (SELECT COALESCE(MAX(id), 0) FROM result);
                """)
        }
    }
}
