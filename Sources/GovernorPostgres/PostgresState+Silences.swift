public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: SilenceStore {
    public func addSilence(_ silence: Silence) async throws -> Silence {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let (kind, target) = SilenceRow.columns(of: silence.matcher)
            let rows = try await client.query("""
                INSERT INTO silences (kind, target, starts_at, ends_at, reason, author)
                VALUES (\(kind), \(target), \(silence.startsAt), \(silence.endsAt), \(silence.reason), \(silence.author)) RETURNING id
                """, logger: logger)
            var stored = silence
            for try await id in rows.decode(Int64.self) { stored.id = id }
            return stored
        }
    }

    public func silences(endedAfter instant: UnixTime) async throws -> [Silence] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("""
                SELECT id, kind, target, starts_at, ends_at, reason, author, removed_at FROM silences
                WHERE LEAST(ends_at, COALESCE(removed_at, ends_at)) > \(instant) ORDER BY id
                """, logger: logger)
            var found: [Silence] = []
            for try await (id, kind, target, startsAt, endsAt, reason, author, removedAt)
                in rows.decode((Int64, String, String, Int64, Int64, String, String, Int64?).self) {
                if let silence = SilenceRow.silence(id: id, kind: kind, target: target, startsAt: startsAt, endsAt: endsAt, reason: reason,
                                                    author: author, removedAt: removedAt) {
                    found.append(silence)
                }
            }
            return found
        }
    }

    public func removeSilence(id: Int64, at instant: UnixTime) async throws -> Silence? {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("""
                UPDATE silences SET removed_at = \(instant) WHERE id = \(id) AND removed_at IS NULL AND ends_at > \(instant)
                RETURNING id, kind, target, starts_at, ends_at, reason, author, removed_at
                """, logger: logger)
            for try await (id, kind, target, startsAt, endsAt, reason, author, removedAt)
                in rows.decode((Int64, String, String, Int64, Int64, String, String, Int64?).self) {
                return SilenceRow.silence(id: id, kind: kind, target: target, startsAt: startsAt, endsAt: endsAt, reason: reason,
                                          author: author, removedAt: removedAt)
            }
            return nil
        }
    }
}
