public import GovernorCore
import GovernorStore
import GRDB

extension SQLiteState {
    private static let incidentColumns = "id, scope, openedAt, since, schools, closedAt, recovered, stillDown"

    public func saveIncident(_ incident: Incident) async throws -> Incident {
        try await writer.write { db in
            let scope = IncidentRow.scope(incident.scope), schools = IncidentRow.list(incident.schools)
            let recovered = IncidentRow.list(incident.recovered), stillDown = IncidentRow.list(incident.stillDown)
            var stored = incident
            if let id = incident.id {
                try db.execute(sql: """
                    UPDATE incident SET scope = ?, openedAt = ?, since = ?, schools = ?, closedAt = ?, recovered = ?, stillDown = ? WHERE id = ?
                    """, arguments: [scope, incident.openedAt, incident.since, schools, incident.closedAt, recovered, stillDown, id])
            } else {
                try db.execute(sql: """
                    INSERT INTO incident (scope, openedAt, since, schools, closedAt, recovered, stillDown) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [scope, incident.openedAt, incident.since, schools, incident.closedAt, recovered, stillDown])
                stored.id = db.lastInsertedRowID
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
                        recovered: IncidentRow.names(row[6]), stillDown: IncidentRow.names(row[7]))
    }
}
