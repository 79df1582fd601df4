import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorStore
import HeapModule
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
    let database: any StateStore
    let contacts: ContactBook
    /// Where the judged states go, for ``FleetStatus``.
    let alerts: AlertBook
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
                heartbeat.beat(at: now)
            } catch let lost as LeaseLost {
                judgement = nil
                held = nil
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

    /// The runs that are judged: those on the school's open days. A run stored before
    /// a reload closed its day stays a fact (it was announced), but is not judged.
    static func judged(_ runs: [UnixTime], of school: SchoolConfig) -> [UnixTime] {
        guard school.calendar != .always else { return runs }
        return runs.filter { school.calendar.isOpen(on: LocalDate(containing: $0, in: school.timeZone)) }
    }

    /// One pass of the judgement.
    ///
    /// The first pass (`previous` nil: at start-up, or after an error) reads the stored
    /// states and judges every probe since its last judged run; so does the pass after
    /// a reload, and every pass with `full`. Any other pass judges only the probes
    /// something is due for: a run whose grace ended since the last pass, a contact
    /// since then that can change its state (``contactMatters(_:)``), a reminder, a
    /// held notice. Judging any other probe would change
    /// nothing (``MissTracker`` acts only on those), so the emails are the same as
    /// judging every probe every second, at a cost proportional to what is due.
    /// - Returns: what the next pass starts from.
    func evaluate(_ previous: consuming AlertJudgement?, full: Bool = false, lease: Lease? = nil) async throws -> AlertJudgement {
        let snapshot = live.snapshot
        let settings = snapshot.governor.alertSettings
        let now = clock.seconds
        let catchUp = previous == nil
        var judgement: AlertJudgement
        if let previous = previous.take() {
            judgement = previous
        } else {
            judgement = AlertJudgement(states: try await database.alertStates(), lastPass: now)
        }
        // Contacts since the last pass, taken before anything else so that none is lost.
        let contacted = contacts.takeUnjudged()
        let everyone = catchUp || full || judgement.configuration !== snapshot
        var changed: [String: (school: String, state: ProbeAlertState)] = [:]
        let removed = everyone ? Set(judgement.states.keys).subtracting(snapshot.probes.keys) : []
        for probe in removed { judgement.states[probe] = nil }

        let longestGrace = UnixTime((snapshot.configuration.schools.map(\.timing.testDurationSeconds).max() ?? 0) + settings.graceSeconds)
        let oldest = catchUp ? (judgement.states.values.map(\.judgedThrough).min() ?? now) : min(judgement.lastPass, now) - longestGrace - 1
        let runs = try await database.judgeableRuns(after: max(oldest, now - 7 * 86_400), through: now)
        let due: [String]
        if everyone {
            due = snapshot.probes.keys.sorted()
        } else {
            var names = contacted.filter { name in
                snapshot.probes[name] != nil && Self.contactMatters(judgement.states[name])
            }
            for (name, times) in runs {
                guard let entry = snapshot.probes[name], let school = snapshot.schools[entry.school] else { continue }
                let grace = UnixTime(school.timing.testDurationSeconds + settings.graceSeconds)
                if times.contains(where: { $0 + grace > judgement.lastPass && $0 + grace <= now }) { names.insert(name) }
            }
            while let next = judgement.reminders.min, next.instant <= now {
                judgement.reminders.removeMin()
                names.insert(next.probe)
            }
            due = names.sorted()
        }
        // Which schools of the probes judged now were down as a whole before this pass,
        // so that the order in which their probes are judged does not matter.
        var schoolWasDown: [String: Bool] = [:]
        for name in due {
            guard let entry = snapshot.probes[name], schoolWasDown[entry.school] == nil, let school = snapshot.schools[entry.school] else { continue }
            schoolWasDown[entry.school] = school.probes.count > 1 && school.probes.allSatisfy { judgement.states[$0.name]?.status == .down }
        }
        var immediate: [String: [ProbeChange]] = [:]
        for (index, name) in due.enumerated() {
            // Thousands of probes due at once (a fleet's first contacts, a reload) would
            // hold one of the threads that also answer requests for a tenth of a second.
            if index % Self.judgedBetweenYields == Self.judgedBetweenYields - 1 { await Task.yield() }
            guard let entry = snapshot.probes[name], let school = snapshot.schools[entry.school] else { continue }
            let lastContact = contacts.lastContact(of: name)
            var current = judgement.states[name] ?? .new(at: now, lastContact: lastContact)
            let earlier = judgement.states[name]
            let tracker = MissTracker(threshold: settings.missedRuns, graceSeconds: school.timing.testDurationSeconds + settings.graceSeconds,
                                      repeatSeconds: settings.repeatSeconds)
            let wholeSchoolWasDown = schoolWasDown[entry.school] ?? false
            let closedNow = school.calendar != .always && !school.calendar.isOpen(on: LocalDate(containing: now, in: school.timeZone))
            for transition in tracker.evaluate(&current, runs: Self.judged(runs[name] ?? [], of: school), lastContact: lastContact, now: now) {
                if case .stillDown = transition, closedNow { continue }  // no reminder on a closed day
                log(transition, probe: name, school: entry.school)
                switch transition {
                case .wentDown where school.probes.count > 1:
                    current.heldNotice = .down(heldSince: now)
                case .recovered(let downSince, let missedCount) where wholeSchoolWasDown:
                    current.heldNotice = .up(heldSince: now, downSince: downSince, missedCount: missedCount)
                case .recovered where current.heldNotice != nil:
                    current.heldNotice = nil  // back before its DOWN email went out: say nothing
                default:
                    immediate[entry.school, default: []].append(try await change(entry.probe, of: school, transition, now: now))
                }
            }
            // Runs judged in this pass and found missed: the run counters' "missed".
            metrics.runsMissed(count: current.missedRuns.count { $0 > (earlier?.judgedThrough ?? .min) })
            judgement.states[name] = current
            if current.heldNotice != nil { judgement.heldSchools.insert(entry.school) }
            if !everyone, current.lastAlertAt != earlier?.lastAlertAt, let reminder = AlertJudgement.reminder(of: current, settings: settings) {
                judgement.reminders.insert(.init(instant: max(reminder, now + 1), probe: name))
            }
            if current.differsInJudgement(from: earlier) { changed[name] = (entry.school, current) }
        }

        // Held notices: one email for a school whose probes all went down (or came back)
        // together; separate ones as soon as another probe shows the link works, or
        // when the hold (the school's longest window, at most 15 minutes) is over.
        var batches = immediate
        if everyone {
            judgement.heldSchools = Set(judgement.states.compactMap { name, state in state.heldNotice == nil ? nil : snapshot.probes[name]?.school })
        }
        for schoolName in judgement.heldSchools.sorted() {
            guard let school = snapshot.schools[schoolName] else {
                judgement.heldSchools.remove(schoolName)
                continue
            }
            let names = school.probes.map(\.name)
            let held = names.filter { judgement.states[$0]?.heldNotice != nil }
            guard !held.isEmpty else {
                judgement.heldSchools.remove(schoolName)
                continue
            }
            let oldest = held.compactMap { judgement.states[$0]?.heldNotice?.heldSince }.min() ?? now
            let hold = UnixTime(min(school.timing.nominalWindows.map(\.seconds).max() ?? 0, 900))
            let allDown = names.allSatisfy { judgement.states[$0]?.status == .down }
            let allUp = names.allSatisfy { judgement.states[$0]?.status == .up }
            let linkWorks = names.contains { judgement.states[$0]?.status == .up && (contacts.lastContact(of: $0) ?? .min) >= oldest }
            guard allDown || allUp || linkWorks || now - oldest >= hold else { continue }
            for name in held {
                guard var probeState = judgement.states[name], let notice = probeState.heldNotice,
                      let entry = snapshot.probes[name] else { continue }
                let transition: ProbeTransition = switch notice {
                case .down: .wentDown(missedRuns: probeState.missedRuns)
                case .up(_, let downSince, let missedCount): .recovered(downSince: downSince, missedCount: missedCount)
                }
                probeState.heldNotice = nil
                judgement.states[name] = probeState
                changed[name] = (school.name, probeState)
                batches[school.name, default: []].append(try await change(entry.probe, of: school, transition, now: now))
            }
        }

        let composer = AlertComposer(settings: settings, publicURL: snapshot.governor.publicURL, hostName: Self.hostName)
        var messages: [OutboxMessage] = []
        for (schoolName, changes) in batches.sorted(by: { $0.key < $1.key }) {
            guard let school = snapshot.schools[schoolName] else { continue }
            let composed = composer.messages(for: changes, of: school, at: now)
            if composed.isEmpty {
                logger.warning("no alert email for school '\(schoolName)': [Alerts] has no transport, 'from' or recipients")
            }
            messages += composed
        }
        try await database.saveAlerts(states: changed, removing: removed, queue: messages, fencedBy: lease)
        if everyone {
            alerts.replace(with: judgement.states)
        } else {
            alerts.update(changed.mapValues(\.state))
        }
        if everyone {
            judgement.reminders = Heap(judgement.states.compactMap { name, state in
                AlertJudgement.reminder(of: state, settings: settings).map { AlertJudgement.Due(instant: max($0, now + 1), probe: name) }
            })
        }
        judgement.lastPass = now
        judgement.configuration = snapshot
        return judgement
    }

    /// Whether a contact can change what the judgement says of a probe: it ends a
    /// DOWN, a streak of misses or a held notice, or it is the first. A contact of an
    /// UP probe with no misses changes only when it was last heard from, which the
    /// next judgement of its runs reads from the contacts anyway (and a held notice's
    /// "the link works" reads from the contacts too); judging it would change nothing,
    /// and a busy fleet makes thousands of such contacts a second.
    static func contactMatters(_ state: ProbeAlertState?) -> Bool {
        guard let state else { return true }
        return state.status != .up || state.consecutiveMissed > 0 || state.lastContactSeen == nil || state.heldNotice != nil
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

extension ProbeAlertState {
    /// Whether this state says more than `earlier` did: anything but a later contact
    /// of a probe already heard from. Such a refresh changes no verdict (``MissTracker``
    /// only ends a streak or a DOWN on a contact, and those change other fields too)
    /// and is applied again from the stored contacts after a restart, so it is kept in
    /// memory and not written: a busy probe would otherwise rewrite its state every
    /// second.
    func differsInJudgement(from earlier: ProbeAlertState?) -> Bool {
        guard let earlier else { return true }
        var refreshed = earlier
        if earlier.lastContactSeen != nil { refreshed.lastContactSeen = lastContactSeen }
        return refreshed != self
    }
}

/// What the alert judgement carries from one pass to the next.
struct AlertJudgement: Sendable {
    var states: [String: ProbeAlertState]
    /// The instant of the last pass: runs whose grace ends after it are due next.
    var lastPass: UnixTime
    /// The configuration the last pass judged under; another one (a reload) means judging everyone.
    var configuration: LiveConfiguration.Snapshot?
    /// When DOWN probes are due a reminder (`[Alerts] repeat`), earliest first.
    var reminders = Heap<Due>()
    /// Schools with a notice held back.
    var heldSchools: Set<String> = []

    init(states: [String: ProbeAlertState], lastPass: UnixTime) {
        self.states = states
        self.lastPass = lastPass
    }

    struct Due: Comparable, Sendable {
        var instant: UnixTime
        var probe: String

        static func < (lhs: Due, rhs: Due) -> Bool { (lhs.instant, lhs.probe) < (rhs.instant, rhs.probe) }
    }

    /// When a DOWN probe's next reminder is due, if reminders are on.
    static func reminder(of state: ProbeAlertState, settings: AlertSettings) -> UnixTime? {
        guard state.status == .down, let repeatSeconds = settings.repeatSeconds, let last = state.lastAlertAt else { return nil }
        return last + UnixTime(repeatSeconds)
    }
}

/// What a governor that does not judge last read of the judge's states.
private struct AlertFollowing {
    /// The configuration of the last full read: a reload reads everything again.
    var configuration: LiveConfiguration.Snapshot?
    var full: UnixTime?
    var changes: UnixTime?
}
