import Foundation
public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: ContactStore, SourceStore, HealthStore {
    /// One statement for the whole batch: contacts come from every governor, and
    /// `GREATEST` keeps the newest whichever writes last.
    public func recordContacts(_ contacts: [String: UnixTime]) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !contacts.isEmpty else { return }
            try await client.query("""
                INSERT INTO contacts (probe, last_contact)
                SELECT * FROM unnest(\(Array(contacts.keys)), \(Array(contacts.values)))
                ON CONFLICT (probe) DO UPDATE SET last_contact = GREATEST(contacts.last_contact, excluded.last_contact)
                """, logger: logger)
        }
    }

    public func contacts() async throws -> [String: UnixTime] {
        try await runBounded(within: .seconds(60)) { [self] in
            var contacts: [String: UnixTime] = [:]
            for try await (probe, at) in try await client.query("SELECT probe, last_contact FROM contacts", logger: logger).decode((String, Int64).self) {
                contacts[probe] = at
            }
            return contacts
        }
    }

    package func runsWithoutContact(probe: String, after: UnixTime, upTo: UnixTime) async throws -> Int {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard upTo > after else { return 0 }
            return try await count("""
                SELECT count(*) FROM runs JOIN windows ON windows.school = runs.school AND windows.window_start = runs.window_start
                WHERE runs.probe = \(probe) AND runs.run_at > \(after) AND runs.run_at <= \(upTo) AND runs.run_at >= windows.generated_at
                """)
        }
    }

    public func schoolSources() async throws -> [String: String] {
        try await runBounded(within: .seconds(60)) { [self] in
            var sources: [String: String] = [:]
            for try await (file, text) in try await client.query("SELECT file, text FROM school_sources", logger: logger).decode((String, String).self) {
                sources[file] = text
            }
            return sources
        }
    }

    public func saveSchoolSources(_ sources: [String: String], at now: UnixTime) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !sources.isEmpty else { return }
            // Rows are locked in the order of the files' names, the same in every
            // governor: two reloading at once wait for each other instead of deadlocking.
            let files = sources.keys.sorted()
            try await client.query("""
                INSERT INTO school_sources (file, text, stored_at)
                SELECT file, text, \(now) FROM unnest(\(files), \(files.map { sources[$0] ?? "" })) AS s(file, text) ORDER BY file
                ON CONFLICT (file) DO UPDATE SET text = excluded.text, stored_at = excluded.stored_at
                WHERE school_sources.text <> excluded.text
                """, logger: logger)
        }
    }

    public func probeWrite(at now: UnixTime) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await client.query("""
                INSERT INTO health_probe (id, at, pad) VALUES (1, \(now), decode(repeat(md5(random()::text), 128), 'hex'))
                ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad
                """, logger: logger)
        }
    }

    /// The single number a `count(*)` query answers.
    func count(_ query: PostgresQuery) async throws -> Int {
        for try await count in try await client.query(query, logger: logger).decode(Int64.self) { return Int(count) }
        return 0
    }
}

extension PostgresState: ResultStore {
    /// The columns of a result, in ``result(_:)``'s order; `output` may be replaced by ''.
    static func resultColumns(output: String = "output") -> String {
        "id, probe, school, mode, run_at, started_at_ms, finished_at_ms, exit_code, failure, \(output), output_truncated, clock_offset_ms, received_at, idempotency_key, probe_start_lateness_ms, group_name"
    }

    static func result(_ row: PostgresRow) throws -> TestResult {
        let cells = row.makeRandomAccess()
        let mode = try cells[3].decode(String.self)
        guard let parsed = ProbeConfig.Mode(rawValue: mode) else {
            throw StoreError(message: "a stored result has the unknown mode '\(mode)'")
        }
        return TestResult(
            id: try cells[0].decode(Int64.self), probe: try cells[1].decode(String.self), school: try cells[2].decode(String.self),
            mode: parsed, runAt: try cells[4].decode(Int64?.self), startedAtMs: try cells[5].decode(Int64?.self),
            finishedAtMs: try cells[6].decode(Int64?.self), exitCode: try cells[7].decode(Int?.self), failure: try cells[8].decode(String?.self),
            output: try cells[9].decode(String.self), outputTruncated: try cells[10].decode(Bool.self),
            clockOffsetMs: try cells[11].decode(Double?.self), receivedAt: try cells[12].decode(Int64.self),
            idempotencyKey: try cells[13].decode(String?.self), probeStartLatenessMs: try cells[14].decode(Double?.self),
            group: try cells[15].decode(String?.self))
    }

