public import GovernorStore
import GovernorCore
import GRDB

extension SQLiteState {
    /// Every stored window with its runs, in school and time order.
    public func exportWindows() async throws -> [ExportedWindow] {
        try await writer.read { db in
            try WindowRecord.order(Column("school"), Column("start")).fetchAll(db).map { record in
                ExportedWindow(new: NewWindow(school: record.school, window: try Self.scheduledWindow(record, in: db), fingerprint: record.fingerprint),
                               generatedAt: record.generatedAt)
            }
        }
    }

    /// Up to `limit` results with their output and measurement, by id, after `id`: a
    /// large history is copied a page at a time.
    public func exportResults(after id: Int64, limit: Int) async throws -> [TestResult] {
        try await writer.read { db in
            var results = try ResultRow.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db).map(\.record)
            guard let last = results.last?.id else { return results }
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.measurementColumns) FROM measurement WHERE resultId > ? AND resultId <= ?",
                                           arguments: [id, last])
            var measured: [Int64: SpeedMeasurement] = [:]
            while let row = try rows.next() {
                let stored = try Self.measurement(row)
                measured[stored.resultID] = stored.measurement
            }
            for index in results.indices {
                if let resultID = results[index].id { results[index].measurement = measured[resultID] }
            }
            return results
        }
    }

    public func exportDispatches() async throws -> [DispatchRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT probe, runAt, school, state, claimedAt, resultId, claimedBy FROM dispatch ORDER BY runAt, probe").map {
                DispatchRecord(probe: $0[0], runAt: $0[1], school: $0[2], state: $0[3], claimedAt: $0[4], resultId: $0[5], claimedBy: $0[6])
            }
        }
    }

    /// Every probe's alert state with its school, as stored (JSON).
    public func exportAlertStates() async throws -> [(probe: String, school: String, json: String)] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT probe, school, state FROM alertState ORDER BY probe").map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Every message of the outbox, delivered or not, by id.
    public func exportOutbox() async throws -> [OutboxMessage] {
        try await writer.read { db in try OutboxRow.order(Column("id")).fetchAll(db).map(\.record) }
    }
}
