import GovernorStore
public import GovernorCore
import GRDB

extension SQLiteState {
    /// The last text of each school file that loaded without errors.
    public func schoolSources() async throws -> [String: String] {
        try await writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT file, text FROM schoolSource")
            return Dictionary(rows.map { ($0[0] as String, $0[1] as String) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Stores the texts of the school files that loaded without errors; unchanged ones are not rewritten.
    public func saveSchoolSources(_ sources: [String: String], at now: UnixTime) async throws {
        guard !sources.isEmpty else { return }
        try await writer.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO schoolSource (file, text, storedAt) VALUES (?, ?, ?)
                ON CONFLICT(file) DO UPDATE SET text = excluded.text, storedAt = excluded.storedAt WHERE text != excluded.text
                """)
            for (file, text) in sources {
                try statement.execute(arguments: [file, text, now])
            }
        }
    }
}