    func results(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws -> [TestResult] {
        let rows: PostgresRowSequence
        if let connection {
            rows = try await connection.query(query, logger: logger)
        } else {
            rows = try await client.query(query, logger: logger)
        }
        var results: [TestResult] = []
        for try await row in rows { results.append(try Self.result(row)) }
        return results
    }

    /// Inserts `result` and returns its id; with `ifAbsent`, nothing when its probe
    /// and idempotency key are stored already. A measurement is inserted by the same
    /// statement, so that it exists if and only if its result does.
    static func insertQuery(_ result: TestResult, ifAbsent: Bool) -> PostgresQuery {
        let conflict = ifAbsent ? "ON CONFLICT (probe, idempotency_key) DO NOTHING" : ""
        guard let m = result.measurement else {
            return """
                INSERT INTO results (probe, school, mode, run_at, started_at_ms, finished_at_ms, exit_code, failure, output,
                                     output_truncated, clock_offset_ms, received_at, idempotency_key, probe_start_lateness_ms, group_name)
                VALUES (\(result.probe), \(result.school), \(result.mode.rawValue), \(result.runAt), \(result.startedAtMs),
                        \(result.finishedAtMs), \(result.exitCode), \(result.failure), \(result.output), \(result.outputTruncated),
                        \(result.clockOffsetMs), \(result.receivedAt), \(result.idempotencyKey), \(result.probeStartLatenessMs), \(result.group))
                \(unescaped: conflict) RETURNING id
                """
        }
        return """
            WITH inserted AS (
                INSERT INTO results (probe, school, mode, run_at, started_at_ms, finished_at_ms, exit_code, failure, output,
                                     output_truncated, clock_offset_ms, received_at, idempotency_key, probe_start_lateness_ms, group_name)
                VALUES (\(result.probe), \(result.school), \(result.mode.rawValue), \(result.runAt), \(result.startedAtMs),
                        \(result.finishedAtMs), \(result.exitCode), \(result.failure), \(result.output), \(result.outputTruncated),
                        \(result.clockOffsetMs), \(result.receivedAt), \(result.idempotencyKey), \(result.probeStartLatenessMs), \(result.group))
                \(unescaped: conflict) RETURNING id),
            measured AS (
                INSERT INTO measurements (\(unescaped: measurementColumns))
                SELECT id, \(result.probe), \(result.school), \(result.measuredAtMs), \(m.tool.rawValue), \(m.downloadMbps), \(m.uploadMbps),
                       \(m.minRTTMs), \(m.retransmissionPercent), \(m.retransmits.map(Int64.init)), \(m.lossPercent), \(m.serverName), \(m.serverIP),
                       \(m.clientIP), \(m.downloadID), \(m.uploadID), \(result.runAt), \(result.group)
                FROM inserted)
            SELECT id FROM inserted
            """
    }

    /// Insert-if-absent on (probe, idempotency key): a re-send to another governor
    /// finds the first, as one to the same governor does.
    public func insertOnce(_ result: TestResult) async throws -> (result: TestResult, created: Bool) {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var stored = result
            for try await id in try await client.query(Self.insertQuery(result, ifAbsent: true), logger: logger).decode(Int64.self) {
                stored.id = id
                return (stored, true)
            }
            guard let key = result.idempotencyKey else {
                throw StoreError(message: "a result of \(result.probe) was neither stored nor found")
            }
            let existing = try await results("SELECT \(unescaped: Self.resultColumns()) FROM results WHERE probe = \(result.probe) AND idempotency_key = \(key)")
            guard let first = existing.first else {
                throw StoreError(message: "a result of \(result.probe) (\(key)) was neither stored nor found")
            }
            return (first, false)
        }
    }

