public import GovernorCore
public import GovernorStore
import GRDB

extension SQLiteState {
    private static let incidentColumns = "id, scope, openedAt, since, schools, closedAt, recovered, stillDown, laterRecovered, reportedAt"

    public func saveIncidents(_ incidents: [Incident], queue: @escaping @Sendable ([Incident]) -> [OutboxMessage], fencedBy lease: Lease?) async throws -> [Incident] {
        guard !incidents.isEmpty else { return [] }
        return try await writer.write { db in
            if let lease { try Self.checkFence(lease, db) }
            var stored: [Incident] = []
            for incident in incidents {
                let scope = IncidentRow.scope(incident.scope), schools = IncidentRow.list(incident.schools)
                let recovered = IncidentRow.list(incident.recovered), stillDown = IncidentRow.list(incident.stillDown)
                let later = IncidentRow.list(incident.laterRecovered)
                var saved = incident
                if let id = incident.id {
                    try db.execute(sql: """
                        UPDATE incident SET scope = ?, openedAt = ?, since = ?, schools = ?, closedAt = ?, recovered = ?, stillDown = ?,
                            laterRecovered = ?, reportedAt = ? WHERE id = ?
                        """, arguments: [scope, incident.openedAt, incident.since, schools, incident.closedAt, recovered, stillDown, later,
                                         incident.reportedAt, id])
                } else {
                    try db.execute(sql: """
                        INSERT INTO incident (scope, openedAt, since, schools, closedAt, recovered, stillDown, laterRecovered, reportedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [scope, incident.openedAt, incident.since, schools, incident.closedAt, recovered, stillDown, later,
                                         incident.reportedAt])
                    saved.id = db.lastInsertedRowID
                }
                stored.append(saved)
            }
            for message in queue(stored) {
                try db.execute(sql: """
                    INSERT INTO outbox (messageId, sender, recipients, subject, body, createdAt, attempts, nextAttemptAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (messageId) DO NOTHING
                    """, arguments: [message.messageId, message.sender, message.recipients, message.subject, message.body,
                                     message.createdAt, message.attempts, message.nextAttemptAt])
            }
            return stored
        }
    }

    public func openIncidents() async throws -> [Incident] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.incidentColumns) FROM incident WHERE closedAt IS NULL ORDER BY id").compactMap(Self.incident)
        }
    }

    public func incidents(since instant: UnixTime) async throws -> [Incident] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.incidentColumns) FROM incident WHERE closedAt IS NULL OR closedAt >= ? OR openedAt >= ? ORDER BY id DESC
                """, arguments: [instant, instant]).compactMap(Self.incident)
        }
    }

    private static func incident(_ row: Row) -> Incident? {
        guard let scope = IncidentRow.scope(parsing: row[1]) else { return nil }
        return Incident(id: row[0], scope: scope, openedAt: row[2], since: row[3], schools: IncidentRow.names(row[4]), closedAt: row[5],
                        recovered: IncidentRow.names(row[6]), stillDown: IncidentRow.names(row[7]), laterRecovered: IncidentRow.names(row[8]),
                        reportedAt: row[9])
    }
}
