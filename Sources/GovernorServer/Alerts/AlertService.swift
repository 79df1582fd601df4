import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Judges every probe's runs once a second and queues alert email for the changes.
///
/// Of several governors on one state, one judges at a time: the holder of the
/// `alerts` lease, whose writes carry its fencing number.
///
/// The states live in the database and are written in the same transaction as the
/// messages they cause, so a restart neither forgets a streak nor sends an alert
/// twice; runs that passed while the governor was down are judged at start-up from
/// the stored schedule and contacts.
struct AlertService: Service {
    let live: LiveConfiguration
    let database: any AlertStore & LeaseStore & IncidentStore
    let contacts: ContactCache
    /// Where the judged states go, for ``FleetStatus``.
    let alerts: AlertReadModel
    /// The read model, for what an email says of a probe: last contact, next run and
    /// why each missed run was missed.
    let status: FleetStatus
    let metrics: GovernorMetrics
    let clock: ServerClock
    let logger: Logger
    let outages: StateOutageLog
    /// This governor among those sharing the state (``GovernorComponents/instance``).
    let instance: String
    /// Beats after each pass that worked, for the heartbeat URL.
    let heartbeat: LoopHeartbeat
    /// Set after each pass: whether this governor holds the lease and judged.
    let judge: JudgeStatus
    /// Silenced probes are judged, but their changes send no email.
    let silences: SilenceReadModel
    /// Where the incidents go as they are stored, for every view.
    let incidents: IncidentReadModel
    /// Whether the heartbeat reached its URL, for an incident of a large part of the fleet.
    let heartbeatCalls: HeartbeatCalls
    /// The changes of a shared state, followed while another governor judges; without
    /// it, every state is read each time.
    var feed: (any SharedStateFeed)? = nil

    /// The lease that makes one governor the judge: renewed every pass, so a judge
    /// that dies is replaced within ``leaseSeconds``.
    static let leaseName = "alerts"
    static let leaseSeconds: Int64 = 15
    /// How often a governor that is not the judge reads the states that changed, for
    /// its views: those of the last ``SharedStateFollower/overlapSeconds``, so that a
    /// state committed a little after it was stamped is not missed.
    static let followSeconds: UnixTime = 2
    /// How often it reads every state, which also forgets states the judge removed.
    /// It reads them all at once when its own configuration changes, too.
    static let fullFollowSeconds: UnixTime = 300

