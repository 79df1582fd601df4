public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: IncidentStore {
    public func saveIncidents(_ incidents: [Incident], queue: @escaping @Sendable ([Incident]) -> [OutboxMessage], fencedBy lease: Lease?) async throws -> [Incident] {
        guard !incidents.isEmpty else { return [] }
        return try await runBounded(within: Self.requestTimeout) { [self] in
            try await client.withTransaction(logger: logger) { connection in
                if let lease { try await Self.checkFence(lease, on: connection, logger: logger) }
                var stored: [Incident] = []
                for incident in incidents {
                    let scope = IncidentRow.scope(incident.scope), schools = IncidentRow.list(incident.schools)
                    let recovered = IncidentRow.list(incident.recovered), stillDown = IncidentRow.list(incident.stillDown)
                    let later = IncidentRow.list(incident.laterRecovered)
                    var saved = incident
                    if let id = incident.id {
                        try await connection.query("""
                            UPDATE incidents SET scope = \(scope), opened_at = \(incident.openedAt), since = \(incident.since), schools = \(schools),
                                closed_at = \(incident.closedAt), recovered = \(recovered), still_down = \(stillDown), later_recovered = \(later),
                                reported_at = \(incident.reportedAt) WHERE id = \(id)
                            """, logger: logger)
                    } else {
                        let rows = try await connection.query("""
                            INSERT INTO incidents (scope, opened_at, since, schools, closed_at, recovered, still_down, later_recovered, reported_at)
                            VALUES (\(scope), \(incident.openedAt), \(incident.since), \(schools), \(incident.closedAt), \(recovered), \(stillDown),
                                    \(later), \(incident.reportedAt)) RETURNING id
                            """, logger: logger)
                        for try await id in rows.decode(Int64.self) { saved.id = id }
                    }
                    stored.append(saved)
                }
                for message in queue(stored) {
                    try await connection.query("""
                        INSERT INTO outbox (message_id, sender, recipients, subject, body, created_at, attempts, next_attempt_at)
                        VALUES (\(message.messageId), \(message.sender), \(message.recipients), \(message.subject), \(message.body),
                                \(message.createdAt), \(message.attempts), \(message.nextAttemptAt))
                        ON CONFLICT (message_id) DO NOTHING
                        """, logger: logger)
                }
                return stored
            }
        }
    }

    private static let incidentColumns = "id, scope, opened_at, since, schools, closed_at, recovered, still_down, later_recovered, reported_at"

    public func openIncidents() async throws -> [Incident] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await incidentRows(try await client.query("""
                SELECT \(unescaped: Self.incidentColumns) FROM incidents WHERE closed_at IS NULL ORDER BY id
                """, logger: logger))
        }
    }

    public func incidents(since instant: UnixTime) async throws -> [Incident] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await incidentRows(try await client.query("""
                SELECT \(unescaped: Self.incidentColumns) FROM incidents
                WHERE closed_at IS NULL OR closed_at >= \(instant) OR opened_at >= \(instant) ORDER BY id DESC
                """, logger: logger))
        }
    }

    private func incidentRows(_ rows: PostgresRowSequence) async throws -> [Incident] {
        var found: [Incident] = []
        for try await (id, scope, openedAt, since, schools, closedAt, recovered, stillDown, later, reportedAt)
            in rows.decode((Int64, String, Int64, Int64, String, Int64?, String, String, String, Int64?).self) {
            guard let scope = IncidentRow.scope(parsing: scope) else { continue }
            found.append(Incident(id: id, scope: scope, openedAt: openedAt, since: since, schools: IncidentRow.names(schools), closedAt: closedAt,
                                  recovered: IncidentRow.names(recovered), stillDown: IncidentRow.names(stillDown),
                                  laterRecovered: IncidentRow.names(later), reportedAt: reportedAt))
        }
        return found
    }
}
