public import GovernorCore
public import GovernorStore
import PostgresNIO

extension PostgresState: MeasurementStore {
    static let measurementColumns = """
        result_id, probe, school, measured_at_ms, tool, download_mbps, upload_mbps, min_rtt_ms, retransmission_percent, retransmits,
        loss_percent, server_name, server_ip, client_ip, download_id, upload_id, run_at, group_name
        """

    static func measurement(_ row: PostgresRow) throws -> StoredMeasurement {
        let cells = row.makeRandomAccess()
        let toolName = try cells[4].decode(String.self)
        guard let tool = SpeedMeasurement.Tool(rawValue: toolName) else {
            throw StoreError(message: "a stored measurement has the unknown tool '\(toolName)'")
        }
        return StoredMeasurement(
            resultID: try cells[0].decode(Int64.self), probe: try cells[1].decode(String.self), school: try cells[2].decode(String.self),
            measuredAtMs: try cells[3].decode(Int64.self),
            measurement: SpeedMeasurement(
                tool: tool, downloadMbps: try cells[5].decode(Double?.self), uploadMbps: try cells[6].decode(Double?.self),
                minRTTMs: try cells[7].decode(Double?.self), retransmissionPercent: try cells[8].decode(Double?.self),
                retransmits: try cells[9].decode(Int64?.self).map { Int(clamping: $0) }, lossPercent: try cells[10].decode(Double?.self),
                serverName: try cells[11].decode(String?.self), serverIP: try cells[12].decode(String?.self), clientIP: try cells[13].decode(String?.self),
                downloadID: try cells[14].decode(String?.self), uploadID: try cells[15].decode(String?.self)),
            runAt: try cells[16].decode(Int64?.self), group: try cells[17].decode(String?.self))
    }

    static func insertQuery(_ stored: StoredMeasurement) -> PostgresQuery {
        let m = stored.measurement
        return """
            INSERT INTO measurements (\(unescaped: measurementColumns))
            VALUES (\(stored.resultID), \(stored.probe), \(stored.school), \(stored.measuredAtMs), \(m.tool.rawValue), \(m.downloadMbps),
                    \(m.uploadMbps), \(m.minRTTMs), \(m.retransmissionPercent), \(m.retransmits.map(Int64.init)), \(m.lossPercent), \(m.serverName),
                    \(m.serverIP), \(m.clientIP), \(m.downloadID), \(m.uploadID), \(stored.runAt), \(stored.group))
            ON CONFLICT (result_id) DO NOTHING
            """
    }

    public func measurements(ofResults ids: [Int64]) async throws -> [Int64: SpeedMeasurement] {
        guard !ids.isEmpty else { return [:] }
        return try await runBounded(within: Self.requestTimeout) { [self] in try await measurementsQuery(ids) }
    }

    private func measurementsQuery(_ ids: [Int64]) async throws -> [Int64: SpeedMeasurement] {
        var found: [Int64: SpeedMeasurement] = [:]
        let rows = try await client.query("SELECT \(unescaped: Self.measurementColumns) FROM measurements WHERE result_id = ANY(\(ids))", logger: logger)
        for try await row in rows {
            let stored = try Self.measurement(row)
            found[stored.resultID] = stored.measurement
        }
        return found
    }

    /// `results` with their measurements, by one more query.
    func withMeasurements(_ results: [TestResult]) async throws -> [TestResult] {
        let ids = results.compactMap(\.id)
        guard !ids.isEmpty else { return results }
        let found = try await measurementsQuery(ids)
        return results.map { result in
            var result = result
            result.measurement = result.id.flatMap { found[$0] }
            return result
        }
    }

