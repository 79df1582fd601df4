public import GovernorStore
import GovernorCore
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


/// A record of the interface that SQLite keeps in a table of its own, under a row id.
protocol TableStored: Codable, Sendable {
    static var tableName: String { get }
    var id: Int64? { get set }
}

extension TestResult: TableStored {
    static var tableName: String { "result" }
}

extension OutboxMessage: TableStored {
    static var tableName: String { "outbox" }
}

/// A record as GRDB reads and writes it. The wrapper keeps GRDB's conformances
/// inside this module; the record itself stays a plain value of the interface.
struct StoredRow<Record: TableStored>: Codable, FetchableRecord, MutablePersistableRecord {
    static var databaseTableName: String { Record.tableName }
    var record: Record

    init(_ record: Record) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try Record(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        record.id = inserted.rowID
    }
}

typealias ResultRow = StoredRow<TestResult>
typealias OutboxRow = StoredRow<OutboxMessage>

extension TableStored {
    /// Inserts the record in `db`; returns it with its new id.
    func inserted(_ db: Database) throws -> Self {
        var row = StoredRow(self)
        try row.insert(db)
        return row.record
    }
}
