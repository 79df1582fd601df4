public import GovernorStore
import Foundation
public import GovernorCore
import GRDB

extension SQLiteState {
    public func queueOnce(_ messages: [OutboxMessage]) async throws -> Int {
        guard !messages.isEmpty else { return 0 }
        return try await writer.write { db in
            var queued = 0
            let statement = try db.cachedStatement(sql: """
                INSERT INTO outbox (messageId, sender, recipients, subject, body, createdAt, attempts, nextAttemptAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (messageId) DO NOTHING
                """)
            for message in messages {
                try statement.execute(arguments: [message.messageId, message.sender, message.recipients, message.subject, message.body,
                                                  message.createdAt, message.attempts, message.nextAttemptAt])
                queued += db.changesCount
            }
            return queued
        }
    }

    /// Every probe's stored alert state.
    public func alertStates() async throws -> [String: ProbeAlertState] {
        try await writer.read { db in
            // Row by row with one decoder: at 100,000 probes, every row fetched at once
            // with a decoder each made this the largest moment of a start-up (85 MB).
            var states: [String: ProbeAlertState] = [:]
            states.reserveCapacity(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alertState") ?? 0)
            let decoder = JSONDecoder()
            let rows = try Row.fetchCursor(db, sql: "SELECT probe, state FROM alertState")
            while let row = try rows.next() {
                if let state = try? decoder.decode(ProbeAlertState.self, from: Data((row[1] as String).utf8)) {
                    states[row[0]] = state
                }
            }
            return states
        }
    }

    /// Writes changed alert states, forgets removed probes and queues messages, in one
    /// transaction: an alert is in the outbox if and only if its state change is stored.
    public func saveAlerts(states: [String: (school: String, state: ProbeAlertState)], removing removed: Set<String>, queue messages: [OutboxMessage],
                           fencedBy lease: Lease?) async throws {
        guard !states.isEmpty || !removed.isEmpty || !messages.isEmpty else { return }
        try await writer.write { db in
            if let lease { try Self.checkFence(lease, db) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for (probe, entry) in states {
                let json = String(decoding: try encoder.encode(entry.state), as: UTF8.self)
                try db.execute(sql: """
                    INSERT INTO alertState (probe, school, state, updatedAt) VALUES (?, ?, ?, CAST(strftime('%s', 'now') AS INTEGER))
                    ON CONFLICT(probe) DO UPDATE SET school = excluded.school, state = excluded.state, updatedAt = excluded.updatedAt
                    """, arguments: [probe, entry.school, json])
            }
            for probe in removed {
                try db.execute(sql: "DELETE FROM alertState WHERE probe = ?", arguments: [probe])
            }
            for message in messages {
                _ = try message.inserted(db)
            }
        }
    }

    /// Each probe's runs in `(after, through]` that were stored before their time (a
    /// window generated late cannot be missed), ascending.
    public func judgeableRuns(after: UnixTime, through: UnixTime) async throws -> [String: [UnixTime]] {
        guard through > after else { return [:] }
        return try await writer.read { db in
            var runs: [String: [UnixTime]] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT run.probe, run.runAt FROM run JOIN window ON window.school = run.school AND window.start = run.windowStart
                WHERE run.runAt > ? AND run.runAt <= ? AND run.runAt >= window.generatedAt ORDER BY run.runAt
                """, arguments: [after, through])
            for row in rows { runs[row[0], default: []].append(row[1]) }
            return runs
        }
    }

    /// Undelivered messages whose next attempt is due, oldest first.
    package func dueOutboxMessages(at now: UnixTime, limit: Int) async throws -> [OutboxMessage] {
        try await writer.read { db in
            try OutboxRow.filter(Column("sentAt") == nil && Column("nextAttemptAt") <= now).order(Column("id")).limit(limit).fetchAll(db).map(\.record)
        }
    }

    public func claimOutboxMessages(at now: UnixTime, limit: Int, holder: String, seconds: Int64) async throws -> [OutboxMessage] {
        try await writer.write { db in
            let due = try OutboxRow
                // One governor per file: a claim of another holder is of a process that
                // is gone, killed in the middle of a send.
                .filter(Column("sentAt") == nil && Column("nextAttemptAt") <= now
                        && (Column("claimedUntil") == nil || Column("claimedUntil") < now || Column("claimedBy") != holder))
                .order(Column("id")).limit(limit).fetchAll(db).map(\.record)
            for message in due {
                try db.execute(sql: "UPDATE outbox SET claimedBy = ?, claimedUntil = ? WHERE id = ?", arguments: [holder, now + seconds, message.id])
            }
            return due
        }
    }

    public func markSent(_ id: Int64, at now: UnixTime) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE outbox SET sentAt = ?, attempts = attempts + 1, lastError = NULL, claimedBy = NULL, claimedUntil = NULL WHERE id = ?",
                           arguments: [now, id])
        }
    }

    public func markFailed(_ id: Int64, error: String, nextAttemptAt: UnixTime) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1, lastError = ?, nextAttemptAt = ?, claimedBy = NULL, claimedUntil = NULL WHERE id = ?",
                           arguments: [error, nextAttemptAt, id])
        }
    }

    public func holdLease(_ name: String, holder: String, seconds: Int64, at now: UnixTime) async throws -> Lease? {
        try await writer.write { db in
            let fencing = try Int64.fetchOne(db, sql: """
                INSERT INTO lease (name, holder, fencing, expiresAt) VALUES (?, ?, 1, ?)
                ON CONFLICT (name) DO UPDATE SET
                    fencing = CASE WHEN lease.holder = excluded.holder AND lease.expiresAt >= ? THEN lease.fencing ELSE lease.fencing + 1 END,
                    holder = excluded.holder, expiresAt = excluded.expiresAt
                WHERE lease.holder = excluded.holder OR lease.expiresAt < ?
                RETURNING fencing
                """, arguments: [name, holder, now + seconds, now, now])
            return fencing.map { Lease(name: name, holder: holder, fencing: $0) }
        }
    }

    /// How many messages wait for delivery.
    package func pendingOutboxCount() async throws -> Int {
        try await writer.read { db in try OutboxRow.filter(Column("sentAt") == nil).fetchCount(db) }
    }

    /// Within a write: throws ``LeaseLost`` unless `lease` is still held with its fencing number.
    static func checkFence(_ lease: Lease, _ db: Database) throws {
        let held = try Int64.fetchOne(db, sql: "SELECT fencing FROM lease WHERE name = ? AND holder = ?", arguments: [lease.name, lease.holder])
        guard held == lease.fencing else { throw LeaseLost(lease) }
    }
}