    package func insert(_ result: TestResult) async throws -> TestResult {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var stored = result
            for try await id in try await client.query(Self.insertQuery(result, ifAbsent: false), logger: logger).decode(Int64.self) {
                stored.id = id
            }
            return stored
        }
    }

    public func results(probe: String, limit: Int) async throws -> [TestResult] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await withMeasurements(try await results("SELECT \(unescaped: Self.resultColumns()) FROM results WHERE probe = \(probe) ORDER BY id DESC LIMIT \(limit)"))
        }
    }

    public func results(school: String, limit: Int) async throws -> [TestResult] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await withMeasurements(try await results("SELECT \(unescaped: Self.resultColumns()) FROM results WHERE school = \(school) ORDER BY id DESC LIMIT \(limit)"))
        }
    }

    public func resultCounts(of probes: [String], since instant: UnixTime) async throws -> [String: Int] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !probes.isEmpty else { return [:] }
            var counts: [String: Int] = [:]
            let rows = try await client.query("""
                SELECT probe, count(*) FROM results WHERE probe = ANY(\(probes)) AND received_at >= \(instant) GROUP BY probe
                """, logger: logger)
            for try await (probe, count) in rows.decode((String, Int64).self) where count > 0 { counts[probe] = Int(count) }
            return counts
        }
    }

    public func resultCount(probe: String, since instant: UnixTime) async throws -> Int {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await count("SELECT count(*) FROM results WHERE probe = \(probe) AND received_at >= \(instant)")
        }
    }

    public func latestResults() async throws -> [String: TestResult] {
        try await runBounded(within: .seconds(60)) { [self] in
            let latest = try await results("""
                SELECT DISTINCT ON (probe) \(unescaped: Self.resultColumns(output: "'' AS output")) FROM results ORDER BY probe, id DESC
                """)
            return Dictionary(latest.map { ($0.probe, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    package func latestResult(probe: String) async throws -> TestResult? {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await results("""
                SELECT \(unescaped: Self.resultColumns(output: "'' AS output")) FROM results WHERE probe = \(probe) ORDER BY id DESC LIMIT 1
                """).first
        }
    }

    public func runResults(school: String, from: UnixTime, before to: UnixTime) async throws -> [RunResultKey: StoredRunResult] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await runResults("""
                SELECT probe, run_at, id, exit_code, failure FROM results
                WHERE school = \(school) AND run_at >= \(from) AND run_at < \(to) ORDER BY id
                """)
        }
    }

    public func runResults(probe: String, from: UnixTime, through: UnixTime) async throws -> [RunResultKey: StoredRunResult] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await runResults("""
                SELECT probe, run_at, id, exit_code, failure FROM results
                WHERE probe = \(probe) AND run_at >= \(from) AND run_at <= \(through) ORDER BY id
                """)
        }
    }

    private func runResults(_ query: PostgresQuery) async throws -> [RunResultKey: StoredRunResult] {
        var outcomes: [RunResultKey: StoredRunResult] = [:]
        let rows = try await client.query(query, logger: logger)
        for try await (probe, runAt, id, exitCode, failure) in rows.decode((String, Int64, Int64, Int?, String?).self) {
            outcomes[RunResultKey(probe: probe, runAt: runAt)] = StoredRunResult(
                id: id, facts: RunJudgement.ResultFacts(exitCode: exitCode, failure: failure))
        }
        return outcomes
    }
}


extension PostgresState: SharedStateFeed {
    public func contacts(since instant: UnixTime) async throws -> [String: UnixTime] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var contacts: [String: UnixTime] = [:]
            let rows = try await client.query("SELECT probe, last_contact FROM contacts WHERE last_contact >= \(instant)", logger: logger)
            for try await (probe, at) in rows.decode((String, Int64).self) { contacts[probe] = at }
            return contacts
        }
    }

    public func measurements(receivedSince instant: UnixTime) async throws -> [StoredMeasurement] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("""
                SELECT \(unescaped: Self.measurementColumns) FROM measurements
                WHERE result_id IN (SELECT id FROM results WHERE received_at >= \(instant))
                """, logger: logger)
            var found: [StoredMeasurement] = []
            for try await row in rows { found.append(try Self.measurement(row)) }
            return found
        }
    }

    public func latestResults(receivedSince instant: UnixTime) async throws -> [String: TestResult] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let latest = try await results("""
                SELECT DISTINCT ON (probe) \(unescaped: Self.resultColumns(output: "'' AS output")) FROM results
                WHERE received_at >= \(instant) ORDER BY probe, id DESC
                """)
            return Dictionary(latest.map { ($0.probe, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }
}
