import Foundation
import GovernorCore
import GovernorViews
import GovernorWire
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
    let contacts: ContactCache
    let alerts: AlertReadModel
    let schedule: ScheduleOwner
    let latest: LatestResults
    let measurements: MeasurementReadModel
    let egress: EgressReadModel
    let silences: SilenceReadModel
    let incidents: IncidentReadModel
    let database: any AlertStore & ResultStore
    let clock: ServerClock
    /// When this governor started, for its uptime.
    let startedAt: Double

    /// A clock further off than this (the probe's own default `max_clock_offset`)
    /// puts a probe on the dashboard's attention list.
    static let clockSkewMs = 1000.0

    /// A probe's state, since when, consecutive misses and last contact, from memory.
    func health(of probe: String) -> ProbeHealth {
        ProbeHealth(alert: alerts.state(of: probe), lastContact: contacts.lastContact(of: probe))
    }

    /// The probe's earliest stored run strictly after `now`.
    func nextRun(of probe: String, after now: UnixTime) -> UnixTime? {
        schedule.cachedNextRun(of: probe, after: now)?.runAt
    }

    /// The counts at the top of the dashboard and in `/metrics`: from memory, one
    /// pass over the probes under one lock, and one query for the outbox.
    func summary() async throws -> StatusReport.Summary {
        let snapshot = live.snapshot
        let outbox = try await database.outboxBacklog()
        // The same rule as ``ProbeHealth``: DOWN first, then never seen without a contact, else UP.
        let down = alerts.downProbes().filter { snapshot.probes[$0] != nil }
        let up = contacts.contactedCount(of: snapshot.probes.keys, excluding: down)
        var summary = StatusReport.Summary(schools: snapshot.configuration.schools.count, probes: snapshot.probes.count, up: up, down: down.count,
                                           neverSeen: snapshot.probes.count - up - down.count, outboxPending: outbox.pending, outboxFailing: outbox.failing)
        summary.measurements = measurementOverview(now: clock.seconds)
        summary.egress = egressOverview(now: clock.seconds)
        summary.incidentsOpen = incidents.open.count
        return summary
    }

    /// Shared egresses, identity conflicts and busy egresses, from the egress read
    /// model; the lists are of what is current, never a walk of the fleet.
    func egressOverview(now: UnixTime) -> EgressOverview {
        let shared = egress.sharedEgresses(now: now)
        let conflicts = egress.conflicts(now: now)
        let busy = egress.overBudget(now: now)
        return EgressOverview(
            sharedEgresses: shared.egresses, probesSharing: shared.probes, dailyTestsPerEgress: live.snapshot.governor.dailyTestsPerEgress,
            identityConflicts: conflicts.prefix(20).map { EgressOverview.ConflictLine(probe: $0.probe, school: $0.school, conflict: IdentityConflict($0.conflict)) },
            identityConflictCount: conflicts.count, overDailyBudget: busy.prefix(20).map(EgressOverview.BusyEgress.init), overDailyBudgetCount: busy.count)
    }

    /// Where `school` stands over its window, on its own local date.
    func standing(of school: SchoolConfig, now: UnixTime) -> SchoolStanding {
        let snapshot = live.snapshot
        return measurements.standing(of: school, settings: snapshot.governor.measurement, today: LocalDate(containing: now, in: school.timeZone),
                                     target: snapshot.targets[school.name])
    }

    /// As ``standing(of:now:)``, with each zone's date found once for a pass over many schools.
    private func standing(of school: SchoolConfig, now: UnixTime, dates: inout [TimeZone: LocalDate]) -> SchoolStanding {
        let today: LocalDate
        if let known = dates[school.timeZone] {
            today = known
        } else {
            today = LocalDate(containing: now, in: school.timeZone)
            dates[school.timeZone] = today
        }
        // The fleet's figures need no upload medians.
        let snapshot = live.snapshot
        return measurements.standing(of: school, settings: snapshot.governor.measurement, today: today, target: snapshot.targets[school.name], uploads: false)
    }

    /// The schools below their target (`below` and `poor`), furthest first (the lowest
    /// median as a share of its target; by name among equals): `limit` of them from
    /// `offset`, and how many there are.
    func schoolsBelowTarget(offset: Int, limit: Int, now: UnixTime) -> (lines: [BelowTargetLine], total: Int) {
        let below = fleetMeasurements(now: now).below
        let page = below.dropFirst(offset).prefix(limit).map { BelowTargetLine(school: $0.school, measurement: SchoolMeasurement($0.standing)) }
        return (Array(page), below.count)
    }

    /// The fleet's KPIs and its schools by state.
    func measurementOverview(now: UnixTime) -> MeasurementOverview {
        fleetMeasurements(now: now).overview
    }

    /// Every school's standing, summed up: computed in one pass over the schools and
    /// kept by the read model while no measurement has come and the configuration is
    /// the same, for at most ``MeasurementReadModel/fleetMaxAge`` (so that a new day
    /// is seen). At 10,000 schools a pass took 300 ms, once per view of every page.
    private func fleetMeasurements(now: UnixTime) -> MeasurementReadModel.Fleet {
        let snapshot = live.snapshot
        return measurements.fleet(generation: ObjectIdentifier(snapshot)) {
            var states: [MeasurementState: Int] = [:]
            var below: [(school: String, standing: SchoolStanding, share: Double)] = []
            var dates: [TimeZone: LocalDate] = [:]
            let standings = snapshot.configuration.schools.map { school in
                let standing = standing(of: school, now: now, dates: &dates)
                states[standing.state, default: 0] += 1
                if standing.state == .below || standing.state == .poor, let median = standing.medianDownloadMbps {
                    below.append((school.name, standing, median / standing.target.downloadMbps))
                }
                return standing
            }
            below.sort { $0.share != $1.share ? $0.share < $1.share : $0.school < $1.school }
            return MeasurementReadModel.Fleet(overview: MeasurementOverview(MeasurementKPIs(standings), states: states, complete: measurements.isLoaded),
                                              below: below)
        }
    }

    /// The schools by their value of label `key`: how many, how many are down (every
    /// probe DOWN) and how many probes are DOWN, by value (schools without the label
    /// under `nil`). One pass over the schools: asked only by the dashboard's grouping.
    func labelGroups(key: String) -> [LabelGroup] {
        let snapshot = live.snapshot
        let down = alerts.downProbes()
        var groups: [String?: LabelGroup] = [:]
        for school in snapshot.configuration.schools {
            let value = school.labels[key]
            var group = groups[value] ?? LabelGroup(key: key, value: value, schools: 0, schoolsDown: 0, probesDown: 0)
            let probesDown = school.probes.count { down.contains($0.name) }
            group.schools += 1
            group.probesDown += probesDown
            if probesDown > 0 && probesDown == school.probes.count { group.schoolsDown += 1 }
            groups[value] = group
        }
        return groups.values.sorted { ($0.schoolsDown, $1.value ?? "") > ($1.schoolsDown, $0.value ?? "") }
    }

    /// Whether a probe needs the operator's attention: it is DOWN, or it missed its
    /// latest runs, or its latest result failed within a day, or its clock is off by
    /// more than ``clockSkewMs``. From memory only, so that a filter over 100,000
    /// probes takes milliseconds.
    func needsAttention(_ probe: String, health: ProbeHealth, latest: LatestResults.Entry?, now: UnixTime) -> Bool {
        if health.state == .down || health.consecutiveMissed > 0 { return true }
        guard let latest else { return false }
        return Self.troubles(latest, now: now)
    }

    /// A latest result that puts its probe on the attention list.
    static func troubles(_ latest: LatestResults.Entry, now: UnixTime) -> Bool {
        (!latest.summary.succeeded && latest.receivedAt >= now - 86_400) || latest.isSkewed
    }

    /// The probes that need attention, by school: found from the few probes that
    /// are DOWN, missing runs or troubled by their latest result, not by walking
    /// the fleet. The same rule as ``needsAttention(_:health:latest:now:)``.
    private func attentionProbes(now: UnixTime) -> [String: Set<String>] {
        let snapshot = live.snapshot
        var names = alerts.troubledProbes()
        for (probe, entry) in latest.troubling() where Self.troubles(entry, now: now) { names.insert(probe) }
        var bySchool: [String: Set<String>] = [:]
        for name in names {
            guard let entry = snapshot.probes[name], needsAttention(name, health: health(of: name), latest: latest.latest(of: name), now: now) else { continue }
            bySchool[entry.school, default: []].insert(name)
        }
        return bySchool
    }

    /// The page of schools (and of their probes) a query asks for, with exact counts
    /// of everything it matches. Without filters this is a slice of the schools in
    /// name order; with them, one pass over the schools in memory, which for
    /// `attention` and `state=DOWN` looks only at the few probes that can match.
    func select(_ query: StatusQuery) -> StatusSelection {
        let snapshot = live.snapshot
        let schools = snapshot.schoolsByName
        var first = 0
        if let cursor = query.cursor {
            // The first school whose name sorts after the cursor (binary search).
            var low = 0, high = schools.count
            while low < high {
                let middle = low + (high - low) / 2
                if schools[middle].name <= cursor { low = middle + 1 } else { high = middle }
            }
            first = low
        }
        if query.selectsEverything {
            let end = min(first + query.limit, schools.count)
            let page = schools[first..<end].map { (school: $0, probes: $0.probes) }
            return StatusSelection(schools: page, matchedSchools: schools.count, matchedProbes: snapshot.probes.count,
                                   nextCursor: end < schools.count ? page.last?.school.name : nil)
        }
        let now = clock.seconds
        let needle = query.school?.lowercased()
        // The attention list and DOWN start from the few probes that can match.
        var candidates: [String: Set<String>]?
        if query.attention {
            candidates = attentionProbes(now: now)
        } else if query.egress == .conflict {
            candidates = Dictionary(grouping: egress.conflicts(now: now), by: \.school).mapValues { Set($0.map(\.probe)) }
        } else if query.state == .down {
            candidates = Dictionary(grouping: alerts.downProbes().compactMap { name in snapshot.probes[name].map { ($0.school, name) } }, by: \.0)
                .mapValues { Set($0.map(\.1)) }
        }
        var selection = StatusSelection(schools: [], matchedSchools: 0, matchedProbes: 0, nextCursor: nil)
        var more = false
        for (index, school) in schools.enumerated() {
            if let candidates, candidates[school.name] == nil { continue }
            if let needle, !school.name.lowercased().contains(needle) { continue }
            if !query.labels.allSatisfy({ school.labels[$0.key] == $0.value }) { continue }
            // School filters first (name, then measurement), then the probe filters.
            if let wanted = query.measurement, standing(of: school, now: now).state != wanted { continue }
            let probes = school.probes.filter { probe in
                guard query.filtersProbes else { return true }
                if let candidates, candidates[school.name]?.contains(probe.name) != true { return false }
                if query.egress == .shared, !egress.isShared(probe.name, now: now) { return false }
                let health = health(of: probe.name)
                if let state = query.state, health.state != state { return false }
                return !query.attention || needsAttention(probe.name, health: health, latest: latest.latest(of: probe.name), now: now)
            }
            // A school without matching probes is listed only when no probe filter is set.
            if probes.isEmpty && query.filtersProbes { continue }
            selection.matchedSchools += 1
            selection.matchedProbes += probes.count
            guard index >= first else { continue }
            if selection.schools.count < query.limit {
                selection.schools.append((school, probes))
            } else {
                more = true
            }
        }
        if more { selection.nextCursor = selection.schools.last?.school.name }
        return selection
    }

    /// What `GET /v1/status`, the dashboard and `governor status` show of a page of
    /// the fleet, as of now; the summary always counts the whole fleet.
    func report(_ query: StatusQuery, summary: StatusReport.Summary? = nil) async throws -> StatusReport {
        let selection = select(query)
        var report = try await report(of: selection.schools, summary: summary)
        report.page = selection.page(limit: query.limit)
        return report
    }

    /// One school's report (the school page); without schools, with the summary alone,
    /// when no school has the name.
    func report(ofSchool name: String) async throws -> StatusReport {
        try await report(of: live.snapshot.schools[name].map { [($0, $0.probes)] } ?? [])
    }

    private func report(of schools: [(school: SchoolConfig, probes: [ProbeConfig])], summary: StatusReport.Summary? = nil) async throws -> StatusReport {
        let now = clock.seconds
        var statuses: [SchoolStatus] = []
        for (config, probes) in schools {
            let today = try await day(of: config, on: LocalDate(containing: now, in: config.timeZone), now: now)
            var status = SchoolStatus(name: config.name, timezone: config.timeZoneName, file: config.file,
                                      probes: probes.map { row(of: $0, now: now) }, today: today)
            status.measurement = SchoolMeasurement(standing(of: config, now: now))
            if !config.labels.isEmpty { status.labels = config.labels.dictionary }
            statuses.append(status)
        }
        let counts: StatusReport.Summary
        if let summary { counts = summary } else { counts = try await self.summary() }
        return StatusReport(version: GovernorServer.version, generatedAt: Instant(now), startedAt: Instant(UnixTime(startedAt.rounded(.down))),
                            summary: counts, schools: statuses)
    }

    /// One probe's line: its health, last result and next run.
    func row(of probe: ProbeConfig, now: UnixTime) -> ProbeRow {
        let health = health(of: probe.name)
        let latest = latest.latest(of: probe.name)
        var row = ProbeRow(
            probe: probe.name, mode: probe.mode, label: probe.label, address: probe.address?.description, state: health.state,
            stateSince: health.since.map(Instant.init), lastContact: health.lastContact.map(Instant.init),
            consecutiveMissed: health.consecutiveMissed, clockOffsetMs: latest?.clockOffsetMs, lastResult: latest?.summary,
            nextRun: nextRun(of: probe.name, after: now).map(Instant.init), egress: egress.view(of: probe.name, now: now).map(ProbeEgress.init))
        let snapshot = live.snapshot
        row.group = snapshot.probes[probe.name]?.group
        if let school = snapshot.probes[probe.name].flatMap({ snapshot.schools[$0.school] }),
           let silence = silences.covering(probe: probe.name, of: school, at: now) {
            row.silenced = ProbeRow.Silenced(id: silence.id ?? 0, until: Instant(silence.endedAt), reason: silence.reason)
        }
        return row
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
                                                   lastContact: contacts.lastContact(of: run.probe), settledAt: run.runAt + settle, now: now,
                                                   closed: !school.calendar.isOpen(on: window.bounds.localDate))
                runs.append(TimelineDay.Run(probe: run.probe, runAt: run.runAt, judgement: judgement, resultID: result?.id))
            }
        }
        runs.sort { ($0.runAt, $0.probe) < ($1.runAt, $1.probe) }
        return TimelineDay(date: date, start: Instant(day.start), end: Instant(day.end), windows: bands, runs: runs,
                           closed: school.calendar.closure(on: date))
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
                  latenessMs: result.latenessMs, startLatenessMs: result.probeStartLatenessMs)
    }
}
