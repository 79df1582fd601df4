import Logging
import PostgresNIO

/// The PostgreSQL schema, one named migration per version, as ``SQLiteState``'s.
///
/// PostgreSQL reserves `window` and `end`, so its tables are plural and its columns
/// snake_case; the rows are the same. Never edit a shipped migration: add the next one.
enum PostgresSchema {
    /// The versions, in order; each a list of statements (one per query: the extended
    /// protocol takes one statement at a time).
    static let migrations: [(name: String, statements: [PostgresQuery])] = [
        ("v1", [
            """
            CREATE TABLE windows (
                school TEXT NOT NULL, window_start BIGINT NOT NULL, window_end BIGINT NOT NULL,
                local_date TEXT NOT NULL, start_boundary INTEGER NOT NULL, generated_at BIGINT NOT NULL,
                fingerprint TEXT NOT NULL, PRIMARY KEY (school, window_start))
            """,
            """
            CREATE TABLE runs (
                id BIGSERIAL PRIMARY KEY, school TEXT NOT NULL, window_start BIGINT NOT NULL,
                sequence INTEGER NOT NULL, probe TEXT NOT NULL, run_at BIGINT NOT NULL,
                UNIQUE (school, window_start, sequence),
                FOREIGN KEY (school, window_start) REFERENCES windows (school, window_start) ON DELETE CASCADE)
            """,
            "CREATE INDEX runs_on_probe_run_at ON runs (probe, run_at)",
            "CREATE INDEX runs_on_run_at ON runs (run_at)",
            "CREATE TABLE contacts (probe TEXT PRIMARY KEY, last_contact BIGINT NOT NULL)",
            """
            CREATE TABLE results (
                id BIGSERIAL PRIMARY KEY, probe TEXT NOT NULL, school TEXT NOT NULL, mode TEXT NOT NULL,
                run_at BIGINT, started_at_ms BIGINT, finished_at_ms BIGINT, exit_code INTEGER, failure TEXT,
                output TEXT NOT NULL, output_truncated BOOLEAN NOT NULL, clock_offset_ms DOUBLE PRECISION,
                received_at BIGINT NOT NULL)
            """,
            "CREATE INDEX results_on_probe_id ON results (probe, id)",
        ]),
        ("v2", [
            """
            CREATE TABLE dispatches (
                probe TEXT NOT NULL, run_at BIGINT NOT NULL, school TEXT NOT NULL, state TEXT NOT NULL,
                claimed_at BIGINT NOT NULL, result_id BIGINT, PRIMARY KEY (probe, run_at))
            """,
        ]),
        ("v3", [
            "CREATE TABLE alert_states (probe TEXT PRIMARY KEY, school TEXT NOT NULL, state TEXT NOT NULL)",
            """
            CREATE TABLE outbox (
                id BIGSERIAL PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL,
                recipients TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL, sent_at BIGINT, last_error TEXT)
            """,
            "CREATE INDEX outbox_pending ON outbox (sent_at, next_attempt_at)",
        ]),
        ("v4", ["CREATE INDEX results_on_school_run_at ON results (school, run_at)"]),
        ("v5", [
            "ALTER TABLE results ADD COLUMN idempotency_key TEXT",
            "CREATE UNIQUE INDEX results_on_probe_idempotency_key ON results (probe, idempotency_key)",
        ]),
        ("v6", ["CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at BIGINT NOT NULL, pad BYTEA NOT NULL)"]),
        ("v7", ["CREATE TABLE school_sources (file TEXT PRIMARY KEY, text TEXT NOT NULL, stored_at BIGINT NOT NULL)"]),
        ("v8", ["CREATE INDEX results_on_probe_received_at ON results (probe, received_at)"]),
        ("v9", [
            "CREATE INDEX runs_on_run_at_probe ON runs (run_at, probe, school, window_start)",
            "DROP INDEX runs_on_run_at",
            "CREATE INDEX windows_on_end ON windows (window_end)",
        ]),
        ("v10", [
            "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, fencing BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
            "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
            "ALTER TABLE outbox ADD COLUMN claimed_until BIGINT",
        ]),
        ("v11", ["ALTER TABLE dispatches ADD COLUMN claimed_by TEXT"]),
        ("v12", [
            "ALTER TABLE alert_states ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX alert_states_on_updated_at ON alert_states (updated_at)",
        ]),
        ("v13", [
            """
            CREATE TABLE cancelled_runs (probe TEXT NOT NULL, run_at BIGINT NOT NULL, school TEXT NOT NULL, reason TEXT NOT NULL,
                                         cancelled_at BIGINT NOT NULL, PRIMARY KEY (probe, run_at))
            """,
        ]),
        // The probe's own start lateness, beside the one computed from started_at.
        ("v14", ["ALTER TABLE results ADD COLUMN probe_start_lateness_ms DOUBLE PRECISION"]),
        // What each test measured, keyed by its result; and where the one reading of the
        // results stored before this version stands (all of them are still to read).
        ("v15", [
            """
            CREATE TABLE measurements (
                result_id BIGINT PRIMARY KEY REFERENCES results (id) ON DELETE CASCADE, probe TEXT NOT NULL, school TEXT NOT NULL,
                measured_at_ms BIGINT NOT NULL, tool TEXT NOT NULL, download_mbps DOUBLE PRECISION, upload_mbps DOUBLE PRECISION,
                min_rtt_ms DOUBLE PRECISION, retransmission_percent DOUBLE PRECISION, retransmits BIGINT, loss_percent DOUBLE PRECISION,
                server_name TEXT, server_ip TEXT, client_ip TEXT, download_id TEXT, upload_id TEXT)
            """,
            "CREATE INDEX measurements_on_school_measured_at_ms ON measurements (school, measured_at_ms)",
            "CREATE INDEX measurements_on_measured_at_ms ON measurements (measured_at_ms)",
            "CREATE TABLE measurement_backfill (id INTEGER PRIMARY KEY CHECK (id = 1), after_id BIGINT NOT NULL, last_id BIGINT NOT NULL)",
            "INSERT INTO measurement_backfill (id, after_id, last_id) SELECT 1, 0, COALESCE(MAX(id), 0) FROM results",
        ]),
        // Quiet times for the built-in alerts: a school, a probe or a label, until a time.
        ("v16", [
            """
            CREATE TABLE silences (
                id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, starts_at BIGINT NOT NULL, ends_at BIGINT NOT NULL,
                reason TEXT NOT NULL, author TEXT NOT NULL, removed_at BIGINT)
            """,
            "CREATE INDEX silences_on_ends_at ON silences (ends_at)",
        ]),
        // Outages that took many schools down together: one email opens one, one closes it.
        ("v17", [
            """
            CREATE TABLE incidents (
                id BIGSERIAL PRIMARY KEY, scope TEXT NOT NULL, opened_at BIGINT NOT NULL, since BIGINT NOT NULL, schools TEXT NOT NULL,
                closed_at BIGINT, recovered TEXT NOT NULL, still_down TEXT NOT NULL)
            """,
            "CREATE INDEX incidents_on_closed_at ON incidents (closed_at)",
        ]),
        // An incident's schools that came back after its close, grouped in one email per span.
        ("v18", [
            "ALTER TABLE incidents ADD COLUMN later_recovered TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE incidents ADD COLUMN reported_at BIGINT",
        ]),
        // A result's group ([Group NAME]): the results of one group run share it.
        ("v19", ["ALTER TABLE results ADD COLUMN group_name TEXT"]),
        // A measurement's run time and group, so that the members of a group run are found
        // together without the results table (no stored measurement has a group yet: group
        // runs came in the same unreleased version as v19).
        ("v20", [
            "ALTER TABLE measurements ADD COLUMN run_at BIGINT",
            "ALTER TABLE measurements ADD COLUMN group_name TEXT",
        ]),
    ]

    /// The names of the migrations applied, in order.
    static func applied(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        var names: [String] = []
        let rows = try await client.query("SELECT name FROM governor_migrations ORDER BY name", logger: logger)
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    /// Applies the migrations not applied yet, each in the transaction that records it.
    /// An advisory lock held by the transaction makes governors that start together
    /// take turns: the second finds the first's migrations applied.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS governor_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", logger: logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM governor_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(statement, logger: logger)
                }
                try await connection.query("INSERT INTO governor_migrations (name) VALUES (\(migration.name))", logger: logger)
            }
        }
    }

    /// The advisory lock of migrations: any number the database's other users do not take.
    static let lockKey: Int64 = 0x676F_7665_726E_6F72  // "governor"
}
