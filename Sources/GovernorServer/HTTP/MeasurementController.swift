import Foundation
import GovernorCore
import GovernorStore
import GovernorWire
import Hummingbird
import NIOCore

/// What the schools' tests measured, for operators and their spreadsheets: one
/// school's measurements with its target and standing, and every measurement as CSV.
struct MeasurementController: Sendable {
    let live: LiveConfiguration
    let status: FleetStatus
    let database: any MeasurementStore
    let clock: ServerClock

    /// The longest range one request lists.
    static let maxRangeSeconds: Int64 = 400 * 86_400
    /// Rows read from the state per page of the CSV.
    static let csvPageSize = 5000

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.group().add(middleware: OperatorAuthenticator(live: live))
            .get("/v1/schools/:name/measurements", use: school)
            .get("/v1/measurements.csv", use: csv)
    }

    /// `from` and `to` as RFC 3339 instants or `YYYY-MM-DD` dates (midnight in `zone`);
    /// `[from, to)`, at most ``maxRangeSeconds`` long.
    static func range(_ parameters: Parameters, in zone: TimeZone, defaultFrom: UnixTime, now: UnixTime) throws(APIError) -> (from: Int64, to: Int64) {
        func instant(_ name: String) throws(APIError) -> Int64? {
            guard let text = parameters.get(name), !text.isEmpty else { return nil }
            if let date = LocalDate(parsing: text) {
                return SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: date, in: zone) * 1000
            }
            guard let seconds = RFC3339.parsePrecise(text), seconds.isFinite, abs(seconds) < 1e11 else {
                throw APIError.badRequest("'\(name)' is '\(text.prefix(40))'; expected an RFC 3339 time (2026-11-23T07:00:00Z) or a date (2026-11-23)")
            }
            return Int64((seconds * 1000).rounded(.down))
        }
        let from = try instant("from") ?? defaultFrom * 1000
        let to = try instant("to") ?? (now + 1) * 1000
        guard from < to else { throw APIError.badRequest("'from' must come before 'to'") }
        guard to - from <= maxRangeSeconds * 1000 else { throw APIError.badRequest("the range from 'from' to 'to' is longer than 400 days; ask for less") }
        return (from, to)
    }

    /// One school: its target, its standing over its window, and its measurements in
    /// the range (by default its window).
    @Sendable func school(request: Request, context: GovernorRequestContext) async throws -> SchoolMeasurements {
        let snapshot = live.snapshot
        let name = try context.parameters.require("name")
        guard let school = snapshot.schools[name] else { throw APIError.notFound("no school is named '\(name)'") }
        let now = clock.seconds
        let settings = snapshot.governor.measurement
        let today = LocalDate(containing: now, in: school.timeZone)
        let windowStart = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: school.windowStart(openDays: settings.windowDays, through: today),
                                              in: school.timeZone)
        let (from, to) = try Self.range(request.uri.queryParameters, in: school.timeZone, defaultFrom: windowStart, now: now)
        let stored = try await database.measurements(school: school.name, fromMs: from, beforeMs: to)
        return SchoolMeasurements(
            school: school.name, timezone: school.timeZoneName, from: RFC3339.format(milliseconds: from), to: RFC3339.format(milliseconds: to),
            target: school.target(settings), contractedUploadMbps: school.profile.contractedUploadMbps,
            standing: SchoolMeasurement(status.standing(of: school, now: now)),
            measurements: stored.map { MeasurementRow(resultID: $0.resultID, probe: $0.probe, measuredAt: RFC3339.format(milliseconds: $0.measuredAtMs),
                                                      measurement: $0.measurement, runAt: $0.runAt.map { RFC3339.format($0) }, group: $0.group) },
            groupRuns: GroupRunTotal.totals(of: stored.lazy.compactMap { row in
                GroupRunKey(group: row.group, runAt: row.runAt).map { (row.probe, $0, row.measurement.downloadMbps, row.measurement.uploadMbps) }
            }).map(GroupRunMeasurement.init))
    }

    /// Every measurement in the range (by default the last 30 days), of one school
    /// or all, oldest first, as CSV with a header line: streamed a page at a time.
    @Sendable func csv(request: Request, context: GovernorRequestContext) async throws -> Response {
        let snapshot = live.snapshot
        let parameters = request.uri.queryParameters
        var chosen: String?
        if let name = parameters.get("school"), !name.isEmpty {
            guard snapshot.schools[name] != nil else { throw APIError.notFound("no school is named '\(name)'") }
            chosen = name
        }
        let school = chosen
        let zone = school.flatMap { snapshot.schools[$0]?.timeZone } ?? TimeZone(identifier: "UTC")!
        let now = clock.seconds
        let (from, to) = try Self.range(parameters, in: zone, defaultFrom: now - 30 * 86_400, now: now)
        let database = database
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: MeasurementCSV.header))
            if let school {
                let rows = try await database.measurements(school: school, fromMs: from, beforeMs: to)
                var lines = ""
                for row in rows { lines += MeasurementCSV.line(row) }
                try await writer.write(ByteBuffer(string: lines))
            } else {
                var after: (ms: Int64, resultID: Int64)?
                for _ in 0..<1_000_000 {
                    let page = try await database.measurements(fromMs: from, beforeMs: to, after: after, limit: Self.csvPageSize)
                    guard let last = page.last else { break }
                    var lines = ""
                    for row in page { lines += MeasurementCSV.line(row) }
                    try await writer.write(ByteBuffer(string: lines))
                    after = (last.measuredAtMs, last.resultID)
                }
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
        headers[.contentDisposition] = "attachment; filename=\"measurements.csv\""
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// The CSV of measurements: RFC 4180, one row per measurement, with the test
/// identifiers that join M-Lab's public tables. The rows of one group run share
/// their school, `group` and `run_at` (the last columns, so that a sheet made for
/// the earlier columns still reads).
enum MeasurementCSV {
    static let columns = [
        "measured_at", "school", "probe", "result_id", "tool", "download_mbps", "upload_mbps", "min_rtt_ms", "retransmission_percent",
        "retransmits", "loss_percent", "server_name", "server_ip", "client_ip", "download_id", "upload_id", "run_at", "group",
    ]
    static let header = columns.joined(separator: ",") + "\r\n"

    static func line(_ row: StoredMeasurement) -> String {
        let m = row.measurement
        func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let cells: [String] = [
            RFC3339.format(milliseconds: row.measuredAtMs), field(row.school), field(row.probe), "\(row.resultID)", m.tool.rawValue,
            number(m.downloadMbps), number(m.uploadMbps), number(m.minRTTMs), number(m.retransmissionPercent), m.retransmits.map { "\($0)" } ?? "",
            number(m.lossPercent), field(m.serverName), field(m.serverIP), field(m.clientIP), field(m.downloadID), field(m.uploadID),
            row.runAt.map { RFC3339.format($0) } ?? "", field(row.group),
        ]
        return cells.joined(separator: ",") + "\r\n"
    }

    /// A text cell: quoted when it holds a comma, a quote or a line break, and never
    /// read as a formula by a spreadsheet (a leading `=`, `+`, `-`, `@` gets a `'`).
    static func field(_ text: String?) -> String {
        guard var text, !text.isEmpty else { return "" }
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
