public import GovernorCore
import GRDB

/// The outcome of one run as the dashboard's timeline needs it.
public struct RunResultKey: Hashable, Sendable {
    public var probe: String
    public var runAt: UnixTime

    public init(probe: String, runAt: UnixTime) {
        self.probe = probe
        self.runAt = runAt
    }
}

extension AppDatabase {
    /// Each probe's newest result, without its output (which can be large).
    public func latestResults() async throws -> [String: TestResult] {
        try await writer.read { db in
            let results = try TestResult.fetchAll(db, sql: """
                SELECT id, probe, school, mode, runAt, startedAtMs, finishedAtMs, exitCode, failure, '' AS output,
                       outputTruncated, clockOffsetMs, receivedAt
                FROM result WHERE id IN (SELECT MAX(id) FROM result GROUP BY probe)
                """)
            return Dictionary(results.map { ($0.probe, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The results of a school's runs from `from` up to `to`, keyed by probe and run
    /// time: the result's id and whether it succeeded (exit 0, no failure). When a
    /// run has several results (a probe reporting twice), the newest counts.
    public func runResults(school: String, from: UnixTime, before to: UnixTime) async throws -> [RunResultKey: (id: Int64, succeeded: Bool)] {
        try await writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT probe, runAt, id, exitCode, failure FROM result
                WHERE school = ? AND runAt >= ? AND runAt < ? ORDER BY id
                """, arguments: [school, from, to])
            var outcomes: [RunResultKey: (id: Int64, succeeded: Bool)] = [:]
            for row in rows {
                let exitCode: Int? = row["exitCode"]
                let failure: String? = row["failure"]
                outcomes[RunResultKey(probe: row["probe"], runAt: row["runAt"])] = (row["id"], failure == nil && exitCode == 0)
            }
            return outcomes
        }
    }

    /// A school's latest results with their output, newest first.
    public func results(school: String, limit: Int) async throws -> [TestResult] {
        try await writer.read { db in
            try TestResult.filter(Column("school") == school).order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    /// Undelivered alert email: how many wait, and how many of those failed at least once.
    public func outboxBacklog() async throws -> (pending: Int, failing: Int) {
        try await writer.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COUNT(CASE WHEN attempts > 0 THEN 1 END) FROM outbox WHERE sentAt IS NULL")
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }
}
