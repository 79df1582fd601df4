import Foundation
import GovernorCore
import GovernorWire
import GovernorStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The probes' side of the API: next run, results, status.
struct ProbeController: Sendable {
    let live: LiveConfiguration
    let contacts: ContactCache
    let egress: EgressReadModel
    let schedule: ScheduleOwner
    let database: any ResultStore & ScheduleStore
    let results: ResultRecorder
    let status: FleetStatus
    let authFailures: AuthFailureLimiter
    let clock: ServerClock

    /// The probe's own routes behind its token; the two it shares with the operator
    /// (its status and results) behind either.
    func addRoutes(to router: Router<GovernorRequestContext>) {
        let probe = ProbeAuthenticator(live: live, failures: authFailures, clock: clock)
        router.group().add(middleware: probe)
            .get("/v1/probes/:id/next", use: next)
            .get("/v1/probes/:id/runs", use: lease)
            .post("/v1/probes/:id/results", use: storeResult)
        var reader = probe
        reader.operatorMayRead = true
        router.group().add(middleware: reader)
            .get("/v1/probes/:id/results", use: listResults)
            .get("/v1/probes/:id", use: status)
    }

    /// The probe's earliest run strictly after now. This is the hot path: a cache
    /// lookup and a hand-written body, no database access unless the probe's next
    /// window has not been generated yet.
    @Sendable func next(request: Request, context: GovernorRequestContext) async throws -> Response {
        let snapshot = context.configuration(or: live)
        let entry = try context.probe(in: snapshot)
        let now = clock.now()
        let nowSeconds = UnixTime(now.rounded(.down))
        contacted(entry, request: request, context: context, at: nowSeconds)

        var found = schedule.cachedNextRun(of: entry.probe.name, after: nowSeconds)
        if found == nil, let school = snapshot.schools[entry.school] {
            found = try await schedule.nextRun(of: entry.probe.name, in: school, after: nowSeconds)
        }
        guard let run = found else {
            throw APIError(status: .serviceUnavailable, code: "no_run",
                           message: "no run of probe '\(entry.probe.name)' falls in the next \(ScheduleOwner.lookaheadDays) days; check the [Timing] of school '\(entry.school)'")
        }
        if request.headers[.accept]?.contains("text/plain") == true {
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "\(run.runAt)\n")))
        }
        // NextRun's keys in sorted order, written straight into the buffer.
        var body = ByteBufferAllocator().buffer(capacity: 256)
        body.writeStaticString("{")
        if let group = entry.group {
            body.writeStaticString("\"group\":")
            body.writeString(JSONText.quoted(group))
            body.writeStaticString(",")
        }
        body.writeStaticString("\"probe\":")
        body.writeString(JSONText.quoted(entry.probe.name))
        body.writeStaticString(",\"run_at\":\"")
        body.writeString(RFC3339.format(run.runAt))
        body.writeStaticString("\",\"run_at_unix\":")
        body.writeString(String(run.runAt))
        body.writeStaticString(",\"school\":")
        body.writeString(JSONText.quoted(entry.school))
        body.writeStaticString(",\"server_time\":\"")
        body.writeString(RFC3339.format(microseconds: Int64((now * 1_000_000).rounded(.down))))
        body.writeStaticString("\",\"window_end\":\"")
        body.writeString(RFC3339.format(run.windowEnd))
        body.writeStaticString("\",\"window_start\":\"")
        body.writeString(RFC3339.format(run.windowStart))
        body.writeStaticString("\"}\n")
        return Response(status: .ok, headers: Self.jsonHeaders, body: .init(byteBuffer: body))
    }

    /// Records that the probe was heard from, and from where.
    private func contacted(_ entry: ProbeEntry, request: Request, context: GovernorRequestContext, at time: UnixTime) {
        contacts.record(entry.probe.name, at: time)
        let trusted = context.configuration(or: live).governor.trustedProxies
        if let address = context.clientAddress(of: request, trusted: trusted) {
            egress.request(of: entry.probe.name, school: entry.school, from: address, at: time)
        }
    }

    private static let jsonHeaders: HTTPFields = [.contentType: "application/json; charset=utf-8"]

    /// The probe's runs up to `horizon` seconds ahead (at most `[Governor]
    /// lease_horizon`, the default), generating and storing the windows they need:
    /// a lease the probe keeps on disk and runs through an outage of the governor.
    /// Every run answered is stored, a fact like every served run; the runs withdrawn
    /// since (the probe moved, its day closed) are listed apart, for it to forget.
    @Sendable func lease(request: Request, context: GovernorRequestContext) async throws -> RunLease {
        let snapshot = context.configuration(or: live)
        let entry = try context.probe(in: snapshot)
        let now = clock.now()
        let nowSeconds = UnixTime(now.rounded(.down))
        contacted(entry, request: request, context: context, at: nowSeconds)
        let longest = snapshot.governor.leaseHorizonSeconds
        var horizon = longest
        if let text = request.uri.queryParameters.get("horizon") {
            guard let asked = Int(text), asked >= 0 else {
                throw APIError.badRequest("'horizon' is '\(text)'; expected a whole number of seconds from 0 to \(longest) (lease_horizon)")
            }
            horizon = min(asked, longest)
        }
        guard let school = snapshot.schools[entry.school] else { throw APIError.notFound("probe '\(entry.probe.name)' has no school") }
        let until = nowSeconds + UnixTime(horizon)
        var runs = try await schedule.leasedRuns(of: entry.probe.name, in: school, after: nowSeconds, through: until)
        if runs.isEmpty, let next = try await schedule.nextRun(of: entry.probe.name, in: school, after: nowSeconds) {
            // Nothing within the horizon (a closure, a short horizon): the next run
            // still comes with it, as /next would answer it.
            runs = [next]
        }
        let leaseUntil = max(until, runs.last?.runAt ?? until)
        let cancelled = try await database.cancelledRuns(probe: entry.probe.name, after: nowSeconds)
        return RunLease(
            probe: entry.probe.name, school: entry.school, serverTime: RFC3339.format(microseconds: Int64((now * 1_000_000).rounded(.down))),
            leaseUntil: RFC3339.format(leaseUntil), leaseUntilUnix: leaseUntil,
            runs: runs.map { RunLease.LeasedRun(runAt: RFC3339.format($0.runAt), runAtUnix: $0.runAt, group: entry.group) },
            cancelled: cancelled.map { RunLease.Cancelled(runAt: RFC3339.format($0.runAt), runAtUnix: $0.runAt, reason: $0.reason) })
    }

    /// Stores a probe's result once: a re-send of the same run (or ad-hoc key) answers
    /// 200 with the first result's id and stores nothing new.
    @Sendable func storeResult(request: Request, context: GovernorRequestContext) async throws -> EditedResponse<ResultCreated> {
        let snapshot = context.configuration(or: live)
        let entry = try context.probe(in: snapshot)
        let now = clock.now()
        contacted(entry, request: request, context: context, at: UnixTime(now.rounded(.down)))

        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: ResultLimits.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, code: "result_too_large",
                           message: "the result is larger than \(ResultLimits.maxBodyBytes) bytes; cut its output and send it again")
        }
        let report = try JSONDecoder().decode(ResultReport.self, from: body)
        var result = try ResultIntake.result(of: report, probe: entry, maxOutputBytes: snapshot.governor.maxOutputBytes, now: now)
        ResultReading.apply(to: &result, format: snapshot.resultFormat(of: entry.school))
        let (stored, created) = try await database.insertOnce(result)
        if created { results.stored(stored) }
        let adHocKey = stored.idempotencyKey.flatMap { $0.hasPrefix("key:") ? String($0.dropFirst(4)) : nil }
        return EditedResponse(status: created ? .created : .ok, response: ResultCreated(
            id: stored.id ?? 0, outputTruncated: stored.outputTruncated, runAt: RFC3339.format(stored.runAt ?? result.runAt ?? 0), idempotencyKey: adHocKey))
    }

    @Sendable func listResults(request: Request, context: GovernorRequestContext) async throws -> ResultList {
        let snapshot = context.configuration(or: live)
        let entry = try context.probe(in: snapshot)
        var limit = 20
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIError.badRequest("'limit' is '\(text)'; expected a number from 1 to 1000") }
            limit = value
        }
        let results = try await database.results(probe: entry.probe.name, limit: limit)
        return ResultList(probe: entry.probe.name, results: results.map(ResultView.init))
    }

    @Sendable func status(request: Request, context: GovernorRequestContext) async throws -> ProbeStatus {
        let snapshot = context.configuration(or: live)
        let entry = try context.probe(in: snapshot)
        let recent = try await database.resultCount(probe: entry.probe.name, since: clock.seconds - 86_400)
        return ProbeStatus(status.row(of: entry.probe, now: clock.seconds), of: entry.probe, school: entry.school, results24h: recent)
    }
}