    public func measurements(school: String, fromMs: Int64, beforeMs: Int64) async throws -> [StoredMeasurement] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var found: [StoredMeasurement] = []
            let rows = try await client.query("""
                SELECT \(unescaped: Self.measurementColumns) FROM measurements
                WHERE school = \(school) AND measured_at_ms >= \(fromMs) AND measured_at_ms < \(beforeMs) ORDER BY measured_at_ms, result_id
                """, logger: logger)
            for try await row in rows { found.append(try Self.measurement(row)) }
            return found
        }
    }

    public func measurementPoints(after id: Int64, through last: Int64, limit: Int) async throws -> [MeasurementPoint] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            var points: [MeasurementPoint] = []
            let rows = try await client.query("""
                SELECT result_id, school, measured_at_ms, download_mbps, upload_mbps, group_name, run_at FROM measurements
                WHERE result_id > \(id) AND result_id <= \(last) ORDER BY result_id LIMIT \(limit)
                """, logger: logger)
            for try await (resultID, school, at, download, upload, group, runAt)
                in rows.decode((Int64, String, Int64, Double?, Double?, String?, Int64?).self) {
                points.append(MeasurementPoint(resultID: resultID, school: school, measuredAtMs: at, downloadMbps: download, uploadMbps: upload,
                                               groupRun: GroupRunKey(group: group, runAt: runAt)))
            }
            return points
        }
    }

    public func lastMeasuredResultID() async throws -> Int64 {
        try await runBounded(within: Self.requestTimeout) { [self] in
            for try await last in try await client.query("SELECT COALESCE(MAX(result_id), 0) FROM measurements", logger: logger).decode(Int64.self) {
                return last
            }
            return 0
        }
    }

    public func measurements(fromMs: Int64, beforeMs: Int64, after: (ms: Int64, resultID: Int64)?, limit: Int) async throws -> [StoredMeasurement] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let (afterMs, afterID) = after ?? (Int64.min, Int64.min)
            var found: [StoredMeasurement] = []
            let rows = try await client.query("""
                SELECT \(unescaped: Self.measurementColumns) FROM measurements
                WHERE measured_at_ms >= \(fromMs) AND measured_at_ms < \(beforeMs) AND (measured_at_ms, result_id) > (\(afterMs), \(afterID))
                ORDER BY measured_at_ms, result_id LIMIT \(limit)
                """, logger: logger)
            for try await row in rows { found.append(try Self.measurement(row)) }
            return found
        }
    }

    public func measurementBackfill() async throws -> (after: Int64, last: Int64)? {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let rows = try await client.query("SELECT after_id, last_id FROM measurement_backfill WHERE id = 1", logger: logger)
            for try await (after, last) in rows.decode((Int64, Int64).self) {
                return after < last ? (after, last) : nil
            }
            return nil
        }
    }

    public func results(after id: Int64, through last: Int64, limit: Int) async throws -> [TestResult] {
        try await runBounded(within: Self.requestTimeout) { [self] in
            try await results("""
                SELECT \(unescaped: Self.resultColumns()) FROM results WHERE id > \(id) AND id <= \(last) ORDER BY id LIMIT \(limit)
                """)
        }
    }

    public func advanceBackfill(from after: Int64, to: Int64, storing measurements: [StoredMeasurement]) async throws -> Bool {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let logger = logger
            return try await client.withTransaction(logger: logger) { connection in
                // The row lock makes a second governor wait, then find the position moved.
                let moved = try await connection.query("""
                    UPDATE measurement_backfill SET after_id = \(to) WHERE id = 1 AND after_id = \(after) RETURNING 1
                    """, logger: logger).collect()
                guard !moved.isEmpty else { return false }
                for measurement in measurements {
                    try await connection.query(Self.insertQuery(measurement), logger: logger)
                }
                return true
            }
        }
    }

    /// For the tests: the state as an upgrade finds it (see the tests' `StateInspection`).
    package func rewindMeasurementBackfill() async throws {
        try await runBounded(within: Self.requestTimeout) { [self] in
            let logger = logger
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("DELETE FROM measurements", logger: logger)
                try await connection.query("UPDATE measurement_backfill SET after_id = 0, last_id = (SELECT COALESCE(MAX(id), 0) FROM results)", logger: logger)
            }
        }
    }
}
