public import GovernorCore
import GovernorStore
import GRDB

extension SQLiteState {
    public func addSilence(_ silence: Silence) async throws -> Silence {
        try await writer.write { db in
            let (kind, target) = SilenceRow.columns(of: silence.matcher)
            try db.execute(sql: """
                INSERT INTO silence (kind, target, startsAt, endsAt, reason, author) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [kind, target, silence.startsAt, silence.endsAt, silence.reason, silence.author])
            var stored = silence
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func silences(endedAfter instant: UnixTime) async throws -> [Silence] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, kind, target, startsAt, endsAt, reason, author, removedAt FROM silence
                WHERE MIN(endsAt, COALESCE(removedAt, endsAt)) > ? ORDER BY id
                """, arguments: [instant]).compactMap { row in
                SilenceRow.silence(id: row[0], kind: row[1], target: row[2], startsAt: row[3], endsAt: row[4], reason: row[5], author: row[6], removedAt: row[7])
            }
        }
    }

    public func removeSilence(id: Int64, at instant: UnixTime) async throws -> Silence? {
        try await writer.write { db in
            try db.execute(sql: """
                UPDATE silence SET removedAt = ? WHERE id = ? AND removedAt IS NULL AND endsAt > ?
                """, arguments: [instant, id, instant])
            guard db.changesCount == 1, let row = try Row.fetchOne(db, sql: """
                SELECT id, kind, target, startsAt, endsAt, reason, author, removedAt FROM silence WHERE id = ?
                """, arguments: [id]) else { return nil }
            return SilenceRow.silence(id: row[0], kind: row[1], target: row[2], startsAt: row[3], endsAt: row[4], reason: row[5], author: row[6], removedAt: row[7])
        }
    }
}
