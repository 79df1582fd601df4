import AsyncAlgorithms
import GovernorCore
import GovernorMail
import GovernorStore
import Logging
import ServiceLifecycle
import Synchronization

/// What became of the heartbeat's calls: an incident that takes a large part of the
/// fleet down says whether the governor reached its heartbeat URL meanwhile, which
/// tells its own network's outage from theirs.
final class HeartbeatCalls: Sendable {
    struct Summary: Sendable, Equatable {
        /// Whether `[Alerts] heartbeat_url` is set.
        var configured = false
        /// The last call that reached the URL (its server answered).
        var lastReached: UnixTime?
        /// The last call that did not, and why.
        var lastFailed: UnixTime?
        var lastError: String?
    }

    private let summary = Mutex(Summary())

    var current: Summary { summary.withLock { $0 } }

    func configured(_ value: Bool) {
        summary.withLock { $0.configured = value }
    }

    func reached(at now: UnixTime) {
        summary.withLock { $0.lastReached = now }
    }

    func failed(at now: UnixTime, _ error: String) {
        summary.withLock {
            $0.lastFailed = now
            $0.lastError = error
        }
    }
}

/// Calls `[Alerts] heartbeat_url`, a dead man's switch on another machine, every
/// `heartbeat_interval` while the governor does its work, so that the silence of a
/// governor that is gone (or hangs, or lost its database) is noticed by something
/// that does not share its fate. When alert email has failed to deliver for longer
/// than `heartbeat_fail_after`, it calls `URL/fail` with the last error instead: the
/// governor lives, but its alerts reach nobody.
struct HeartbeatService: Service {
    let live: LiveConfiguration
    let scheduler: LoopHeartbeat
    let judgement: LoopHeartbeat
    let outbox: any AlertStore
    let clock: ServerClock
    let logger: Logger
    /// Where each call's outcome goes.
    let calls: HeartbeatCalls

    /// A loop that has not completed a pass for this long counts as stuck. Both pass
    /// every second; the first scheduler pass of a large fleet takes a few.
    static let staleSeconds: UnixTime = 60

    func run() async throws {
        let started = clock.seconds
        var lastCall: UnixTime?
        var lastVerdict: Verdict?
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            let settings = live.snapshot.governor.alertSettings
            calls.configured(settings.heartbeatURL != nil)
            guard let url = settings.heartbeatURL else { continue }
            let now = clock.seconds
            if let lastCall, now - lastCall < UnixTime(settings.heartbeatIntervalSeconds) { continue }
            // The first call waits for both loops' first pass (a second or two after the
            // start); a loop that has not passed 60 s after the start is stuck.
            let starting = scheduler.last == 0 || judgement.last == 0
            if starting && now - started <= Self.staleSeconds { continue }
            lastCall = now
            let verdict: Verdict
            do {
                let failing = try await outbox.oldestFailingOutboxMessage()
                verdict = Self.verdict(now: now, schedulerPass: max(scheduler.last, started), judgementPass: max(judgement.last, started),
                                       failing: failing.map { ($0.createdAt, $0.lastError ?? "no error recorded") },
                                       failAfter: UnixTime(settings.heartbeatFailAfterSeconds))
            } catch {
                verdict = .silent("cannot read the alert outbox: \(error)")
            }
            if verdict != lastVerdict { log(verdict) }
            lastVerdict = verdict
            let ping = HeartbeatPing(url: url)
            do {
                switch verdict {
                case .healthy: try await ping.success()
                case .failing(let reason): try await ping.failure(reason)
                case .silent: continue
                }
                calls.reached(at: now)
            } catch {
                calls.failed(at: now, error.message)
                logger.warning("heartbeat not delivered: \(error.message)")
            }
        }
    }

    /// What the heartbeat says.
    enum Verdict: Equatable {
        /// The scheduler and the alert judgement work, and alert email is delivered.
        case healthy
        /// The governor works, but alert email has not been delivered for too long.
        case failing(String)
        /// A loop is stuck or the state cannot be read: the governor says nothing, and
        /// the switch raises the alarm when its period runs out.
        case silent(String)
    }

    /// The verdict from the loops' last passes and the oldest failing email (its
    /// creation and its last error), at `now`.
    static func verdict(now: UnixTime, schedulerPass: UnixTime, judgementPass: UnixTime, failing: (since: UnixTime, error: String)?,
                        failAfter: UnixTime) -> Verdict {
        if now - schedulerPass > staleSeconds {
            return .silent("the scheduler has not completed a pass for \(now - schedulerPass) s")
        }
        if now - judgementPass > staleSeconds {
            return .silent("the alert judgement has not completed a pass for \(now - judgementPass) s")
        }
        if let failing, now - failing.since >= failAfter {
            return .failing("alert email has not been delivered for \(DurationValue.format(Int(clamping: now - failing.since))): \(failing.error)")
        }
        return .healthy
    }

    private func log(_ verdict: Verdict) {
        switch verdict {
        case .healthy: logger.info("heartbeat: healthy")
        case .failing(let reason): logger.warning("heartbeat reports a failure: \(reason)")
        case .silent(let reason): logger.error("heartbeat withheld: \(reason)")
        }
    }
}
