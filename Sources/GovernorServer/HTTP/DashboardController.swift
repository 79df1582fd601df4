import Foundation
import GovernorCore
import GovernorViews
import GovernorWire
import GovernorStore
import Hummingbird
import NIOCore

/// The operator's view: the dashboard pages, `GET /v1/status` and `/metrics`.
///
/// All of them need the operator token when `admin_token_sha256` is set. The pages
/// ask a browser for it with HTTP basic authentication (any user name, the token
/// as the password); scripts and Prometheus send it as a bearer token.
struct DashboardController: Sendable {
    let live: LiveConfiguration
    let status: FleetStatus
    let database: any ResultStore
    let metrics: GovernorMetrics
    /// The stored schedule's daily peaks of tests at once, for `/metrics`.
    let schedule: ScheduleOwner
    let renderer = DashboardRenderer(refreshSeconds: 30)
    /// How many results the school page lists with their output.
    static let schoolPageResults = 30

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.group().add(middleware: OperatorAuthenticator(live: live, pages: true))
            .get("/", use: overview)
            .get("/schools/:name", use: school)
        router.group().add(middleware: OperatorAuthenticator(live: live))
            .get("/v1/status", use: status)
            .get("/metrics", use: metrics)
    }

    /// How many schools that need attention the overview lists before linking to all.
    static let attentionLines = 20
    /// How many incidents the overview lists (every one is at `/v1/incidents`).
    static let incidentLines = 10
    /// How many schools below their target the overview lists per page.
    static let belowLines = 20

    /// `/`: the counts, the first schools that need attention, and a page of schools
    /// (``StatusQuery``'s `school`, `cursor`, `limit`, `state` and `attention` apply).
    @Sendable func overview(request: Request, context: GovernorRequestContext) async throws -> Response {
        let query = try StatusQuery(request.uri.queryParameters)
        let attention = try await status.report(StatusQuery(limit: Self.attentionLines, attention: true))
        var overview = FleetOverview(
            report: try await status.report(query, summary: attention.summary), attention: attention.schools,
            attentionSchools: attention.page?.matchedSchools ?? 0, attentionProbes: attention.page?.matchedProbes ?? 0,
            search: query.school ?? "", cursor: query.cursor, clockSkewMs: FleetStatus.clockSkewMs)
        var belowOffset = 0
        if let text = request.uri.queryParameters.get("below") {
            guard let offset = Int(text), offset >= 0, offset <= 10_000_000 else {
                throw APIError.badRequest("'below' is '\(text)'; expected a whole number of schools to skip")
            }
            belowOffset = offset
        }
        let below = status.schoolsBelowTarget(offset: belowOffset, limit: Self.belowLines, now: status.clock.seconds)
        (overview.belowTarget, overview.belowOffset, overview.belowTotal) = (below.lines, belowOffset, below.total)
        overview.incidents = IncidentController.ordered(status.incidents.all).prefix(Self.incidentLines).map(IncidentView.init)
        overview.labelKeys = live.snapshot.labelKeys
        overview.labelFilter = query.labels
        if let key = request.uri.queryParameters.get("group"), !key.isEmpty {
            guard live.snapshot.labelKeys.contains(key) else {
                throw APIError.badRequest("'group' is '\(key)'; no school has that label (labels: \(live.snapshot.labelKeys.joined(separator: ", ")))")
            }
            overview.groupKey = key
            overview.groups = status.labelGroups(key: key)
        }
        return Self.html(renderer.overview(overview))
    }

    @Sendable func school(request: Request, context: GovernorRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let report = try await status.report(ofSchool: name)
        guard let status = report.schools.first else {
            let names = live.snapshot.schoolsByName.prefix(Self.notFoundNames).map(\.name)
            return Self.html(renderer.schoolNotFound(name, of: report, schools: Array(names)), status: .notFound)
        }
        let results = try await database.results(school: name, limit: Self.schoolPageResults).map { result in
            ResultDetail(summary: ResultSummary(result), probe: result.probe, output: result.output, outputTruncated: result.outputTruncated,
                         group: result.group)
        }
        let snapshot = live.snapshot
        var days: [DailyMeasurement] = []
        if let config = snapshot.schools[name] {
            days = self.status.measurements.daily(of: config, settings: snapshot.governor.measurement,
                                                  today: LocalDate(containing: self.status.clock.seconds, in: config.timeZone))
        }
        return Self.html(renderer.school(status, of: report, results: results, days: days))
    }

    /// How many school names a page for an unknown school offers.
    static let notFoundNames = 200

    /// A page of the fleet (``StatusQuery``), with the whole fleet's summary.
    @Sendable func status(request: Request, context: GovernorRequestContext) async throws -> StatusResponse {
        return StatusResponse(report: try await status.report(try StatusQuery(request.uri.queryParameters)))
    }

    @Sendable func metrics(request: Request, context: GovernorRequestContext) async throws -> Response {
        metrics.updateGauges(try await status.summary())
        metrics.updatePeakConcurrency(await schedule.dailyPeaks())
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// `GET /v1/status`: the ``StatusReport`` as JSON, encoded a school at a time.
///
/// Foundation's encoder builds a tree of the whole value before it writes a byte.
/// For a page of 500 schools that tree is more than ten times the 2.7 MB answer, and
/// the memory it leaves behind stays with the process (issue 14 measured 36 MB of
/// RSS from one such page at 100,000 probes). Encoding the schools one by one keeps
/// the peak to the answer and one school's tree; the bytes are those of encoding the
/// report whole, keys sorted.
struct StatusResponse: ResponseGenerator {
    var report: StatusReport

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try encoded()
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes)],
                        body: .init(byteBuffer: body))
    }

    func encoded() throws -> ByteBuffer {
        let encoder = GovernorRequestContext.makeEncoder()
        var envelope = report
        envelope.schools = []
        let head = Array(try encoder.encode(envelope))
        // The envelope's only unescaped `"schools":[]`: inside a JSON string every quote is escaped.
        let marker = Array(#""schools":[]"#.utf8)
        guard let range = head.firstRange(of: marker) else {
            throw EncodingError.invalidValue(report, .init(codingPath: [], debugDescription: "the status envelope has no schools array"))
        }
        let opened = range.upperBound - 1
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.count + report.schools.count * 4096)
        buffer.writeBytes(head[..<opened])
        for (index, school) in report.schools.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeBytes(try encoder.encode(school))
        }
        buffer.writeBytes(head[opened...])
        return buffer
    }
}
