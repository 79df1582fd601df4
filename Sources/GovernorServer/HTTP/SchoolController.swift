import GovernorCore
import GovernorViews
import GovernorWire
import GovernorStore
import Hummingbird

/// The operator's side of the API: schools, their probes and schedules, health.
struct SchoolController: Sendable {
    let live: LiveConfiguration
    let status: FleetStatus
    let schedule: ScheduleOwner
    let database: any ResultStore
    let stateHealth: StateHealth
    let clock: ServerClock

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.group().add(middleware: OperatorAuthenticator(live: live))
            .get("/v1/schools", use: list)
            .get("/v1/schools/:name/schedule", use: schedule)
        // Open to all: a load balancer or systemd's watchdog asks without a token.
        router.get("/healthz", use: health)
    }

    /// A page of schools with their probes (``StatusQuery``: `limit`, `cursor`,
    /// `state`, `school`, `attention`).
    @Sendable func list(request: Request, context: GovernorRequestContext) async throws -> SchoolList {
        let query = try StatusQuery(request.uri.queryParameters)
        let selection = status.select(query)
        let now = clock.seconds
        let recent = try await database.resultCounts(of: selection.schools.flatMap { $0.probes.map(\.name) }, since: now - 86_400)
        let schools = selection.schools.map { school, probes in
            SchoolList.School(school: school.name, timezone: school.timeZoneName, file: school.file, probes: probes.map { probe in
                ProbeStatus(status.row(of: probe, now: now), of: probe, school: school.name, results24h: recent[probe.name] ?? 0)
            }, labels: school.labels.dictionary)
        }
        return SchoolList(page: selection.page(limit: query.limit), schools: schools)
    }

    /// The school's windows that start on a local date: stored ones as stored, and a
    /// preview (marked `"stored": false`) of any not generated yet.
    @Sendable func schedule(request: Request, context: GovernorRequestContext) async throws -> SchoolSchedule {
        let snapshot = live.snapshot
        let name = try context.parameters.require("name")
        guard let school = snapshot.schools[name] else { throw APIError.notFound("no school is named '\(name)'") }
        let date: LocalDate
        if let text = request.uri.queryParameters.get("date") {
            guard let parsed = LocalDate(parsing: text) else { throw APIError.badRequest("'date' is '\(text)'; expected YYYY-MM-DD") }
            date = parsed
        } else {
            date = LocalDate(containing: clock.seconds, in: school.timeZone)
        }
        let day = try await schedule.windows(of: school, on: date)
        var windows = day.stored.map { ScheduleDocument.Window($0.scheduled, stored: true) }
        for bounds in day.ungenerated {
            do {
                windows.append(ScheduleDocument.Window(try ScheduleGenerator.window(bounds, of: school, seed: snapshot.governor.seed), stored: false))
            } catch {
                context.logger.warning("\(error.description)")
            }
        }
        windows.sort { $0.start < $1.start }
        return SchoolSchedule(document: ScheduleDocument.School(school, windows: windows, closed: school.calendar.closedDays(from: date, days: 1)))
    }

    /// 200 when the database takes a real write and its disk has room; 503 otherwise.
    @Sendable func health(request: Request, context: GovernorRequestContext) async throws -> EditedResponse<Health> {
        let snapshot = live.snapshot
        if let problem = await stateHealth.problem() {
            throw APIError(status: .serviceUnavailable, code: "unhealthy", message: problem)
        }
        return EditedResponse(status: .ok, response: Health(
            status: "ok", schools: snapshot.configuration.schools.count, probes: snapshot.probes.count, version: GovernorServer.version,
            uptimeSeconds: Int(clock.now() - status.startedAt)))
    }
}
