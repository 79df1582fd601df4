import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorMail
import Logging
import ServiceLifecycle
import Synchronization

/// Whether this governor judges missed runs now (it holds the `alerts` lease): set
/// by ``AlertService`` after each pass, read by ``AlertmanagerService``, so that of
/// several governors only the judge speaks to Alertmanager and none contradicts it.
final class JudgeStatus: Sendable {
    private let judging = Mutex(false)

    var isJudging: Bool { judging.withLock { $0 } }

    func set(_ value: Bool) {
        judging.withLock { $0 = value }
    }
}

/// Hands the governor's alerts to Prometheus Alertmanager (`[Alerts] alertmanager`):
/// every probe that is DOWN, every school whose probes are all DOWN, and every school
/// below its target, with the school's labels; Alertmanager groups, inhibits,
/// silences and routes them.
///
/// A pass every ``passSeconds`` builds the firing alerts from the read models and
/// sends each Alertmanager what its ``AlertmanagerOutbox`` says is due: changes at
/// once, everything again each minute, and again at every pass while a send fails.
struct AlertmanagerService: Service {
    let live: LiveConfiguration
    let alerts: AlertReadModel
    let status: FleetStatus
    /// What a silence covers is not posted.
    let silences: SilenceReadModel
    let incidents: IncidentReadModel
    let judge: JudgeStatus
    let metrics: GovernorMetrics
    let clock: ServerClock
    let logger: Logger

    static let passSeconds = 5

    func run() async throws {
        var outboxes: [String: AlertmanagerOutbox] = [:]
        var unreachable: [String: UnixTime] = [:]
        var explained = ExplainedMisses()
        for await _ in AsyncTimerSequence(interval: .seconds(Self.passSeconds), clock: .continuous).cancelOnGracefulShutdown() {
            let snapshot = live.snapshot
            let urls = snapshot.governor.alertSettings.alertmanagers
            // Another governor judges (and sends); this one starts afresh when it does.
            guard !urls.isEmpty, judge.isJudging else {
                outboxes = [:]
                continue
            }
            let now = clock.seconds
            let firing: [AlertmanagerAlert]
            do {
                firing = try await firingAlerts(snapshot, now: now, explained: &explained)
            } catch {
                logger.warning("cannot read why the DOWN probes missed their runs (the alerts wait for the next pass): \(error)")
                continue
            }
            for url in urls {
                var outbox = outboxes[url] ?? AlertmanagerOutbox()
                defer { outboxes[url] = outbox }
                guard let batch = outbox.due(firing: firing, now: now) else { continue }
                do {
                    let body = try JSONEncoder.alertmanager.encode(batch)
                    try await AlertmanagerClient(baseURL: url).post(Array(body))
                    outbox.sent(batch, at: now)
                    metrics.alertmanagerPosted(accepted: true)
                    if let since = unreachable.removeValue(forKey: url) {
                        logger.info("Alertmanager takes the alerts again", metadata: ["url": "\(url)", "down_for_s": "\(now - since)"])
                    }
                } catch {
                    outbox.failed()
                    metrics.alertmanagerPosted(accepted: false)
                    if unreachable[url] == nil {
                        unreachable[url] = now
                        logger.error("cannot hand the alerts to Alertmanager (retrying every \(Self.passSeconds) s until it takes them): \(error)")
                    }
                }
            }
            metrics.alertmanagersUnreachable(unreachable.count)
            // Forget the URLs a reload removed.
            outboxes = outboxes.filter { urls.contains($0.key) }
            unreachable = unreachable.filter { urls.contains($0.key) }
        }
    }

    /// The alerts the fleet's state raises now.
    private func firingAlerts(_ snapshot: LiveConfiguration.Snapshot, now: UnixTime, explained: inout ExplainedMisses) async throws -> [AlertmanagerAlert] {
        let maker = AlertmanagerAlerts(publicURL: snapshot.governor.publicURL)
        let endsAt = now + AlertmanagerOutbox.validitySeconds
        var firing: [AlertmanagerAlert] = []
        var downBySchool: [String: [UnixTime]] = [:]
        var current: Set<ExplainedMisses.Key> = []
        for name in alerts.downProbes().sorted() {
            guard let entry = snapshot.probes[name], let school = snapshot.schools[entry.school], let state = alerts.state(of: name) else { continue }
            downBySchool[school.name, default: []].append(state.since)
            if silences.covering(probe: name, of: school, at: now) != nil { continue }
            let key = ExplainedMisses.Key(probe: name, since: state.since)
            current.insert(key)
            let missed = try await explained.lines(for: key, runs: state.missedRuns) { runs in
                try await status.judgements(of: name, in: school, runs: runs)
            }
            firing.append(maker.probeDown(.init(probe: entry.probe, since: state.since, consecutiveMissed: state.consecutiveMissed, missedRuns: missed,
                                                lastContact: status.health(of: name).lastContact),
                                          of: school, endsAt: endsAt))
        }
        explained.keep(only: current)
        for (name, since) in downBySchool.sorted(by: { $0.key < $1.key }) {
            guard let school = snapshot.schools[name], since.count == school.probes.count, let last = since.max(),
                  !silences.silencesSchool(school, at: now) else { continue }
            firing.append(maker.schoolDown(school, since: last, endsAt: endsAt))
        }
        for incident in incidents.open {
            firing.append(maker.incident(incident, endsAt: endsAt))
        }
        for line in status.schoolsBelowTarget(offset: 0, limit: Int.max, now: now).lines {
            guard let school = snapshot.schools[line.school], let median = line.measurement.medianDownloadMbps,
                  let target = snapshot.targets[line.school], !silences.silencesSchool(school, at: now) else { continue }
            firing.append(maker.belowTarget(school, median: median, target: target, state: line.measurement.state, since: now, endsAt: endsAt))
        }
        return firing
    }
}

/// Why each DOWN probe missed its runs, read once per DOWN episode: the reasons do
/// not change once judged, and a regional outage would otherwise read them for
/// hundreds of probes every pass.
struct ExplainedMisses {
    struct Key: Hashable {
        var probe: String
        var since: UnixTime
    }

    private var lines: [Key: (runs: [UnixTime], lines: [String])] = [:]

    mutating func lines(for key: Key, runs: [UnixTime], judge: ([UnixTime]) async throws -> [UnixTime: RunJudgement]) async throws -> [String] {
        if let known = lines[key], known.runs == runs { return known.lines }
        let judgements = try await judge(runs)
        let described = runs.map { run in
            let judgement = judgements[run]
            let reason = judgement?.reason.map { " (\($0.rawValue)\(judgement?.detail.map { ": \($0)" } ?? ""))" } ?? ""
            return RFC3339.format(run) + reason
        }
        lines[key] = (runs, described)
        return described
    }

    mutating func keep(only current: Set<Key>) {
        lines = lines.filter { current.contains($0.key) }
    }
}

extension JSONEncoder {
    /// Alertmanager's JSON: keys as its API names them (the wire type's own), sorted, for stable bodies.
    static var alertmanager: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
