import Foundation
import GRDB
public import GovernorStore

/// The governor's state database: one SQLite file, opened in WAL mode, migrated in code.
///
/// Everything durable goes through this value: the schedules once generated, the
/// probes' contacts and their results. Server code uses its async methods only.
public struct SQLiteState: Sendable {
    /// `DatabasePool` in production (WAL: readers never wait for the writer),
    /// `DatabaseQueue` in memory for tests. Only this module's queries touch it: the
    /// server speaks to the store through the methods of its extensions.
    let writer: any DatabaseWriter

    /// Wraps `writer` and brings its schema up to date.
    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Opens (creating if needed, with its directory) the database at `path`.
    ///
    /// - Throws: ``StoreError`` naming the path when it cannot be opened or migrated.
    public static func open(path: String) throws(StoreError) -> SQLiteState {
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                // WAL with NORMAL sync: durable across a process crash, and no fsync per commit.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            return try SQLiteState(DatabasePool(path: path, configuration: configuration))
        } catch {
            throw StoreError(message: "cannot open the state database \(path): \(error)")
        }
    }

    /// An empty database in memory, for tests.
    public static func inMemory() throws -> SQLiteState {
        try SQLiteState(DatabaseQueue())
    }

    /// Closes the database; further use fails. Call once, at shutdown.
    public func close() throws {
        if let pool = writer as? DatabasePool {
            try pool.close()
        } else if let queue = writer as? DatabaseQueue {
            try queue.close()
        }
    }

    /// The schema, one named migration per version. Never edit a shipped migration:
    /// add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // A generated window: its runs are fixed from the moment this row exists.
            try db.create(table: "window") { t in
                t.column("school", .text).notNull()
                t.column("start", .integer).notNull()
                t.column("end", .integer).notNull()
                t.column("localDate", .text).notNull()
                t.column("startBoundary", .integer).notNull()
                t.column("generatedAt", .integer).notNull()
                t.column("fingerprint", .text).notNull()
                t.primaryKey(["school", "start"])
            }
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("school", .text).notNull()
                t.column("windowStart", .integer).notNull()
                t.column("sequence", .integer).notNull()
                t.column("probe", .text).notNull()
                t.column("runAt", .integer).notNull()
                t.uniqueKey(["school", "windowStart", "sequence"])
                t.foreignKey(["school", "windowStart"], references: "window", onDelete: .cascade)
            }
            try db.create(index: "run_on_probe_runAt", on: "run", columns: ["probe", "runAt"])
            try db.create(index: "run_on_runAt", on: "run", columns: ["runAt"])
            // The last time each probe was heard from.
            try db.create(table: "contact") { t in
                t.primaryKey("probe", .text)
                t.column("lastContact", .integer).notNull()
            }
            try db.create(table: "result") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("probe", .text).notNull()
                t.column("school", .text).notNull()
                t.column("mode", .text).notNull()
                t.column("runAt", .integer)
                t.column("startedAtMs", .integer)
                t.column("finishedAtMs", .integer)
                t.column("exitCode", .integer)
                t.column("failure", .text)
                t.column("output", .text).notNull()
                t.column("outputTruncated", .boolean).notNull()
                t.column("clockOffsetMs", .double)
                t.column("receivedAt", .integer).notNull()
            }
            try db.create(index: "result_on_probe_id", on: "result", columns: ["probe", "id"])
        }
        migrator.registerMigration("v2") { db in
            // One row per push run the dispatcher has taken on, written before it connects:
            // a run is never dispatched twice, and one in flight at a crash is known.
            try db.create(table: "dispatch") { t in
                t.column("probe", .text).notNull()
                t.column("runAt", .integer).notNull()
                t.column("school", .text).notNull()
                t.column("state", .text).notNull()
                t.column("claimedAt", .integer).notNull()
                t.column("resultId", .integer)
                t.primaryKey(["probe", "runAt"])
            }
        }
        migrator.registerMigration("v3") { db in
            // Each probe's missed-run state, so that a restart neither resets counts nor re-sends.
            try db.create(table: "alertState") { t in
                t.primaryKey("probe", .text)
                t.column("school", .text).notNull()
                t.column("state", .text).notNull()  // ProbeAlertState as JSON
            }
            // Alerts to deliver, written in the same transaction as the change that caused them.
            try db.create(table: "outbox") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("messageId", .text).notNull().unique()
                t.column("sender", .text).notNull()
                t.column("recipients", .text).notNull()  // comma-separated
                t.column("subject", .text).notNull()
                t.column("body", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("nextAttemptAt", .integer).notNull()
                t.column("sentAt", .integer)
                t.column("lastError", .text)
            }
            try db.create(index: "outbox_pending", on: "outbox", columns: ["sentAt", "nextAttemptAt"])
        }
        migrator.registerMigration("v4") { db in
            // The dashboard's timeline looks up a school's results by run time.
            try db.create(index: "result_on_school_runAt", on: "result", columns: ["school", "runAt"])
        }
        migrator.registerMigration("v5") { db in
            // A result sent twice (its 201 lost) is one result: each pull result carries
            // its identity. Rows stored twice before this version keep their data; only
            // the first of each (probe, run) gets the identity.
            try db.execute(sql: """
                ALTER TABLE result ADD COLUMN idempotencyKey TEXT;
                UPDATE result SET idempotencyKey = 'run:' || runAt
                WHERE mode = 'pull' AND runAt IS NOT NULL
                  AND id IN (SELECT MIN(id) FROM result WHERE mode = 'pull' AND runAt IS NOT NULL GROUP BY probe, runAt);
                CREATE UNIQUE INDEX result_on_probe_idempotencyKey ON result(probe, idempotencyKey);
                """)
        }
        migrator.registerMigration("v6") { db in
            // /healthz writes one row here: a real write, which a full disk or a
            // read-only file system refuses, as it would refuse the governor's own.
            try db.execute(sql: "CREATE TABLE healthProbe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL, pad BLOB NOT NULL)")
        }
        migrator.registerMigration("v7") { db in
            // The text each school file had when it last loaded without errors: a file
            // broken while the governor was down does not un-know the school's probes.
            try db.execute(sql: "CREATE TABLE schoolSource (file TEXT PRIMARY KEY, text TEXT NOT NULL, storedAt INTEGER NOT NULL)")
        }
        migrator.registerMigration("v8") { db in
            // A page of /v1/schools counts its probes' results of the last 24 hours
            // without reading the rest of the fleet's.
            try db.create(index: "result_on_probe_receivedAt", on: "result", columns: ["probe", "receivedAt"])
        }
        migrator.registerMigration("v9") { db in
            // Start-up reads every run to come (400,000 at 100,000 probes). Through an
            // index on runAt alone, each row was a random read of the table: 1.7 s. This
            // index holds what that read needs, so it never touches the table; it also
            // serves every other search by run time, which the old index did.
            try db.create(index: "run_on_runAt_probe", on: "run", columns: ["runAt", "probe", "school", "windowStart"])
            try db.drop(index: "run_on_runAt")
            // The windows of those runs, found by their end instead of one lookup per run.
            try db.create(index: "window_on_end", on: "window", columns: ["end"])
        }
        migrator.registerMigration("v10") { db in
            // Several governors on one state (PostgreSQL; the same schema here): the
            // alert judgement is leased to one of them, and each alert email is claimed
            // by the one that sends it.
            try db.execute(sql: """
                CREATE TABLE lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, fencing INTEGER NOT NULL, expiresAt INTEGER NOT NULL);
                ALTER TABLE outbox ADD COLUMN claimedBy TEXT;
                ALTER TABLE outbox ADD COLUMN claimedUntil INTEGER;
                """)
        }
        migrator.registerMigration("v11") { db in
            // Which governor claimed a push run: another one records it as interrupted
            // only when that governor is gone.
            try db.execute(sql: "ALTER TABLE dispatch ADD COLUMN claimedBy TEXT")
        }
        migrator.registerMigration("v12") { db in
            // When each alert state last changed, so that the governors that do not
            // judge follow the changes instead of reading every probe's state.
            try db.execute(sql: "ALTER TABLE alertState ADD COLUMN updatedAt INTEGER NOT NULL DEFAULT 0")
            try db.create(index: "alertState_on_updatedAt", on: "alertState", columns: ["updatedAt"])
        }
        migrator.registerMigration("v13") { db in
            // Runs withdrawn after they were stored (a probe moved, a day closed), kept
            // until they pass so that a probe holding a lease on them learns it.
            try db.execute(sql: """
                CREATE TABLE cancelledRun (probe TEXT NOT NULL, runAt INTEGER NOT NULL, school TEXT NOT NULL, reason TEXT NOT NULL,
                                           cancelledAt INTEGER NOT NULL, PRIMARY KEY (probe, runAt))
                """)
        }
        migrator.registerMigration("v14") { db in
            // The probe's own start lateness, beside the one computed from started_at.
            try db.execute(sql: "ALTER TABLE result ADD COLUMN probeStartLatenessMs DOUBLE")
        }
        migrator.registerMigration("v15") { db in
            // What each test measured, keyed by its result; and where the one reading of
            // the results stored before this version stands (all of them are still to read).
            try db.execute(sql: """
                CREATE TABLE measurement (
                    resultId INTEGER PRIMARY KEY REFERENCES result(id) ON DELETE CASCADE, probe TEXT NOT NULL, school TEXT NOT NULL,
                    measuredAtMs INTEGER NOT NULL, tool TEXT NOT NULL, downloadMbps DOUBLE, uploadMbps DOUBLE, minRttMs DOUBLE,
                    retransmissionPercent DOUBLE, retransmits INTEGER, lossPercent DOUBLE, serverName TEXT, serverIp TEXT, clientIp TEXT,
                    downloadId TEXT, uploadId TEXT);
                CREATE INDEX measurement_on_school_measuredAtMs ON measurement (school, measuredAtMs);
                CREATE INDEX measurement_on_measuredAtMs ON measurement (measuredAtMs);
                CREATE TABLE measurementBackfill (id INTEGER PRIMARY KEY CHECK (id = 1), afterId INTEGER NOT NULL, lastId INTEGER NOT NULL);
                INSERT INTO measurementBackfill (id, afterId, lastId) SELECT 1, 0, COALESCE(MAX(id), 0) FROM result;
                """)
        }
        migrator.registerMigration("v16") { db in
            // Quiet times for the built-in alerts: a school, a probe or a label, until a time.
            try db.execute(sql: """
                CREATE TABLE silence (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, target TEXT NOT NULL, startsAt INTEGER NOT NULL,
                    endsAt INTEGER NOT NULL, reason TEXT NOT NULL, author TEXT NOT NULL, removedAt INTEGER);
                CREATE INDEX silence_on_endsAt ON silence (endsAt);
                """)
        }
        migrator.registerMigration("v17") { db in
            // Outages that took many schools down together: one email opens one, one closes it.
            try db.execute(sql: """
                CREATE TABLE incident (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, openedAt INTEGER NOT NULL, since INTEGER NOT NULL,
                    schools TEXT NOT NULL, closedAt INTEGER, recovered TEXT NOT NULL, stillDown TEXT NOT NULL);
                CREATE INDEX incident_on_closedAt ON incident (closedAt);
                """)
        }
        migrator.registerMigration("v18") { db in
            // An incident's schools that came back after its close, grouped in one email per span.
            try db.execute(sql: """
                ALTER TABLE incident ADD COLUMN laterRecovered TEXT NOT NULL DEFAULT '';
                ALTER TABLE incident ADD COLUMN reportedAt INTEGER;
                """)
        }
        migrator.registerMigration("v19") { db in
            // A result's group ([Group NAME]): the results of one group run share it.
            try db.execute(sql: "ALTER TABLE result ADD COLUMN groupName TEXT")
        }
        migrator.registerMigration("v20") { db in
            // A measurement's run time and group, so that the members of a group run are
            // found together without the result table. Group runs came in the same
            // unreleased version as v19, so no stored measurement has a group to copy.
            try db.execute(sql: """
                ALTER TABLE measurement ADD COLUMN runAt INTEGER;
                ALTER TABLE measurement ADD COLUMN groupName TEXT;
                """)
        }
        return migrator
    }
}

extension StateUnavailable {
    /// `error` as an outage of the state, when it is one: a ``StateUnavailable`` as it
    /// is, or SQLite's word that its disk is full or its file system refuses it
    /// (`SQLITE_FULL`, `SQLITE_IOERR`, `SQLITE_READONLY`, `SQLITE_CANTOPEN`); nil for
    /// anything else. An outage is answered 503 with `Retry-After`, like a lost
    /// PostgreSQL: the probe keeps its result and sends it again.
    public init?(classifying error: any Error) {
        if let unavailable = error as? StateUnavailable {
            self = unavailable
            return
        }
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_FULL:
            self.init("the state database's disk is full: \(error.message ?? "SQLITE_FULL"); free some space")
        case .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN:
            self.init("the state database's file system refuses it: \(error.message ?? "\(error.resultCode)")")
        default:
            return nil
        }
    }
}

extension SQLiteState: StateStore, StateExport {}
