import GovernorCore
import GovernorDashboard
import GovernorStore

/// The one read model of the fleet's state: every probe's health and every stored
/// run's outcome, for every view.
///
/// `GET /v1/probes/{id}`, `GET /v1/schools`, `GET /v1/status`, the dashboard,
/// `governor status` (through `/v1/status`), `/metrics` and the alert email ask this
/// and nothing else, so none of them can tell a probe's state differently. The
/// decisions themselves are pure functions in GovernorCore (``ProbeHealth`` and
/// ``RunJudgement``); this type only brings them their inputs.
struct FleetStatus: Sendable {
    let live: LiveConfiguration
    let contacts: ContactBook
    let alerts: AlertBook
    let schedule: ScheduleBook
    let database: AppDatabase
    let clock: ServerClock
    /// When this governor started, for its uptime.
    let startedAt: Double

    /// A probe's state, since when, consecutive misses and last contact, from memory.
    func health(of probe: String) -> ProbeHealth {
        ProbeHealth(alert: alerts.state(of: probe), lastContact: contacts.lastContact(of: probe))
    }

    /// The probe's earliest stored run strictly after `now`.
    func nextRun(of probe: String, after now: UnixTime) -> UnixTime? {
        schedule.cachedNextRun(of: probe, after: now)?.runAt
    }

    /// The counts at the top of the dashboard and in `/metrics`: from memory, and one
    /// query for the outbox.
    func summary() async throws -> StatusReport.Summary {
        let snapshot = live.snapshot
        let outbox = try await database.outboxBacklog()
        return StatusReport.Summary(
            schools: snapshot.configuration.schools.count, probeStates: snapshot.configuration.schools.flatMap(\.probes).map { health(of: $0.name).state },
            outboxPending: outbox.pending, outboxFailing: outbox.failing)
    }

    /// What the dashboard, `GET /v1/status` and `governor status` show, as of now.
    ///
    /// - Parameter school: only this school's table and timeline (the school page);
    ///   the summary counts every school either way.
    func report(onlySchool school: String? = nil) async throws -> StatusReport {
        let snapshot = live.snapshot
        let now = clock.seconds
        let latest = try await database.latestResults()
        var schools: [SchoolStatus] = []
        for config in snapshot.configuration.schools where school == nil || config.name == school {
            let probes = config.probes.map { row(of: $0, latest: latest[$0.name], now: now) }
            let today = try await day(of: config, on: LocalDate(containing: now, in: config.timeZone), now: now)
            schools.append(SchoolStatus(name: config.name, timezone: config.timeZoneName, file: config.file, probes: probes, today: today))
        }
        return StatusReport(version: GovernorServer.version, generatedAt: Instant(now), startedAt: Instant(UnixTime(startedAt.rounded(.down))),
                            summary: try await summary(), schools: schools)
    }

    /// One probe's line: its health, last result and next run.
    func row(of probe: ProbeConfig) async throws -> ProbeRow {
        row(of: probe, latest: try await database.latestResult(probe: probe.name), now: clock.seconds)
    }

    func row(of probe: ProbeConfig, latest: TestResult?, now: UnixTime) -> ProbeRow {
        let health = health(of: probe.name)
        return ProbeRow(
            probe: probe.name, mode: probe.mode.rawValue, label: probe.label, address: probe.address?.description, state: health.state,
            stateSince: health.since.map(Instant.init), lastContact: health.lastContact.map(Instant.init),
            consecutiveMissed: health.consecutiveMissed, clockOffsetMs: latest?.clockOffsetMs, lastResult: latest.map(ResultSummary.init),
            nextRun: nextRun(of: probe.name, after: now).map(Instant.init))
    }

    /// The school's windows on a local date, each stored run with its outcome.
    func day(of school: SchoolConfig, on date: LocalDate, now: UnixTime) async throws -> TimelineDay {
        let day = try await schedule.windows(of: school, on: date)
        let results = try await database.runResults(school: school.name, from: day.start, before: day.end)
        let settle = settleSeconds(of: school)
        var bands = day.stored.map { TimelineDay.Band(start: Instant($0.bounds.start), end: Instant($0.bounds.end), generated: true) }
        bands += day.ungenerated.map { TimelineDay.Band(start: Instant($0.start), end: Instant($0.end), generated: false) }
        bands.sort { $0.start < $1.start }
        var runs: [TimelineDay.Run] = []
        for window in day.stored {
            for run in window.runs {
                let result = results[RunResultKey(probe: run.probe, runAt: run.runAt)]
                let judgement = RunJudgement.judge(runAt: run.runAt, announced: run.runAt >= window.generatedAt, result: result?.facts,
                                                   lastContact: contacts.lastContact(of: run.probe), settledAt: run.runAt + settle, now: now)
                runs.append(TimelineDay.Run(probe: run.probe, runAt: run.runAt, judgement: judgement, resultID: result?.id))
            }
        }
        runs.sort { ($0.runAt, $0.probe) < ($1.runAt, $1.probe) }
        return TimelineDay(date: date, start: Instant(day.start), end: Instant(day.end), windows: bands, runs: runs)
    }

    /// The outcomes of some of a probe's runs (those an alert email lists), all
    /// announced: the alert judgement counts no other.
    func judgements(of probe: String, in school: SchoolConfig, runs: [UnixTime]) async throws -> [UnixTime: RunJudgement] {
        guard let first = runs.min(), let last = runs.max() else { return [:] }
        let results = try await database.runResults(probe: probe, from: first, through: last)
        let now = clock.seconds, lastContact = contacts.lastContact(of: probe), settle = settleSeconds(of: school)
        var judgements: [UnixTime: RunJudgement] = [:]
        for run in runs {
            judgements[run] = RunJudgement.judge(runAt: run, announced: true, result: results[RunResultKey(probe: probe, runAt: run)]?.facts,
                                                 lastContact: lastContact, settledAt: run + settle, now: now)
        }
        return judgements
    }

    /// How long after its time a run without a result stays pending.
    private func settleSeconds(of school: SchoolConfig) -> UnixTime {
        UnixTime(school.timing.testDurationSeconds) + UnixTime(live.snapshot.governor.alertSettings.graceSeconds)
    }
}

extension ResultSummary {
    /// A stored result's table cell: its outcome and how late it started.
    init(_ result: TestResult) {
        self.init(id: result.id ?? 0, runAt: result.runAt.map(Instant.init), exitCode: result.exitCode, failure: result.failure,
                  latenessMs: result.startedAtMs.flatMap { started in result.runAt.map { started - $0 * 1000 } })
    }
}
