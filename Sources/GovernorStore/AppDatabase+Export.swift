public import GovernorCore
import GRDB

/// A push run's claim as stored, for copying a state elsewhere.
public struct DispatchRecord: Sendable, Equatable {
    public var probe: String
    public var runAt: UnixTime
    public var school: String
    public var state: String
    public var claimedAt: UnixTime
    public var resultId: Int64?
    public var claimedBy: String?

    public init(probe: String, runAt: UnixTime, school: String, state: String, claimedAt: UnixTime, resultId: Int64?, claimedBy: String?) {
        self.probe = probe
        self.runAt = runAt
        self.school = school
        self.state = state
        self.claimedAt = claimedAt
        self.resultId = resultId
        self.claimedBy = claimedBy
    }
}

/// A stored window with what only a copy needs: its fingerprint and when it was stored.
public struct ExportedWindow: Sendable, Equatable {
    public var new: NewWindow
    public var generatedAt: UnixTime
}

extension NewWindow: Equatable {
    public static func == (a: NewWindow, b: NewWindow) -> Bool {
        a.school == b.school && a.window == b.window && a.fingerprint == b.fingerprint
    }
}

extension AppDatabase {
    /// Every stored window with its runs, in school and time order.
    public func exportWindows() async throws -> [ExportedWindow] {
        try await writer.read { db in
            try WindowRecord.order(Column("school"), Column("start")).fetchAll(db).map { record in
                ExportedWindow(new: NewWindow(school: record.school, window: try Self.scheduledWindow(record, in: db), fingerprint: record.fingerprint),
                               generatedAt: record.generatedAt)
            }
        }
    }

    /// Up to `limit` results with their output, by id, after `id`: a large history is copied a page at a time.
    public func exportResults(after id: Int64, limit: Int) async throws -> [TestResult] {
        try await writer.read { db in
            try TestResult.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
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
        try await writer.read { db in try OutboxMessage.order(Column("id")).fetchAll(db) }
    }
}
