import Foundation
public import GovernorCore
public import GovernorStore
import PostgresNIO

/// Copies an SQLite state into this database (`governor migrate-state`).
///
/// Every row keeps its identity: windows their school and start, runs their place
/// in their window, results and outbox messages their ids, claims their run. Each
/// insert skips a row that is there already, so running the copy again changes
/// nothing, and a copy cut short can simply be run again.
extension PostgresState {
    /// What one copy moved, table by table.
    public struct ImportCounts: Sendable, Equatable, CustomStringConvertible {
        public var windows = 0, runs = 0, contacts = 0, results = 0, dispatches = 0, alertStates = 0, outbox = 0, schoolSources = 0
        public var silences = 0, incidents = 0

        public var description: String {
            "\(windows) window(s) with \(runs) run(s), \(contacts) contact(s), \(results) result(s), \(dispatches) push claim(s), "
                + "\(alertStates) alert state(s), \(outbox) alert email(s), \(silences) silence(s), \(incidents) incident(s), "
                + "\(schoolSources) school file text(s)"
        }
    }

    /// How many results are copied per transaction: their output can be large.
    public static let resultPage = 500

    public func importState(from source: some StateExport, at now: UnixTime) async throws -> ImportCounts {
        var counts = ImportCounts()
        let windows = try await source.exportWindows()
        for (generatedAt, group) in Dictionary(grouping: windows, by: \.generatedAt).sorted(by: { $0.key < $1.key }) {
            _ = try await storeWindows(group.map(\.new), generatedAt: generatedAt)
        }
        counts.windows = windows.count
        counts.runs = windows.reduce(0) { $0 + $1.new.window.runs.count }

        let contacts = try await source.contacts()
        try await recordContacts(contacts)
        counts.contacts = contacts.count

        var after: Int64 = 0
        while true {
            let page = try await source.exportResults(after: after, limit: Self.resultPage)
            guard let last = page.last?.id else { break }
            try await importResults(page)
            counts.results += page.count
            after = last
        }

        let dispatches = try await source.exportDispatches()
        try await importDispatches(dispatches)
        counts.dispatches = dispatches.count

        let states = try await source.exportAlertStates()
        try await importAlertStates(states)
        counts.alertStates = states.count

        let outbox = try await source.exportOutbox()
        try await importOutbox(outbox)
        counts.outbox = outbox.count

        let silences = try await source.silences(endedAfter: .min)
        try await importSilences(silences)
        counts.silences = silences.count

        let incidents = try await source.incidents(since: .min)
        try await importIncidents(incidents)
        counts.incidents = incidents.count

        let sources = try await source.schoolSources()
        try await saveSchoolSources(sources, at: now)
        counts.schoolSources = sources.count
        return counts
    }

    private func importResults(_ results: [TestResult]) async throws {
        try await runBounded(within: .seconds(60)) { [self] in
            let logger = logger
            try await client.withTransaction(logger: logger) { connection in
                for result in results {
                    guard let id = result.id else { continue }
                    try await connection.query("""
                        INSERT INTO results (id, probe, school, mode, run_at, started_at_ms, finished_at_ms, exit_code, failure, output,
                                             output_truncated, clock_offset_ms, received_at, idempotency_key, probe_start_lateness_ms, group_name)
                        VALUES (\(id), \(result.probe), \(result.school), \(result.mode.rawValue), \(result.runAt), \(result.startedAtMs),
                                \(result.finishedAtMs), \(result.exitCode), \(result.failure), \(result.output), \(result.outputTruncated),
                                \(result.clockOffsetMs), \(result.receivedAt), \(result.idempotencyKey), \(result.probeStartLatenessMs), \(result.group))
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                    if let measurement = result.storedMeasurement {
                        try await connection.query(Self.insertQuery(measurement), logger: logger)
                    }
                }
                // New results continue after the copied ids.
                try await connection.query("SELECT setval(pg_get_serial_sequence('results', 'id'), GREATEST((SELECT MAX(id) FROM results), 1))", logger: logger)
            }
        }
    }

    private func importDispatches(_ dispatches: [DispatchRecord]) async throws {
        try await runBounded(within: .seconds(60)) { [self] in
            let logger = logger
            try await client.withTransaction(logger: logger) { connection in
                for claim in dispatches {
                    try await connection.query("""
                        INSERT INTO dispatches (probe, run_at, school, state, claimed_at, result_id, claimed_by)
                        VALUES (\(claim.probe), \(claim.runAt), \(claim.school), \(claim.state), \(claim.claimedAt), \(claim.resultId), \(claim.claimedBy))
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
            }
        }
    }

    private func importAlertStates(_ states: [(probe: String, school: String, json: String)]) async throws {
        guard !states.isEmpty else { return }
        try await runBounded(within: .seconds(60)) { [self] in
            try await client.query("""
                INSERT INTO alert_states (probe, school, state, updated_at)
                SELECT *, \(unescaped: Self.databaseNow) FROM unnest(\(states.map(\.probe)), \(states.map(\.school)), \(states.map(\.json)))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    private func importOutbox(_ messages: [OutboxMessage]) async throws {
        try await runBounded(within: .seconds(60)) { [self] in
            let logger = logger
            try await client.withTransaction(logger: logger) { connection in
                for message in messages {
                    guard let id = message.id else { continue }
                    try await connection.query("""
                        INSERT INTO outbox (id, message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error)
                        VALUES (\(id), \(message.messageId), \(message.sender), \(message.recipients), \(message.subject), \(message.body),
                                \(message.createdAt), \(message.attempts), \(message.nextAttemptAt), \(message.sentAt), \(message.lastError))
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
                try await connection.query("SELECT setval(pg_get_serial_sequence('outbox', 'id'), GREATEST((SELECT MAX(id) FROM outbox), 1))", logger: logger)
            }
        }
    }

    private func importSilences(_ silences: [Silence]) async throws {
        try await runBounded(within: .seconds(60)) { [self] in
            let logger = logger
            try await client.withTransaction(logger: logger) { connection in
                for silence in silences {
                    guard let id = silence.id else { continue }
                    let columns = SilenceRow.columns(of: silence.matcher)
                    try await connection.query("""
                        INSERT INTO silences (id, kind, target, starts_at, ends_at, reason, author, removed_at)
                        VALUES (\(id), \(columns.kind), \(columns.target), \(silence.startsAt), \(silence.endsAt), \(silence.reason), \(silence.author),
                                \(silence.removedAt))
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
                try await connection.query("SELECT setval(pg_get_serial_sequence('silences', 'id'), GREATEST((SELECT MAX(id) FROM silences), 1))", logger: logger)
            }
        }
    }

    private func importIncidents(_ incidents: [Incident]) async throws {
        try await runBounded(within: .seconds(60)) { [self] in
            let logger = logger
            try await client.withTransaction(logger: logger) { connection in
                for incident in incidents {
                    guard let id = incident.id else { continue }
                    try await connection.query("""
                        INSERT INTO incidents (id, scope, opened_at, since, schools, closed_at, recovered, still_down, later_recovered, reported_at)
                        VALUES (\(id), \(IncidentRow.scope(incident.scope)), \(incident.openedAt), \(incident.since), \(IncidentRow.list(incident.schools)),
                                \(incident.closedAt), \(IncidentRow.list(incident.recovered)), \(IncidentRow.list(incident.stillDown)),
                                \(IncidentRow.list(incident.laterRecovered)), \(incident.reportedAt))
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
                try await connection.query("SELECT setval(pg_get_serial_sequence('incidents', 'id'), GREATEST((SELECT MAX(id) FROM incidents), 1))", logger: logger)
            }
        }
    }
}
