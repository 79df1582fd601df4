import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Judges every probe's runs once a second and queues alert email for the changes.
///
/// The states live in the database and are written in the same transaction as the
/// messages they cause, so a restart neither forgets a streak nor sends an alert
/// twice; runs that passed while the governor was down are judged at start-up from
/// the stored schedule and contacts.
struct AlertService: Service {
    let live: LiveConfiguration
    let database: AppDatabase
    let contacts: ContactBook
    /// Where the judged states go, for ``FleetStatus``.
    let alerts: AlertBook
    /// The read model, for what an email says of a probe: last contact, next run and
    /// why each missed run was missed.
    let status: FleetStatus
    let metrics: GovernorMetrics
    let clock: ServerClock
    let logger: Logger

    func run() async throws {
        var states: [String: ProbeAlertState]?
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            do {
                // After a (re)load, judge everything since each probe's last judged run;
                // afterwards only the runs whose grace can have ended since the last pass.
                let catchUp = states == nil
                if states == nil { states = try await database.alertStates() }
                states = try await evaluate(states ?? [:], catchUp: catchUp)
            } catch {
                states = nil  // read them again from the database next time
                logger.error("cannot evaluate missed runs (retrying): \(error)")
            }
        }
    }

    /// One evaluation: judges the runs whose grace has passed and stores the outcome.
    func evaluate(_ previous: [String: ProbeAlertState], catchUp: Bool = true) async throws -> [String: ProbeAlertState] {
        let snapshot = live.snapshot
        let settings = snapshot.governor.alertSettings
        let now = clock.seconds
        var states = previous
        var changed: [String: (school: String, state: ProbeAlertState)] = [:]
        let removed = Set(states.keys).subtracting(snapshot.probes.keys)
        for probe in removed { states[probe] = nil }

        let longestGrace = (snapshot.configuration.schools.map(\.timing.testDurationSeconds).max() ?? 0) + settings.graceSeconds
        let oldest = catchUp ? (states.values.map(\.judgedThrough).min() ?? now) : now - UnixTime(longestGrace) - 60
        let runs = try await database.judgeableRuns(after: max(oldest, now - 7 * 86_400), through: now)
        var immediate: [String: [ProbeChange]] = [:]
        for (name, entry) in snapshot.probes {
            guard let school = snapshot.schools[entry.school] else { continue }
            let lastContact = contacts.lastContact(of: name)
            var current = states[name] ?? .new(at: now, lastContact: lastContact)
            let before = states[name]
            let tracker = MissTracker(threshold: settings.missedRuns, graceSeconds: school.timing.testDurationSeconds + settings.graceSeconds,
                                      repeatSeconds: settings.repeatSeconds)
            let wholeSchoolWasDown = school.probes.count > 1 && school.probes.allSatisfy { states[$0.name]?.status == .down }
            for transition in tracker.evaluate(&current, runs: runs[name] ?? [], lastContact: lastContact, now: now) {
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
            metrics.runsMissed(school: entry.school, count: current.missedRuns.count { $0 > (before?.judgedThrough ?? .min) })
            states[name] = current
            if current != before { changed[name] = (entry.school, current) }
        }

        // Held notices: one email for a school whose probes all went down (or came back)
        // together; separate ones as soon as another probe shows the link works, or
        // when the hold (the school's longest window, at most 15 minutes) is over.
        var batches = immediate
        for school in snapshot.configuration.schools where school.probes.count > 1 {
            let names = school.probes.map(\.name)
            let held = names.filter { states[$0]?.heldNotice != nil }
            guard !held.isEmpty else { continue }
            let oldest = held.compactMap { states[$0]?.heldNotice?.heldSince }.min() ?? now
            let hold = UnixTime(min(school.timing.nominalWindows.map(\.seconds).max() ?? 0, 900))
            let allDown = names.allSatisfy { states[$0]?.status == .down }
            let allUp = names.allSatisfy { states[$0]?.status == .up }
            let linkWorks = names.contains { states[$0]?.status == .up && (states[$0]?.lastContactSeen ?? .min) >= oldest }
            guard allDown || allUp || linkWorks || now - oldest >= hold else { continue }
            for name in held {
                guard var probeState = states[name], let notice = probeState.heldNotice,
                      let entry = snapshot.probes[name] else { continue }
                let transition: ProbeTransition = switch notice {
                case .down: .wentDown(missedRuns: probeState.missedRuns)
                case .up(_, let downSince, let missedCount): .recovered(downSince: downSince, missedCount: missedCount)
                }
                probeState.heldNotice = nil
                states[name] = probeState
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
        try await database.saveAlerts(states: changed, removing: removed, queue: messages)
        alerts.replace(with: states)
        return states
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
}
