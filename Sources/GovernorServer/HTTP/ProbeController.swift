import Foundation
import GovernorCore
import GovernorStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The probes' side of the API: next run, results, status.
struct ProbeController: Sendable {
    let live: LiveConfiguration
    let contacts: ContactBook
    let schedule: ScheduleBook
    let database: AppDatabase
    let results: ResultRecorder
    let status: FleetStatus
    let clock: ServerClock

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.get("/v1/probes/:id/next", use: next)
        router.post("/v1/probes/:id/results", use: storeResult)
        router.get("/v1/probes/:id/results", use: listResults)
        router.get("/v1/probes/:id", use: status)
    }

    /// The probe's earliest run strictly after now. This is the hot path: a cache
    /// lookup and a hand-written body, no database access unless the probe's next
    /// window has not been generated yet.
    @Sendable func next(request: Request, context: GovernorRequestContext) async throws -> Response {
        let snapshot = live.snapshot
        let entry = try authenticatedProbe(request, context: context, in: snapshot)
        let now = clock.now()
        let nowSeconds = UnixTime(now.rounded(.down))
        contacts.record(entry.probe.name, at: nowSeconds)

        var found = schedule.cachedNextRun(of: entry.probe.name, after: nowSeconds)
        if found == nil, let school = snapshot.schools[entry.school] {
            found = try await schedule.nextRun(of: entry.probe.name, in: school, after: nowSeconds, seed: snapshot.governor.seed)
        }
        guard let run = found else {
            throw APIError(status: .serviceUnavailable, code: "no_run",
                           message: "no run of probe '\(entry.probe.name)' falls in the next \(ScheduleBook.lookaheadDays) days; check the [Timing] of school '\(entry.school)'")
        }
        if request.headers[.accept]?.contains("text/plain") == true {
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "\(run.runAt)\n")))
        }
        let body = "{\"probe\":\(JSONText.quoted(entry.probe.name)),\"run_at\":\"\(RFC3339.format(run.runAt))\",\"run_at_unix\":\(run.runAt),"
            + "\"school\":\(JSONText.quoted(entry.school)),\"server_time\":\"\(RFC3339.format(milliseconds: Int64((now * 1000).rounded(.down))))\","
            + "\"window_end\":\"\(RFC3339.format(run.windowEnd))\",\"window_start\":\"\(RFC3339.format(run.windowStart))\"}\n"
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    @Sendable func storeResult(request: Request, context: GovernorRequestContext) async throws -> EditedResponse<ResultCreated> {
        let snapshot = live.snapshot
        let entry = try authenticatedProbe(request, context: context, in: snapshot)
        let now = clock.seconds
        contacts.record(entry.probe.name, at: now)

        // JSON escaping can grow output up to six times; allow for that, then cap what is stored.
        let limit = snapshot.governor.maxOutputBytes * 6 + 64 * 1024
        let body = try await request.body.collect(upTo: limit)
        let report = try JSONDecoder().decode(ResultReport.self, from: body)
        func instant(_ text: String, _ field: String) throws -> Double {
            guard let value = RFC3339.parsePrecise(text) else {
                throw APIError.badRequest("'\(field)' is '\(text)'; expected an RFC 3339 time such as 2026-11-23T07:00:00Z")
            }
            return value
        }
        let runAt = try instant(report.runAt, "run_at")
        let startedAt = try instant(report.startedAt, "started_at")
        let finishedAt = try instant(report.finishedAt, "finished_at")
        let (output, truncated) = Self.capped(report.output, bytes: snapshot.governor.maxOutputBytes)
        let stored = try await database.insert(TestResult(
            probe: entry.probe.name, school: entry.school, mode: entry.probe.mode, runAt: UnixTime(runAt.rounded(.down)),
            startedAtMs: Int64((startedAt * 1000).rounded()), finishedAtMs: Int64((finishedAt * 1000).rounded()),
            exitCode: report.exitCode, output: output, outputTruncated: truncated, clockOffsetMs: report.clockOffsetMs, receivedAt: now))
        results.stored(stored)
        return EditedResponse(status: .created, response: ResultCreated(id: stored.id ?? 0, outputTruncated: truncated))
    }

    @Sendable func listResults(request: Request, context: GovernorRequestContext) async throws -> ResultList {
        let snapshot = live.snapshot
        let entry = try readableProbe(request, context: context, in: snapshot)
        var limit = 20
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIError.badRequest("'limit' is '\(text)'; expected a number from 1 to 1000") }
            limit = value
        }
        let results = try await database.results(probe: entry.probe.name, limit: limit)
        return ResultList(probe: entry.probe.name, results: results.map(ResultView.init))
    }

    @Sendable func status(request: Request, context: GovernorRequestContext) async throws -> ProbeStatus {
        let snapshot = live.snapshot
        let entry = try readableProbe(request, context: context, in: snapshot)
        let recent = try await database.resultCount(probe: entry.probe.name, since: clock.seconds - 86_400)
        return ProbeStatus(try await status.row(of: entry.probe), of: entry.probe, school: entry.school, results24h: recent)
    }

    /// The probe named in the path, proven by its bearer token.
    func authenticatedProbe(_ request: Request, context: GovernorRequestContext, in snapshot: LiveConfiguration.Snapshot) throws -> ProbeEntry {
        let id = try context.parameters.require("id")
        guard let entry = snapshot.probes[id] else { throw APIError.notFound("no probe is configured with the id '\(id)'") }
        guard let digest = entry.tokenDigest else { return entry }  // allowed only with require_tokens = no
        guard let token = request.bearerToken else {
            throw APIError.unauthorized("send the probe's token as 'Authorization: Bearer TOKEN'")
        }
        guard ProbeToken.constantTimeEquals(ProbeToken.digest(token), digest) else {
            throw APIError.unauthorized("the token is not the one configured for probe '\(id)'")
        }
        return entry
    }

    /// The probe named in the path, for a reader: the operator (admin token, when one
    /// is set) or the probe itself.
    func readableProbe(_ request: Request, context: GovernorRequestContext, in snapshot: LiveConfiguration.Snapshot) throws -> ProbeEntry {
        let id = try context.parameters.require("id")
        guard let entry = snapshot.probes[id] else { throw APIError.notFound("no probe is configured with the id '\(id)'") }
        if Authorization.isOperator(request, snapshot: snapshot) { return entry }
        return try authenticatedProbe(request, context: context, in: snapshot)
    }

    /// Cuts `text` to at most `bytes` UTF-8 bytes, at a character boundary.
    static func capped(_ text: String, bytes: Int) -> (String, Bool) {
        guard text.utf8.count > bytes else { return (text, false) }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: bytes)
        // Step back over UTF-8 continuation bytes (10xxxxxx) to a scalar's first byte.
        while end > text.startIndex && text.utf8[end] & 0xC0 == 0x80 {
            end = text.utf8.index(before: end)
        }
        return (String(text[..<end]), true)
    }
}
