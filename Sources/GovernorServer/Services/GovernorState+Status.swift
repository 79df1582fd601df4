import GovernorCore
import GovernorDashboard
import GovernorStore

extension GovernorState {
    /// What the dashboard, `GET /v1/status` and `governor status` show, as of now.
    ///
    /// - Parameter school: only this school's table and timeline (the school page);
    ///   the summary counts every school either way.
    func statusReport(onlySchool school: String? = nil) async throws -> StatusReport {
        let snapshot = live.snapshot
        let now = clock.seconds
        let latest = try await database.latestResults()
        var schools: [SchoolStatus] = []
        for config in snapshot.configuration.schools where school == nil || config.name == school {
            schools.append(try await schoolStatus(config, in: snapshot, latest: latest, now: now))
        }
        let summary = try await summary(of: snapshot)
        return StatusReport(version: GovernorServer.version, generatedAt: Instant(now), startedAt: Instant(UnixTime(startedAt.rounded(.down))),
                            summary: summary, schools: schools)
    }

    /// The counts at the top of the dashboard: from memory, and one query for the
    /// outbox (so that `/metrics` need not build a whole report).
    func summary(of snapshot: LiveConfiguration.Snapshot) async throws -> StatusReport.Summary {
        let outbox = try await database.outboxBacklog()
        return StatusReport.Summary(
            schools: snapshot.configuration.schools.count, probeStates: snapshot.configuration.schools.flatMap(\.probes).map { probeState(of: $0.name) },
            outboxPending: outbox.pending, outboxFailing: outbox.failing)
    }

    /// One school's probes and today's timeline (the school's local today).
    func schoolStatus(_ school: SchoolConfig, in snapshot: LiveConfiguration.Snapshot, latest: [String: TestResult], now: UnixTime) async throws -> SchoolStatus {
        let probes = school.probes.map { probe in
            probeRow(probe, latest: latest[probe.name], now: now)
        }
        return SchoolStatus(name: school.name, timezone: school.timeZoneName, file: school.file, probes: probes,
                            today: try await timeline(of: school, on: LocalDate(containing: now, in: school.timeZone), in: snapshot, now: now))
    }

    private func probeRow(_ probe: ProbeConfig, latest: TestResult?, now: UnixTime) -> ProbeRow {
        let alert = alerts.state(of: probe.name)
        let lastContact = contacts.lastContact(of: probe.name)
        let state = probeState(of: probe.name)
        let lastResult = latest.map(ResultSummary.init)
        return ProbeRow(
            probe: probe.name, mode: probe.mode.rawValue, label: probe.label, address: probe.address?.description, state: state,
            stateSince: state == .neverSeen ? nil : alert.map { Instant($0.since) }, lastContact: lastContact.map(Instant.init),
            consecutiveMissed: alert?.consecutiveMissed ?? 0, clockOffsetMs: latest?.clockOffsetMs, lastResult: lastResult,
            nextRun: schedule.cachedNextRun(of: probe.name, after: now).map { Instant($0.runAt) })
    }

    /// DOWN after `missed_runs` misses in a row; otherwise never seen until the first
    /// contact, then UP.
    func probeState(of probe: String) -> ProbeState {
        if alerts.state(of: probe)?.status == .down { return .down }
        return contacts.lastContact(of: probe) == nil ? .neverSeen : .up
    }

    /// The school's windows on a local date, each run with what became of it.
    func timeline(of school: SchoolConfig, on date: LocalDate, in snapshot: LiveConfiguration.Snapshot, now: UnixTime) async throws -> TimelineDay {
        let day = try await windows(of: school, on: date)
        let results = try await database.runResults(school: school.name, from: day.start, before: day.end)
        let settle = UnixTime(school.timing.testDurationSeconds + snapshot.governor.alertSettings.graceSeconds)
        var bands = day.stored.map { TimelineDay.Band(start: Instant($0.bounds.start), end: Instant($0.bounds.end), generated: true) }
        bands += day.ungenerated.map { TimelineDay.Band(start: Instant($0.start), end: Instant($0.end), generated: false) }
        bands.sort { $0.start < $1.start }
        let runs = day.stored.flatMap(\.runs).sorted { ($0.runAt, $0.probe) < ($1.runAt, $1.probe) }.map { run in
            let result = results[RunResultKey(probe: run.probe, runAt: run.runAt)]
            return TimelineDay.Run(probe: run.probe, runAt: Instant(run.runAt),
                                   outcome: RunOutcome.classify(succeeded: result?.succeeded, settledAt: run.runAt + settle, now: now),
                                   resultID: result?.id)
        }
        return TimelineDay(date: date, start: Instant(day.start), end: Instant(day.end), windows: bands, runs: runs)
    }

    /// The windows that start on a school's local date: those stored, and the bounds
    /// of those not generated yet.
    func windows(of school: SchoolConfig, on date: LocalDate) async throws
        -> (start: UnixTime, end: UnixTime, stored: [ScheduledWindow], ungenerated: [WindowBounds]) {
        let midnight = TimeOfDay(secondsSinceMidnight: 0)!
        let start = SchoolClock.instant(of: midnight, on: date, in: school.timeZone)
        let end = SchoolClock.instant(of: midnight, on: date.adding(days: 1), in: school.timeZone)
        let stored = try await database.windows(school: school.name, startingFrom: start, before: end)
        let ungenerated = SchoolClock.windows(of: school.timing, on: date, in: school.timeZone).filter { bounds in
            !stored.contains { $0.bounds.start < bounds.end && bounds.start < $0.bounds.end }
        }
        return (start, end, stored, ungenerated)
    }
}

extension ResultSummary {
    /// A stored result's table cell: its outcome and how late it started.
    init(_ result: TestResult) {
        self.init(id: result.id ?? 0, runAt: result.runAt.map(Instant.init), exitCode: result.exitCode, failure: result.failure,
                  latenessMs: result.startedAtMs.flatMap { started in result.runAt.map { started - $0 * 1000 } })
    }
}
