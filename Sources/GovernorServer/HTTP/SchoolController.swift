import GovernorCore
import GovernorStore
import Hummingbird

/// The operator's side of the API: schools, their probes and schedules, health.
struct SchoolController: Sendable {
    let state: GovernorState

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.get("/v1/schools", use: list)
        router.get("/v1/schools/:name/schedule", use: schedule)
        router.get("/healthz", use: health)
    }

    @Sendable func list(request: Request, context: GovernorRequestContext) async throws -> SchoolList {
        let snapshot = state.live.snapshot
        try Authorization.requireOperator(request, snapshot: snapshot)
        var schools: [SchoolList.School] = []
        let recent = try await state.database.resultCounts(since: state.clock.seconds - 86_400)
        for school in snapshot.configuration.schools {
            var probes: [ProbeStatus] = []
            for probe in school.probes {
                guard let entry = snapshot.probes[probe.name] else { continue }
                probes.append(try await state.probeStatus(entry, in: snapshot, recentResults: recent))
            }
            schools.append(SchoolList.School(school: school.name, timezone: school.timeZoneName, file: school.file, probes: probes))
        }
        return SchoolList(schools: schools)
    }

    /// The school's windows that start on a local date: stored ones as stored, and a
    /// preview (marked `"stored": false`) of any not generated yet.
    @Sendable func schedule(request: Request, context: GovernorRequestContext) async throws -> SchoolSchedule {
        let snapshot = state.live.snapshot
        try Authorization.requireOperator(request, snapshot: snapshot)
        let name = try context.parameters.require("name")
        guard let school = snapshot.schools[name] else { throw APIError.notFound("no school is named '\(name)'") }
        let date: LocalDate
        if let text = request.uri.queryParameters.get("date") {
            guard let parsed = LocalDate(parsing: text) else { throw APIError.badRequest("'date' is '\(text)'; expected YYYY-MM-DD") }
            date = parsed
        } else {
            date = LocalDate(containing: state.clock.seconds, in: school.timeZone)
        }
        let day = try await state.windows(of: school, on: date)
        var windows = day.stored.map { ScheduleDocument.Window($0, stored: true) }
        for bounds in day.ungenerated {
            do {
                windows.append(ScheduleDocument.Window(try ScheduleGenerator.window(bounds, of: school, seed: snapshot.governor.seed), stored: false))
            } catch {
                context.logger.warning("\(error.description)")
            }
        }
        windows.sort { $0.start < $1.start }
        return SchoolSchedule(document: ScheduleDocument.School(school, windows: windows))
    }

    /// 200 when the database takes writes and a configuration is loaded; 503 otherwise.
    @Sendable func health(request: Request, context: GovernorRequestContext) async throws -> EditedResponse<Health> {
        let snapshot = state.live.snapshot
        guard await state.database.isWritable() else {
            throw APIError(status: .serviceUnavailable, code: "unhealthy", message: "the state database \(snapshot.governor.statePath) does not accept writes")
        }
        return EditedResponse(status: .ok, response: Health(
            status: "ok", schools: snapshot.configuration.schools.count, probes: snapshot.probes.count, version: GovernorServer.version,
            uptimeSeconds: Int(state.clock.now() - state.startedAt)))
    }
}

extension GovernorState {
    /// What the API tells about one probe.
    ///
    /// - Parameter recentResults: results per probe in the last 24 hours, when the
    ///   caller has them for many probes at once.
    func probeStatus(_ entry: ProbeEntry, in snapshot: LiveConfiguration.Snapshot, recentResults: [String: Int]? = nil) async throws -> ProbeStatus {
        let now = clock.seconds
        let lastContact = contacts.lastContact(of: entry.probe.name)
        let testDuration = snapshot.schools[entry.school]?.timing.testDurationSeconds ?? 0
        // A run counts as missed once its test time and a minute's grace have passed without contact.
        let alert = alerts.state(of: entry.probe.name)
        let missed = if let alert {
            alert.consecutiveMissed
        } else {
            try await database.runsWithoutContact(probe: entry.probe.name, after: lastContact ?? .min, upTo: now - UnixTime(testDuration) - 60)
        }
        let recent = if let recentResults {
            recentResults[entry.probe.name] ?? 0
        } else {
            try await database.resultCount(probe: entry.probe.name, since: now - 86_400)
        }
        return ProbeStatus(
            probe: entry.probe.name, school: entry.school, mode: entry.probe.mode, label: entry.probe.label,
            address: entry.probe.address?.description, lastContact: lastContact.map { RFC3339.format($0) },
            nextRun: schedule.cachedNextRun(of: entry.probe.name, after: now).map { RFC3339.format($0.runAt) },
            consecutiveMissed: missed, results24h: recent,
            status: alert?.status.rawValue ?? "UP", statusSince: alert.map { RFC3339.format($0.since) })
    }
}
