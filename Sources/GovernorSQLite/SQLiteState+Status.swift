public import GovernorStore
public import GovernorCore
import GRDB

extension SQLiteState {
    /// Each probe's newest result, without its output (which can be large).
    public func latestResults() async throws -> [String: TestResult] {
        try await writer.read { db in
            let results = try ResultRow.fetchAll(db, sql: """
                SELECT id, probe, school, mode, runAt, startedAtMs, finishedAtMs, exitCode, failure, '' AS output,
                       outputTruncated, clockOffsetMs, receivedAt, idempotencyKey, probeStartLatenessMs, groupName
                FROM result WHERE id IN (SELECT MAX(id) FROM result GROUP BY probe)
                """)
            return Dictionary(results.map { ($0.record.probe, $0.record) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The results of a school's runs from `from` up to `to`, keyed by probe and run
    /// time: the result's id and what it says of its run. When a run has several
    /// results (a probe reporting twice), the newest counts.
    public func runResults(school: String, from: UnixTime, before to: UnixTime) async throws -> [RunResultKey: StoredRunResult] {
        try await writer.read { db in
            try Self.runResults(db, sql: "school = ? AND runAt >= ? AND runAt < ?", arguments: [school, from, to])
        }
    }

    /// The results of one probe's runs from `from` through `through`, as ``runResults(school:from:before:)``.
    public func runResults(probe: String, from: UnixTime, through: UnixTime) async throws -> [RunResultKey: StoredRunResult] {
        try await writer.read { db in
            try Self.runResults(db, sql: "probe = ? AND runAt >= ? AND runAt <= ?", arguments: [probe, from, through])
        }
    }

    private static func runResults(_ db: Database, sql condition: String, arguments: StatementArguments) throws -> [RunResultKey: StoredRunResult] {
        let rows = try Row.fetchAll(db, sql: "SELECT probe, runAt, id, exitCode, failure FROM result WHERE \(condition) ORDER BY id",
                                    arguments: arguments)
        var outcomes: [RunResultKey: StoredRunResult] = [:]
        for row in rows {
            outcomes[RunResultKey(probe: row["probe"], runAt: row["runAt"])] = StoredRunResult(
                id: row["id"], facts: RunJudgement.ResultFacts(exitCode: row["exitCode"], failure: row["failure"]))
        }
        return outcomes
    }

    /// The probe's newest result, without its output.
    package func latestResult(probe: String) async throws -> TestResult? {
        try await writer.read { db in
            try ResultRow.fetchOne(db, sql: """
                SELECT id, probe, school, mode, runAt, startedAtMs, finishedAtMs, exitCode, failure, '' AS output,
                       outputTruncated, clockOffsetMs, receivedAt, idempotencyKey, probeStartLatenessMs, groupName
                FROM result WHERE probe = ? ORDER BY id DESC LIMIT 1
                """, arguments: [probe])?.record
        }
    }

    /// A school's latest results with their output, newest first.
    public func results(school: String, limit: Int) async throws -> [TestResult] {
        try await writer.read { db in
            try Self.withMeasurements(ResultRow.filter(Column("school") == school).order(Column("id").desc).limit(limit).fetchAll(db).map(\.record), db)
        }
    }

    /// Undelivered alert email: how many wait, and how many of those failed at least once.
    public func outboxBacklog() async throws -> (pending: Int, failing: Int) {
        try await writer.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COUNT(CASE WHEN attempts > 0 THEN 1 END) FROM outbox WHERE sentAt IS NULL")
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    public func oldestFailingOutboxMessage() async throws -> OutboxMessage? {
        try await writer.read { db in
            try OutboxRow.filter(Column("sentAt") == nil && Column("attempts") > 0).order(Column("createdAt"), Column("id")).fetchOne(db)?.record
        }
    }
}
