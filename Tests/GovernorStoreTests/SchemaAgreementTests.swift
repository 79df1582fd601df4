import Foundation
import GovernorSQLite
import GovernorStore
import GovernorTestSupport
import GRDB
import Testing

/// The two backends' migrations are written twice, in GRDB's terms and in PostgreSQL's
/// SQL: after all of them, the two schemas must hold the same tables, columns, kinds of
/// value, nullability and indexes. A migration added to one backend alone fails here.
///
/// PostgreSQL reserves `window` and `end`, so its tables are plural and its columns
/// snake_case; ``tableNames`` and ``columnNames`` are the whole of the difference.
@Suite("The SQLite and PostgreSQL schemas agree")
struct SchemaAgreementTests {
    /// Each SQLite table and its PostgreSQL name. A table missing here fails the test.
    static let tableNames = [
        "window": "windows", "run": "runs", "contact": "contacts", "result": "results", "dispatch": "dispatches",
        "alertState": "alert_states", "outbox": "outbox", "healthProbe": "health_probe", "schoolSource": "school_sources",
        "lease": "leases", "cancelledRun": "cancelled_runs", "measurement": "measurements", "measurementBackfill": "measurement_backfill",
        "silence": "silences", "incident": "incidents",
    ]

    /// Columns whose PostgreSQL name is not the snake_case of SQLite's, by table.
    static let columnNames = ["window": ["start": "window_start", "end": "window_end"]]

    /// One column as both backends can describe it.
    struct Column: Hashable, CustomStringConvertible {
        var name: String
        var kind: String
        var nullable: Bool

        var description: String { "\(name) \(kind)\(nullable ? "" : " NOT NULL")" }
    }

    /// A table's columns and its indexes (each as its columns in order, and whether unique).
    struct Table: Equatable {
        var columns: Set<Column> = []
        var indexes: Set<String> = []
    }

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// The kind of value a declared type holds, in words both backends share.
    static func kind(_ declared: String) -> String {
        let type = declared.lowercased()
        if type.contains("int") || type == "bigserial" || type == "serial" { return "integer" }
        if type.contains("char") || type.contains("text") || type == "string" { return "text" }
        if type.contains("double") || type.contains("real") || type.contains("float") || type == "numeric" { return "real" }
        if type.contains("bool") { return "boolean" }
        if type.contains("blob") || type.contains("bytea") { return "bytes" }
        return "?\(type)"
    }

    static func sqliteSchema() throws -> [String: Table] {
        let directory = try TemporaryDirectory("governor-schema")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        try SQLiteState.open(path: path).close()
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            var tables: [String: Table] = [:]
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                """)
            for name in names {
                let renames = columnNames[name] ?? [:]
                func column(_ sqlite: String) -> String { renames[sqlite] ?? snakeCase(sqlite) }
                var table = Table()
                let primaryKey = try Row.fetchAll(db, sql: "PRAGMA table_info(\(name.quotedDatabaseIdentifier))")
                    .filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { column($0["name"]) }
                for row in try Row.fetchAll(db, sql: "PRAGMA table_info(\(name.quotedDatabaseIdentifier))") {
                    let declared: String = row["type"]
                    let isKey = primaryKey.contains(column(row["name"]))
                    // SQLite lets a one-column INTEGER PRIMARY KEY be null in its declaration; it never is.
                    table.columns.insert(Column(name: column(row["name"]), kind: kind(declared), nullable: (row["notnull"] as Int) == 0 && !isKey))
                }
                if !primaryKey.isEmpty { table.indexes.insert("unique (\(primaryKey.joined(separator: ", ")))") }
                for index in try Row.fetchAll(db, sql: "PRAGMA index_list(\(name.quotedDatabaseIdentifier))") where (index["origin"] as String) != "pk" {
                    let indexName: String = index["name"]
                    let columns = try Row.fetchAll(db, sql: "PRAGMA index_info(\(indexName.quotedDatabaseIdentifier))")
                        .sorted { ($0["seqno"] as Int) < ($1["seqno"] as Int) }.map { column($0["name"]) }
                    table.indexes.insert("\((index["unique"] as Int) == 1 ? "unique " : "")(\(columns.joined(separator: ", ")))")
                }
                tables[name] = table
            }
            return tables
        }
    }

    static func postgresSchema() async throws -> [String: Table] {
        let server = try TestPostgres.shared()
        let name = TestPostgres.uniqueName("schema")
        _ = try server.freshDatabase(name)
        let state = try await Backend.postgres("schema", database: name)  // migrated
        defer { state.close() }
        var tables: [String: Table] = [:]
        let columns = try server.psql("""
            SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name <> 'governor_migrations'
            """, database: name)
        for line in columns.split(separator: "\n") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == 4 else { continue }
            tables[cells[0], default: Table()].columns.insert(Column(name: cells[1], kind: kind(cells[2]), nullable: cells[3] == "YES"))
        }
        let indexes = try server.psql("""
            SELECT t.relname, ix.indisunique, string_agg(a.attname, ', ' ORDER BY k.ordinality)
            FROM pg_index ix
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
            CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ordinality)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE t.relname <> 'governor_migrations'
            GROUP BY t.relname, ix.indexrelid, ix.indisunique
            """, database: name)
        for line in indexes.split(separator: "\n") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == 3 else { continue }
            tables[cells[0], default: Table()].indexes.insert("\(cells[1] == "t" ? "unique " : "")(\(cells[2]))")
        }
        return tables
    }

    @Test("after every migration, both backends hold the same tables, columns, kinds, nullability and indexes")
    func schemasAgree() async throws {
        let sqlite = try Self.sqliteSchema()
        let postgres = try await Self.postgresSchema()
        #expect(Set(sqlite.keys) == Set(Self.tableNames.keys), "SQLite tables without a PostgreSQL name here: \(Set(sqlite.keys).subtracting(Self.tableNames.keys))")
        #expect(Set(postgres.keys) == Set(Self.tableNames.values), "PostgreSQL tables: \(postgres.keys.sorted())")
        for (name, table) in sqlite.sorted(by: { $0.key < $1.key }) {
            guard let pgName = Self.tableNames[name], let other = postgres[pgName] else { continue }
            let onlySQLite = table.columns.subtracting(other.columns).map(\.description).sorted()
            let onlyPostgres = other.columns.subtracting(table.columns).map(\.description).sorted()
            #expect(onlySQLite == [] && onlyPostgres == [], "\(name): columns only in SQLite \(onlySQLite), only in PostgreSQL \(onlyPostgres)")
            let indexesOnlySQLite = table.indexes.subtracting(other.indexes).sorted()
            let indexesOnlyPostgres = other.indexes.subtracting(table.indexes).sorted()
            #expect(indexesOnlySQLite == [] && indexesOnlyPostgres == [],
                    "\(name): indexes only in SQLite \(indexesOnlySQLite), only in PostgreSQL \(indexesOnlyPostgres)")
        }
    }
}
