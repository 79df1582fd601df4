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
    let database: any AlertStore & LeaseStore
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
        let policy = AlertPolicy(settings: settings)
        let now = clock.seconds
        let catchUp = previous == nil
        var judgement: AlertJudgement
        if let previous = previous.take() {
            judgement = previous
        } else {
            judgement = AlertJudgement(memory: AlertMemory(states: try await database.alertStates(), lastPass: now))
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

        for notice in outcome.transitions { log(notice.transition, probe: notice.probe, school: notice.school) }
        metrics.runsMissed(count: outcome.missedRuns)
        let composer = AlertComposer(settings: settings, publicURL: snapshot.governor.publicURL, hostName: Self.hostName)
        var messages: [OutboxMessage] = []
        for (schoolName, notices) in outcome.notices.sorted(by: { $0.key < $1.key }) {
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

    init(memory: AlertMemory) {
        self.memory = memory
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