    func run() async throws {
        var judgement: AlertJudgement?
        var held: Lease?
        var following = AlertFollowing()
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            do {
                let now = clock.seconds
                guard let lease = try await database.holdLease(Self.leaseName, holder: instance, seconds: Self.leaseSeconds, at: now) else {
                    // Another governor judges: take its states for this one's views, and
                    // start from the stored states when the lease comes here.
                    if held != nil { logger.info("another governor judges missed runs now") }
                    held = nil
                    judgement = nil
                    judge.set(false)
                    _ = contacts.takeUnjudged()
                    try await follow(&following, now: now)
                    heartbeat.beat(at: now)
                    continue
                }
                following = AlertFollowing()
                if lease != held {
                    // A new holding (first, or taken over): judge from the stored states.
                    if held == nil { logger.info("this governor judges missed runs", metadata: ["fencing": "\(lease.fencing)"]) }
                    judgement = nil
                    held = lease
                }
                // Handed over, not shared, so that the pass updates its states in place
                // instead of copying every probe's.
                judgement = try await evaluate(judgement.take(), lease: lease)
                judge.set(true)
                heartbeat.beat(at: now)
            } catch let lost as LeaseLost {
                judgement = nil
                held = nil
                judge.set(false)
                logger.warning("missed-run judgement handed over: \(lost)")
            } catch {
                judgement = nil  // read the states again from the database next time
                outages.failed("cannot evaluate missed runs (retrying)", error)
            }
        }
    }

    /// Keeps ``alerts`` in step with the judge's states while another governor judges.
    private func follow(_ following: inout AlertFollowing, now: UnixTime) async throws {
        let snapshot = live.snapshot
        let reloaded = following.configuration !== snapshot
        guard reloaded || following.changes.map({ now - $0 >= Self.followSeconds }) ?? true else { return }
        if let feed, !reloaded, let full = following.full, now - full < Self.fullFollowSeconds {
            alerts.update(try await feed.alertStates(changedWithin: Int64(SharedStateFollower.overlapSeconds)).filter { snapshot.probes[$0.key] != nil })
        } else {
            alerts.replace(with: try await database.alertStates().filter { snapshot.probes[$0.key] != nil })
            following.configuration = snapshot
            following.full = now
        }
        incidents.replace(with: try await database.incidents(since: now - IncidentReadModel.keptSeconds))
        following.changes = now
    }

    /// One pass of the judgement: the reads, ``AlertPolicy``'s decision, the writes.
    ///
    /// The first pass (`previous` nil: at start-up, or after an error) reads the stored
    /// states and judges every probe since its last judged run; so does the pass after
    /// a reload, and every pass with `full`. Any other pass judges only the probes
    /// something is due for (``AlertPolicy/due(_:fleet:observed:)``), so the emails
    /// are the same as judging every probe every second, at a cost proportional to
    /// what is due.
    /// - Returns: what the next pass starts from.
    func evaluate(_ previous: consuming AlertJudgement?, full: Bool = false, lease: Lease? = nil) async throws -> AlertJudgement {
        let snapshot = live.snapshot
        let settings = snapshot.governor.alertSettings
        let schools = snapshot.configuration.schools
        let policy = AlertPolicy(settings: settings,
                                 incidentWaitSeconds: settings.incidents.applies(toFleetOf: schools.count) ? settings.incidents.waitSeconds : nil)
        let now = clock.seconds
        let catchUp = previous == nil
        var judgement: AlertJudgement
        if let previous = previous.take() {
            judgement = previous
        } else {
            judgement = AlertJudgement(memory: AlertMemory(states: try await database.alertStates(), lastPass: now))
            let stored = try await database.incidents(since: now - IncidentPolicy.lingerSeconds)
            judgement.incidents = stored.filter(\.isOpen).sorted { ($0.id ?? 0) < ($1.id ?? 0) }
            judgement.lingering = stored.filter { !$0.isOpen && (!$0.stillDown.isEmpty || !$0.laterRecovered.isEmpty) }
            incidents.replace(with: stored.filter { $0.isOpen || now - ($0.closedAt ?? now) <= IncidentReadModel.keptSeconds })
        }
        // Contacts since the last pass, taken before anything else so that none is lost.
        let contacted = contacts.takeUnjudged()
        let everyone = catchUp || full || judgement.configuration !== snapshot
        var outcome = AlertOutcome()
        if everyone { outcome.removed = policy.forgetRemoved(&judgement.memory, fleet: snapshot) }
        let from = policy.judgedFrom(judgement.memory, schools: snapshot.configuration.schools, now: now, catchUp: catchUp)
        let observed = AlertPolicy.Observed(now: now, everyone: everyone, contacted: contacted,
                                            runs: try await database.judgeableRuns(after: from, through: now))
        let due = policy.due(&judgement.memory, fleet: snapshot, observed: observed)
        let schoolWasDown = policy.schoolsDown(judgement.memory, probes: due, fleet: snapshot)
        for (index, name) in due.enumerated() {
            // Thousands of probes due at once (a fleet's first contacts, a reload) would
            // hold one of the threads that also answer requests for a tenth of a second.
            if index % Self.judgedBetweenYields == Self.judgedBetweenYields - 1 { await Task.yield() }
            policy.judge(name, &judgement.memory, fleet: snapshot, observed: observed, schoolWasDown: schoolWasDown,
                         lastContact: contacts.lastContact(of: name), into: &outcome)
        }
        policy.releaseHeld(&judgement.memory, fleet: snapshot, observed: observed, lastContact: { contacts.lastContact(of: $0) }, into: &outcome)
        policy.finish(&judgement.memory, observed: observed)
        judgement.refreshDownSchools(everyone ? nil : Set(outcome.changed.values.map(\.school)), fleet: snapshot)
        let notices = try await incidentStep(&judgement, outcome.notices, snapshot: snapshot, now: now, lease: lease)

        for notice in outcome.transitions { log(notice.transition, probe: notice.probe, school: notice.school) }
        metrics.runsMissed(count: outcome.missedRuns)
        let composer = AlertComposer(settings: settings, publicURL: snapshot.governor.publicURL, hostName: Self.hostName)
        var messages: [OutboxMessage] = []
        for (schoolName, notices) in notices.sorted(by: { $0.key < $1.key }) {
            guard let school = snapshot.schools[schoolName] else { continue }
            var changes: [ProbeChange] = []
            for notice in notices {
                guard let probe = snapshot.probes[notice.probe]?.probe else { continue }
                if let silence = silences.covering(probe: probe.name, of: school, at: now) {
                    logger.info("no alert email: the probe is silenced", metadata: [
                        "probe": "\(probe.name)", "school": "\(school.name)", "silence": "\(silence.id ?? 0)", "until": "\(RFC3339.format(silence.endedAt))",
                    ])
                    continue
                }
                changes.append(try await change(probe, of: school, notice.transition, now: now))
            }
            guard !changes.isEmpty else { continue }
            let conflicts = school.probes.compactMap { probe in status.egress.conflict(of: probe.name, now: now).map { (probe: probe.name, conflict: $0) } }
            let composed = composer.messages(for: changes, of: school, at: now, conflicts: conflicts)
            if composed.isEmpty && settings.alertmanagers.isEmpty {
                logger.warning("no alert email for school '\(schoolName)': [Alerts] has no transport, 'from' or recipients")
            }
            messages += composed
        }
        try await database.saveAlerts(states: outcome.changed, removing: outcome.removed, queue: messages, fencedBy: lease)
        if everyone {
            alerts.replace(with: judgement.memory.states)
        } else {
            alerts.update(outcome.changed.mapValues(\.state))
        }
        judgement.configuration = snapshot
        return judgement
    }

    /// The incidents' part of a pass (``IncidentPolicy``): opens, grows and closes them
    /// from the schools down as a whole, stores each step with its email under the
    /// lease (before the states whose notices it holds back, so that a crash between
    /// the two writes loses no email), and returns the notices still to send.
    private func incidentStep(_ judgement: inout AlertJudgement, _ notices: [String: [AlertOutcome.Notice]], snapshot: LiveConfiguration.Snapshot,
                              now: UnixTime, lease: Lease?) async throws -> [String: [AlertOutcome.Notice]] {
        guard !judgement.downSchools.isEmpty || !judgement.incidents.isEmpty || !judgement.lingering.isEmpty else { return notices }
        let settings = snapshot.governor.alertSettings
        let members = Set(judgement.incidents.flatMap(\.schools))
        // A school an incident left down carries on with its own alerts, and a school
        // silenced as a whole (planned work) opens or joins no incident.
        let leftDown = Set(judgement.lingering.flatMap(\.stillDown))
        let candidates = judgement.downSchools.filter { name, _ in
            members.contains(name) || (!leftDown.contains(name) && snapshot.schools[name].map { !silences.silencesSchool($0, at: now) } ?? false)
        }
        let step = IncidentPolicy.step(open: judgement.incidents, down: candidates, schools: snapshot.configuration.schools,
                                       settings: settings.incidents, now: now)
        let routing = IncidentPolicy.route(notices, step: step, lingering: judgement.lingering, down: judgement.downSchools,
                                           settings: settings.incidents, now: now)
        // An incident's opening email waits incident_wait after it opened, so that the
        // schools going down with it are in the one email; a close announces it first
        // when it closed sooner. The outbox takes each Message-ID once, so a judge that
        // restarted (and forgot what it announced) does not send one twice.
        let wait = settings.incidents.waitSeconds
        func unannounced(_ incident: Incident) -> Bool { !(incident.id.map(judgement.announced.contains) ?? false) }
        var writes: [(incident: Incident, steps: [IncidentComposer.Step])] = []
        let before = Dictionary(judgement.incidents.compactMap { incident in incident.id.map { ($0, incident) } }, uniquingKeysWith: { first, _ in first })
        // Each open incident written, by its place in `step.open`: it comes back stored,
        // with its id, at the same place in the answer.
        var written: [Int: Int] = [:]
        for (position, incident) in step.open.enumerated() {
            let changed = incident.id.flatMap { before[$0] } != incident
            let due = unannounced(incident) && now - incident.openedAt >= wait
            if changed || due {
                written[position] = writes.count
                writes.append((incident, due ? [.opened] : []))
            }
        }
        writes += step.closed.map { ($0, (unannounced($0) ? [.opened] : []) + [.closed]) }
        for incident in routing.changed where !step.closed.contains(where: { $0.id == incident.id }) {
            let report = routing.reports.first { $0.after.id == incident.id }
            writes.append((incident, report.map { [.recovered(told: $0.told)] } ?? []))
        }
        var stored: [Incident] = []
        if !writes.isEmpty {
            let composer = IncidentComposer(settings: settings, publicURL: snapshot.governor.publicURL, hostName: Self.hostName, schools: snapshot.schools,
                                            downSince: judgement.downSchools, heartbeat: heartbeatCalls.current)
            let steps = writes.map(\.steps)
            stored = try await database.saveIncidents(writes.map(\.incident), queue: { stored in
                zip(stored, steps).flatMap { incident, steps in steps.compactMap { composer.message($0, of: incident, at: now) } }
            }, fencedBy: lease)
            for (index, (incident, steps)) in zip(stored, steps).enumerated() {
                if writes[index].incident.id == nil { log(incident, nil, opened: true) }
                for step in steps { log(incident, step) }
                if steps.contains(where: { if case .opened = $0 { true } else { false } }), let id = incident.id { judgement.announced.insert(id) }
            }
            incidents.put(stored, now: now)
        }
        judgement.incidents = step.open.enumerated().map { position, incident in written[position].map { stored[$0] } ?? incident }
        judgement.announced.formIntersection(judgement.incidents.compactMap(\.id))
        judgement.lingering = routing.lingering
        for (school, covered) in routing.covered.sorted(by: { $0.key < $1.key }) {
            logger.info("no own alert email: the school's state is told by an incident", metadata: [
                "school": "\(school)", "notices": "\(covered.count)",
                "incident": "\((judgement.incidents + step.closed + judgement.lingering).first { $0.schools.contains(school) }?.id ?? 0)",
            ])
        }
        return routing.notices
    }

    private func log(_ incident: Incident, _ step: IncidentComposer.Step?, opened: Bool = false) {
        let metadata: Logger.Metadata = ["incident": "\(incident.id ?? 0)", "scope": "\(incident.scope)", "schools": "\(incident.schools.count)"]
        if opened { logger.warning("incident opened: schools down together (its email waits incident_wait for the others)", metadata: metadata) }
        switch step {
        case .opened: logger.warning("incident announced", metadata: metadata)
        case .closed: logger.notice("incident closed", metadata: metadata.merging(["back": "\(incident.recovered.count)", "still_down": "\(incident.stillDown.count)"]) { $1 })
        case .recovered: logger.notice("schools an incident left down are back", metadata: metadata)
        case nil: break
        }
    }

    /// What the email says of one probe, from the read model every view uses.
    private func change(_ probe: ProbeConfig, of school: SchoolConfig, _ transition: ProbeTransition, now: UnixTime) async throws -> ProbeChange {
        let missed: [UnixTime] = switch transition {
        case .wentDown(let runs), .stillDown(let runs, _): runs
        case .recovered: []
        }
        return ProbeChange(probe: probe, transition: transition, lastContact: status.health(of: probe.name).lastContact,
                           nextRun: status.nextRun(of: probe.name, after: now),
                           judgements: try await status.judgements(of: probe.name, in: school, runs: missed))
    }

    private func log(_ transition: ProbeTransition, probe: String, school: String) {
        let metadata: Logger.Metadata = ["probe": "\(probe)", "school": "\(school)"]
        switch transition {
        case .wentDown(let missed):
            logger.warning("probe is DOWN after \(missed.count) missed runs", metadata: metadata)
        case .stillDown:
            logger.warning("probe is still DOWN", metadata: metadata)
        case .recovered(_, let missedCount):
            logger.notice("probe is UP again after \(missedCount) missed runs", metadata: metadata)
        }
    }

    static let hostName: String = ProcessInfo.processInfo.hostName

    /// How many probes a pass judges before it lets other work run.
    static let judgedBetweenYields = 500
}

