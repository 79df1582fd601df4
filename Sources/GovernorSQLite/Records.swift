public import GovernorStore
public import GovernorCore
import GRDB

/// A row of `window`.
struct WindowRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "window"
    var school: String
    var start: Int64
    var end: Int64
    /// The school's local date and the boundary the window starts at, as generated.
    var localDate: String
    var startBoundary: Int
    var generatedAt: Int64
    var fingerprint: String

    var bounds: WindowBounds {
        WindowBounds(start: start, end: end, localDate: LocalDate(parsing: localDate)!,
                     startBoundary: TimeOfDay(secondsSinceMidnight: startBoundary)!)
    }
}

/// A row of `run`.
struct RunRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "run"
    var id: Int64?
    var school: String
    var windowStart: Int64
    var sequence: Int
    var probe: String
    var runAt: Int64
}

/// A row of `contact`.
struct ContactRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "contact"
    var probe: String
    var lastContact: Int64
}


/// A row of `result`: a ``TestResult`` as GRDB reads and writes it. The wrapper keeps
/// GRDB's conformances inside this module; the record itself stays a plain value.
struct ResultRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "result"
    var result: TestResult

    init(_ result: TestResult) {
        self.result = result
    }

    init(from decoder: any Decoder) throws {
        result = try TestResult(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        result.id = inserted.rowID
    }
}

/// A row of `outbox`: an ``OutboxMessage`` as GRDB reads and writes it.
struct OutboxRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "outbox"
    var message: OutboxMessage

    init(_ message: OutboxMessage) {
        self.message = message
    }

    init(from decoder: any Decoder) throws {
        message = try OutboxMessage(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        message.id = inserted.rowID
    }
}

extension TestResult {
    /// Inserts the result in `db`; returns it with its new id.
    func inserted(_ db: Database) throws -> TestResult {
        var row = ResultRow(self)
        try row.insert(db)
        return row.result
    }
}

extension OutboxMessage {
    /// Inserts the message in `db`; returns it with its new id.
    func inserted(_ db: Database) throws -> OutboxMessage {
        var row = OutboxRow(self)
        try row.insert(db)
        return row.message
    }
}
