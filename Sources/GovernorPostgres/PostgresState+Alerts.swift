import Foundation
public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: AlertStore {
    public func queueOnce(_ messages: [OutboxMessage]) async throws -> Int {
        guard !messages.isEmpty else { return 0 }
        return try await runBounded(within: Self.requestTimeout) { [self] in
            var queued = 0
            for message in messages {
                let rows = try await client.query("""
                    INSERT INTO outbox (message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at)
                    VALUES (\(message.messageId), \(message.sender), \(message.recipients), \(message.subject), \(message.body),
                            \(message.createdAt), \(message.attempts), \(message.nextAttemptAt))
                    ON CONFLICT (message_id) DO NOTHING RETURNING 1
                    """, logger: logger).collect()
                queued += rows.count
            }
            return queued
        }
    }

    public func alertStates() async throws -> [String: ProbeAlertState] {
        try await runBounded(within: .seconds(60)) { [self] in
            try await decodedAlertStates(try await client.query("SELECT probe, state FROM alert_states", logger: logger))
        }
    }

    public func alertStates(changedWithin seconds: Int64) async throws -> [String: ProbeAlertState] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await decodedAlertStates(try await client.query("""
                SELECT probe, state FROM alert_states WHERE updated_at >= \(unescaped: Self.databaseNow) - \(seconds)
                """, logger: logger))
        }
    }

    private func decodedAlertStates(_ rows: PostgresRowSequence) async throws -> [String: ProbeAlertState] {
        var states: [String: ProbeAlertState] = [:]
        let decoder = JSONDecoder()
        for try await (probe, json) in rows.decode((String, String).self) {
            if let state = try? decoder.decode(ProbeAlertState.self, from: Data(json.utf8)) { states[probe] = state }
        }
        return states
    }

    public func saveAlerts(states: [String: (school: String, state: ProbeAlertState)], removing removed: Set<String>, queue messages: [OutboxMessage],
                           fencedBy lease: Lease?) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !states.isEmpty || !removed.isEmpty || !messages.isEmpty else { return }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let probes = Array(states.keys)
            let schools = probes.map { states[$0]!.school }
            let json = try probes.map { String(decoding: try encoder.encode(states[$0]!.state), as: UTF8.self) }
            try await client.withTransaction(logger: logger) { connection in
                if let lease { try await Self.checkFence(lease, on: connection, logger: logger) }
                if !probes.isEmpty {
                    try await connection.query("""
                        INSERT INTO alert_states (probe, school, state, updated_at)
                        SELECT *, \(unescaped: Self.databaseNow) FROM unnest(\(probes), \(schools), \(json))
                        ON CONFLICT (probe) DO UPDATE SET school = excluded.school, state = excluded.state, updated_at = excluded.updated_at
                        """, logger: logger)
                }
                if !removed.isEmpty {
                    try await connection.query("DELETE FROM alert_states WHERE probe = ANY(\(Array(removed)))", logger: logger)
                }
                for message in messages {
                    try await connection.query("""
                        INSERT INTO outbox (message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at)
                        VALUES (\(message.messageId), \(message.sender), \(message.recipients), \(message.subject), \(message.body),
                                \(message.createdAt), \(message.attempts), \(message.nextAttemptAt))
                        """, logger: logger)
                }
            }
        }
    }

    public func judgeableRuns(after: UnixTime, through: UnixTime) async throws -> [String: [UnixTime]] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard through > after else { return [:] }
            var runs: [String: [UnixTime]] = [:]
            let rows = try await client.query("""
                SELECT runs.probe, runs.run_at FROM runs
                JOIN windows ON windows.school = runs.school AND windows.window_start = runs.window_start
                WHERE runs.run_at > \(after) AND runs.run_at <= \(through) AND runs.run_at >= windows.generated_at ORDER BY runs.run_at
                """, logger: logger)
            for try await (probe, runAt) in rows.decode((String, Int64).self) { runs[probe, default: []].append(runAt) }
            return runs
        }
    }

    package func dueOutboxMessages(at now: UnixTime, limit: Int) async throws -> [OutboxMessage] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await outboxMessages("""
                SELECT id, message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error
                FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= \(now) ORDER BY id LIMIT \(limit)
                """)
        }
    }

    /// `FOR UPDATE SKIP LOCKED`: governors claiming at once take different messages.
    public func claimOutboxMessages(at now: UnixTime, limit: Int, holder: String, seconds: Int64) async throws -> [OutboxMessage] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await outboxMessages("""
                UPDATE outbox SET claimed_by = \(holder), claimed_until = \(unescaped: Self.databaseNow) + \(seconds)
                WHERE id IN (
                    SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= \(now)
                    AND (claimed_until IS NULL OR claimed_until < \(unescaped: Self.databaseNow)
                         OR NOT EXISTS (SELECT 1 FROM leases WHERE leases.name = \(PresenceLease.prefix) || outbox.claimed_by
                                        AND leases.expires_at >= \(unescaped: Self.databaseNow)))
                    ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id, message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error
                """).sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        }
    }

    public func markSent(_ id: Int64, at now: UnixTime) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await client.query("""
                UPDATE outbox SET sent_at = \(now), attempts = attempts + 1, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func markFailed(_ id: Int64, error: String, nextAttemptAt: UnixTime) async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await client.query("""
                UPDATE outbox SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(nextAttemptAt),
                    claimed_by = NULL, claimed_until = NULL WHERE id = \(id)
                """, logger: logger)
        }
    }

    package func pendingOutboxCount() async throws -> Int {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await count("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        }
    }

    public func outboxBacklog() async throws -> (pending: Int, failing: Int) {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("SELECT count(*), count(*) FILTER (WHERE attempts > 0) FROM outbox WHERE sent_at IS NULL", logger: logger)
            for try await (pending, failing) in rows.decode((Int64, Int64).self) { return (Int(pending), Int(failing)) }
            return (0, 0)
        }
    }

    public func oldestFailingOutboxMessage() async throws -> OutboxMessage? {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await outboxMessages("""
                SELECT id, message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error
                FROM outbox WHERE sent_at IS NULL AND attempts > 0 ORDER BY created_at, id LIMIT 1
                """).first
        }
    }
}

extension PostgresState {
    /// The database server's clock in whole seconds: the one clock all governors share.
    static let databaseNow = "extract(epoch from now())::bigint"

    /// Messages from a query that returns the outbox's columns in their order.
    func outboxMessages(_ query: PostgresQuery) async throws -> [OutboxMessage] {
        let rows = try await client.query(query, logger: logger)
        var messages: [OutboxMessage] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            var message = OutboxMessage(
                messageId: try cells[1].decode(String.self), sender: try cells[2].decode(String.self), recipients: [],
                subject: try cells[4].decode(String.self), body: try cells[5].decode(String.self), createdAt: try cells[6].decode(Int64.self))
            message.id = try cells[0].decode(Int64.self)
            message.recipients = try cells[3].decode(String.self)
            message.attempts = try cells[7].decode(Int.self)
            message.nextAttemptAt = try cells[8].decode(Int64.self)
            message.sentAt = try cells[9].decode(Int64?.self)
            message.lastError = try cells[10].decode(String?.self)
            messages.append(message)
        }
        return messages
    }
}

extension PostgresState: LeaseStore {
    public func holdLease(_ name: String, holder: String, seconds: Int64, at now: UnixTime) async throws -> Lease? {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("""
                INSERT INTO leases (name, holder, fencing, expires_at) VALUES (\(name), \(holder), 1, \(unescaped: Self.databaseNow) + \(seconds))
                ON CONFLICT (name) DO UPDATE SET
                    fencing = CASE WHEN leases.holder = excluded.holder AND leases.expires_at >= \(unescaped: Self.databaseNow)
                              THEN leases.fencing ELSE leases.fencing + 1 END,
                    holder = excluded.holder, expires_at = excluded.expires_at
                WHERE leases.holder = excluded.holder OR leases.expires_at < \(unescaped: Self.databaseNow)
                RETURNING fencing
                """, logger: logger)
            for try await fencing in rows.decode(Int64.self) { return Lease(name: name, holder: holder, fencing: fencing) }
            return nil
        }
    }
}

extension PostgresState: DispatchStore {
    public func undispatchedRuns(of probes: Set<String>, from: UnixTime, through: UnixTime) async throws -> [StoredRun] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            guard !probes.isEmpty else { return [] }
            return try await storedRuns("""
                SELECT runs.school, runs.probe, runs.run_at, windows.window_start, windows.window_end
                FROM runs JOIN windows ON windows.school = runs.school AND windows.window_start = runs.window_start
                LEFT JOIN dispatches ON dispatches.probe = runs.probe AND dispatches.run_at = runs.run_at
                WHERE runs.run_at >= \(from) AND runs.run_at <= \(through) AND dispatches.probe IS NULL AND runs.probe = ANY(\(Array(probes)))
                ORDER BY runs.run_at, runs.probe
                """)
        }
    }

    public func claimDispatch(of run: StoredRun, at now: UnixTime, holder: String) async throws -> Bool {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let claimed = try await client.query("""
                INSERT INTO dispatches (probe, run_at, school, state, claimed_at, claimed_by)
                VALUES (\(run.probe), \(run.runAt), \(run.school), \(DispatchState.started.rawValue), \(now), \(holder))
                ON CONFLICT (probe, run_at) DO NOTHING RETURNING 1
                """, logger: logger).collect()
            return !claimed.isEmpty
        }
    }

    public func orphanedDispatches(holder: String) async throws -> [StoredRun] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await storedRuns("""
                \(unescaped: Self.claimedRuns)
                WHERE dispatches.state = \(DispatchState.started.rawValue) AND dispatches.claimed_by IS DISTINCT FROM \(holder)
                AND NOT EXISTS (SELECT 1 FROM leases WHERE leases.name = \(PresenceLease.prefix) || dispatches.claimed_by
                                AND leases.expires_at >= \(unescaped: Self.databaseNow))
                ORDER BY dispatches.run_at
                """)
        }
    }

    public func interruptOrphan(_ run: StoredRun, result: TestResult, holder: String, at now: UnixTime) async throws -> Bool {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let logger = logger
            return try await client.withTransaction(logger: logger) { connection in
                let taken = try await connection.query("""
                    UPDATE dispatches SET state = \(DispatchState.interrupted.rawValue)
                    WHERE probe = \(run.probe) AND run_at = \(run.runAt) AND state = \(DispatchState.started.rawValue)
                    AND claimed_by IS DISTINCT FROM \(holder) RETURNING 1
                    """, logger: logger).collect()
                guard !taken.isEmpty else { return false }
                var id: Int64?
                for try await stored in try await connection.query(Self.insertQuery(result, ifAbsent: false), logger: logger).decode(Int64.self) {
                    id = stored
                }
                try await connection.query("UPDATE dispatches SET result_id = \(id) WHERE probe = \(run.probe) AND run_at = \(run.runAt)", logger: logger)
                return true
            }
        }
    }

    @discardableResult
    public func finishDispatch(of run: StoredRun, as state: DispatchState, result: TestResult, at now: UnixTime, claimIfNeeded: Bool) async throws -> TestResult? {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let logger = logger
            return try await client.withTransaction(logger: logger) { connection -> TestResult? in
                if claimIfNeeded {
                    try await connection.query("""
                        INSERT INTO dispatches (probe, run_at, school, state, claimed_at)
                        VALUES (\(run.probe), \(run.runAt), \(run.school), \(DispatchState.started.rawValue), \(now))
                        ON CONFLICT (probe, run_at) DO NOTHING
                        """, logger: logger)
                }
                // Locks the claim: an interruption by another governor waits for this
                // transaction, or this one sees it.
                let current = try await connection.query("""
                    SELECT state FROM dispatches WHERE probe = \(run.probe) AND run_at = \(run.runAt) FOR UPDATE
                    """, logger: logger).collect()
                guard try current.first?.decode(String.self) == DispatchState.started.rawValue else { return nil }
                var stored = result
                for try await id in try await connection.query(Self.insertQuery(result, ifAbsent: false), logger: logger).decode(Int64.self) {
                    stored.id = id
                }
                try await connection.query("""
                    UPDATE dispatches SET state = \(state.rawValue), result_id = \(stored.id)
                    WHERE probe = \(run.probe) AND run_at = \(run.runAt)
                    """, logger: logger)
                return stored
            }
        }
    }

    package func dispatchStates(probe: String, from: UnixTime, before to: UnixTime) async throws -> [UnixTime: DispatchState] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var states: [UnixTime: DispatchState] = [:]
            let rows = try await client.query("""
                SELECT run_at, state FROM dispatches WHERE probe = \(probe) AND run_at >= \(from) AND run_at < \(to)
                """, logger: logger)
            for try await (runAt, state) in rows.decode((Int64, String).self) {
                if let state = DispatchState(rawValue: state) { states[runAt] = state }
            }
            return states
        }
    }

    /// The claimed runs with their windows (a run dropped since keeps its own time as its window).
    static let claimedRuns = """
        SELECT dispatches.school, dispatches.probe, dispatches.run_at,
               COALESCE(runs.window_start, dispatches.run_at), COALESCE(windows.window_end, dispatches.run_at)
        FROM dispatches LEFT JOIN runs ON runs.probe = dispatches.probe AND runs.run_at = dispatches.run_at
        LEFT JOIN windows ON windows.school = runs.school AND windows.window_start = runs.window_start
        """

    private func storedRuns(_ query: PostgresQuery) async throws -> [StoredRun] {
        var runs: [StoredRun] = []
        for try await (school, probe, runAt, start, end) in try await client.query(query, logger: logger).decode((String, String, Int64, Int64, Int64).self) {
            runs.append(StoredRun(school: school, probe: probe, runAt: runAt, windowStart: start, windowEnd: end))
        }
        return runs
    }

    /// Within a transaction: throws ``LeaseLost`` unless `lease` is still held with its
    /// fencing number. Locks the lease row, so a takeover waits for the transaction,
    /// or the transaction sees it.
    static func checkFence(_ lease: Lease, on connection: PostgresConnection, logger: Logger) async throws {
        let held = try await connection.query("""
            SELECT fencing FROM leases WHERE name = \(lease.name) AND holder = \(lease.holder)
            AND expires_at >= \(unescaped: databaseNow) FOR UPDATE
            """, logger: logger).collect()
        guard let row = held.first, try row.decode(Int64.self) == lease.fencing else { throw LeaseLost(lease) }
    }
}