/// What the alert judgement carries from one pass to the next: the rule's memory,
/// and the configuration it last judged under (another one, a reload, means judging
/// every probe).
struct AlertJudgement: Sendable {
    var memory: AlertMemory
    var configuration: LiveConfiguration.Snapshot?
    /// The schools whose every probe is DOWN, each since its last probe went down.
    var downSchools: [String: UnixTime] = [:]
    /// The incidents open, oldest first.
    var incidents: [Incident] = []
    /// The closed incidents that still group the recoveries of schools they left down.
    var lingering: [Incident] = []
    /// The open incidents whose opening email this judge queued.
    var announced: Set<Int64> = []

    init(memory: AlertMemory) {
        self.memory = memory
    }

    /// Brings ``downSchools`` up to date for `schools` (nil: every school).
    mutating func refreshDownSchools(_ schools: Set<String>?, fleet: LiveConfiguration.Snapshot) {
        if schools == nil { downSchools = [:] }
        let names = schools.map(Array.init) ?? Array(fleet.schools.keys)
        for name in names {
            downSchools[name] = fleet.schools[name].flatMap { IncidentPolicy.downSince(of: $0, states: memory.states) }
        }
    }
}

extension LiveConfiguration.Snapshot: AlertFleet {
    func school(ofProbe probe: String) -> SchoolConfig? {
        probes[probe].flatMap { schools[$0.school] }
    }

    func school(named name: String) -> SchoolConfig? {
        schools[name]
    }

    func probeNames() -> [String] {
        Array(probes.keys)
    }
}

/// What a governor that does not judge last read of the judge's states.
private struct AlertFollowing {
    /// The configuration of the last full read: a reload reads everything again.
    var configuration: LiveConfiguration.Snapshot?
    var full: UnixTime?
    var changes: UnixTime?
}
