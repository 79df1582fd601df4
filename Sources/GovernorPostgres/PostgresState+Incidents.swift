public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: IncidentStore {
    public func saveIncident(_ incident: Incident) async throws -> Incident {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let scope = IncidentRow.scope(incident.scope), schools = IncidentRow.list(incident.schools)
            let recovered = IncidentRow.list(incident.recovered), stillDown = IncidentRow.list(incident.stillDown)
            var stored = incident
            if let id = incident.id {
                try await client.query("""
                    UPDATE incidents SET scope = \(scope), opened_at = \(incident.openedAt), since = \(incident.since), schools = \(schools),
                        closed_at = \(incident.closedAt), recovered = \(recovered), still_down = \(stillDown) WHERE id = \(id)
                    """, logger: logger)
            } else {
                let rows = try await client.query("""
                    INSERT INTO incidents (scope, opened_at, since, schools, closed_at, recovered, still_down)
                    VALUES (\(scope), \(incident.openedAt), \(incident.since), \(schools), \(incident.closedAt), \(recovered), \(stillDown)) RETURNING id
                    """, logger: logger)
                for try await id in rows.decode(Int64.self) { stored.id = id }
            }
            return stored
        }
    }

    public func openIncidents() async throws -> [Incident] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await incidentRows(try await client.query("""
                SELECT id, scope, opened_at, since, schools, closed_at, recovered, still_down FROM incidents WHERE closed_at IS NULL ORDER BY id
                """, logger: logger))
        }
    }

    public func incidents(since instant: UnixTime) async throws -> [Incident] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await incidentRows(try await client.query("""
                SELECT id, scope, opened_at, since, schools, closed_at, recovered, still_down FROM incidents
                WHERE closed_at IS NULL OR closed_at >= \(instant) OR opened_at >= \(instant) ORDER BY id DESC
                """, logger: logger))
        }
    }

    private func incidentRows(_ rows: PostgresRowSequence) async throws -> [Incident] {
        var found: [Incident] = []
        for try await (id, scope, openedAt, since, schools, closedAt, recovered, stillDown)
            in rows.decode((Int64, String, Int64, Int64, String, Int64?, String, String).self) {
            guard let scope = IncidentRow.scope(parsing: scope) else { continue }
            found.append(Incident(id: id, scope: scope, openedAt: openedAt, since: since, schools: IncidentRow.names(schools), closedAt: closedAt,
                                  recovered: IncidentRow.names(recovered), stillDown: IncidentRow.names(stillDown)))
        }
        return found
    }
}
