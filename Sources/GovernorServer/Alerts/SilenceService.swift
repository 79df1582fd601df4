import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Keeps the ``SilenceReadModel`` in step with the state (a silence made on any
/// governor counts on all within seconds), and when a silence ends (its time is up,
/// or it was removed) sends one email with what it covered that is still DOWN.
///
/// Only the governor that judges missed runs sends that email; its Message-ID is
/// made of the silence's id, and the outbox takes a Message-ID once, so a restart or
/// a change of judge does not send it twice.
struct SilenceService: Service {
    let live: LiveConfiguration
    let database: any SilenceStore & AlertStore
    let silences: SilenceReadModel
    let alerts: AlertReadModel
    let status: FleetStatus
    let judge: JudgeStatus
    let clock: ServerClock
    let logger: Logger
    var interval: Duration = .seconds(2)

    /// A silence that ended longer ago than this when a governor starts is not reported.
    static let reportWithinSeconds: UnixTime = 600

    func run() async throws {
        var reported: Set<Int64> = []
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            let now = clock.seconds
            do {
                let list = try await database.silences(endedAfter: now - 86_400)
                silences.replace(with: list)
                guard judge.isJudging else { continue }
                for silence in list {
                    guard let id = silence.id, !reported.contains(id), silence.endedAt <= now else { continue }
                    if silence.endedAt >= now - Self.reportWithinSeconds { try await report(silence, now: now) }
                    reported.insert(id)
                }
            } catch {
                logger.warning("cannot read the silences (retrying): \(error)")
            }
        }
    }

    /// One email per silence that ended, with the probes it covered that are still DOWN;
    /// none when all of them are up.
    private func report(_ silence: Silence, now: UnixTime) async throws {
        let snapshot = live.snapshot
        let settings = snapshot.governor.alertSettings
        var down: [(probe: String, school: SchoolConfig, state: ProbeAlertState)] = []
        for name in alerts.downProbes().sorted() {
            guard let entry = snapshot.probes[name], let school = snapshot.schools[entry.school], silence.matcher.covers(probe: name, school: school),
                  let state = alerts.state(of: name) else { continue }
            down.append((name, school, state))
        }
        logger.info("silence ended", metadata: [
            "silence": "\(silence.id ?? 0)", "of": "\(silence.matcher.description)", "still_down": "\(down.count)",
        ])
        guard !down.isEmpty, settings.canSend, let from = settings.from else { return }
        let recipients = settings.recipients(adding: Array(Set(down.flatMap(\.school.alertTo))).sorted())
        guard !recipients.isEmpty else { return }
        let ended = silence.removedAt.map { "was removed at \(RFC3339.format($0))" } ?? "ended at \(RFC3339.format(silence.endsAt))"
        var body = "The silence of \(silence.matcher.description) (\(silence.reason); by \(silence.author)) \(ended).\n"
            + "Still DOWN (\(down.count)):\n"
        for entry in down {
            body += "  probe \(entry.probe) of school \(entry.school.name): DOWN since \(RFC3339.format(entry.state.since)), "
                + "\(entry.state.consecutiveMissed) run(s) missed in a row\n"
        }
        if let url = snapshot.governor.publicURL {
            body += "\nDashboard: " + (url.hasSuffix("/") ? url : url + "/") + (down.count == 1 ? "schools/\(down[0].school.name)" : "?state=DOWN") + "\n"
        }
        let domain = MailboxAddress.domain(from)
        let message = OutboxMessage(messageId: "silence-\(silence.id ?? 0)-ended@\(domain)", sender: from, recipients: recipients,
                                    subject: "[governor] silence ended: \(down.count) probe(s) of \(silence.matcher.description) still DOWN",
                                    body: body, createdAt: now)
        _ = try await database.queueOnce([message])
    }
}
