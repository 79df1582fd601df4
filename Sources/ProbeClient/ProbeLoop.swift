import Foundation
import GovernorCore
import GovernorWire
public import Logging
import Synchronization

/// The probe's life: lease its runs from the governor, wait for the next, run the
/// test, report, refresh the lease; through outages of the governor (it runs its
/// leased runs and queues their results), restarts and clock trouble.
public final class ProbeLoop: Sendable {
    public let settings: ProbeSettings
    private let api: GovernorAPI
    private let queue: ResultQueue
    private let logger: Logger
    private let clock = Mutex(ClockOffsetEstimator())
    private let stopping = Atomic<Bool>(false)
    /// Results that could not be written to the queue (a full or read-only disk): kept
    /// here, and written or delivered at the next chance.
    private let unqueued = Mutex<[ResultReport]>([])
    /// When the queue may next be tried after a failed delivery.
    private let delivery = Mutex((backoff: Backoff(cap: 600), notBefore: 0.0))
    /// The last delivery trouble logged, so that each kind is logged once per episode.
    private let deliveryProblem = Mutex<String?>(nil)
    /// The latest run time started (Unix seconds), kept on disk: no run time is run
    /// twice, and none before it, whatever the clocks or the answers do.
    private let lastRun: Mutex<Int64>
    /// How the last timed start waited (real-time or spinning), to say so when it changes.
    private let startMode = Mutex<Bool?>(nil)
    /// The last refusal of a run time logged.
    private let lastRefusal = Mutex<String?>(nil)
    /// Whether a test is running now: a run never starts beside another.
    private let testRunning = Atomic<Bool>(false)
    /// A run time is not run when it is this far past (suspend, clock step, late answer).
    public static let tooLateSeconds = 5.0
    /// The furthest ahead a run time can lie: the governor's own look-ahead (a lease of
    /// at most 7 days, windows of at most a year ahead), with room; beyond it an answer
    /// is not a schedule.
    public static let furthestRunSeconds = 400.0 * 86_400

    public init(settings: ProbeSettings, logger: Logger) throws {
        self.settings = settings
        self.api = GovernorAPI(settings: settings)
        self.queue = try ResultQueue(directory: settings.queueDirectory)
        self.logger = logger
        let kept = (try? String(contentsOfFile: settings.lastRunPath, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        self.lastRun = Mutex(kept ?? .min)
    }

    /// Why the probe will not run `runAt` at `now` (its own clock), or nil when it may:
    /// a time no clock can hold, one further past than ``tooLateSeconds``, one further
    /// ahead than ``furthestRunSeconds``, or one at or before the last run it started.
    public static func refusal(of runAt: Double, now: Double, lastRun: Int64 = .min) -> String? {
        guard let seconds = RunTime.seconds(runAt) else { return "\(runAt) is not a run time" }
        if runAt < now - tooLateSeconds { return "it is already \(Int(now - runAt)) s past; not running it" }
        if runAt > now + furthestRunSeconds { return "it is \(Int((runAt - now) / 86_400)) days ahead, beyond the governor's look-ahead of \(Int(furthestRunSeconds / 86_400)) days" }
        if seconds <= lastRun { return "this probe already ran \(RFC3339.format(lastRun))\(seconds == lastRun ? "" : ", which is later")" }
        return nil
    }

    /// ``refusal(of:now:lastRun:)`` against this probe's clock and last run, logged.
    private func refuses(_ runAt: Double, from source: String) -> Bool {
        guard let reason = Self.refusal(of: runAt, now: WallClock.now(), lastRun: lastRun.withLock { $0 }) else { return false }
        let shown = RunTime.seconds(runAt).map { RFC3339.format($0) } ?? "\(runAt)"
        let message = "refusing the run time \(shown) from \(source): \(reason)"
        // The same refusal again (a governor whose clock is behind this one answers the
        // run just run until its clock passes it) is not logged again.
        if lastRefusal.withLock({ last in defer { last = message }; return last != message }) {
            logger.warning("\(message)")
        }
        return true
    }

    /// Asks the loop to end: a running test finishes (or meets its timeout), its result
    /// is delivered or queued, and ``run()`` returns.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    public func run() async {
        logger.info("governor-probe \(settings.id) asking \(settings.server)")
        if settings.leaseSeconds > 0 {
            // Results are delivered beside the runs, so that a governor that does not
            // answer (each try may wait out its timeout) never makes a run late.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    while !isStopping {
                        await deliverQueued(whenDue: true)
                        // A result queued by a run goes within a quarter of a second.
                        await sleep(seconds: 0.25)
                    }
                }
                await runOnLease()
            }
        } else {
            await runAskingNext()
        }
        await deliverQueued()
        logger.info("governor-probe stopped")
    }

    /// With `lease = 0`: asks for the next run before each run.
    private func runAskingNext() async {
        var backoff = Backoff()
        var lastProblem: String?
        while !isStopping {
            await deliverQueued(whenDue: true)
            let next: GovernorAPI.ClockedRun
            do {
                next = try await fetchNext()
                backoff.reset()
                lastProblem = nil
            } catch {
                // Each kind of trouble is logged once, not on every retry.
                if error.episode != lastProblem {
                    logger.error("\(error.description); retrying with backoff")
                    lastProblem = error.episode
                }
                await sleep(seconds: backoff.next())
                continue
            }
            if refuses(next.runAt, from: "/next") {
                await sleep(seconds: backoff.next())
                continue
            }
            // A run far away is asked for again meanwhile: a reload may bring an earlier one.
            if next.runAt - WallClock.now() > Double(settings.askIntervalSeconds) {
                await sleep(seconds: Double(settings.askIntervalSeconds))
                continue
            }
            backoff.reset()
            await runIfOnTime(next.runAt, grouped: next.group != nil)
        }
    }

    /// The lease: at each turn it asks the governor for its runs up to `lease` ahead
    /// and keeps them on disk; whether or not the governor answered, it runs the next
    /// leased run at its time. When no leased run is left it stops testing and keeps
    /// asking, so that a probe forgotten by its governor stops within a lease.
    private func runOnLease() async {
        var lease = ProbeLease.load(from: settings.leasePath) ?? ProbeLease()
        if !lease.runs.isEmpty {
            logger.info("holding \(lease.runs.count) leased run(s) until \(RFC3339.format(lease.leaseUntil))")
        }
        // At most 30 s between asks once no leased run is left: a probe whose governor
        // returns is testing again within half a minute.
        var backoff = Backoff(cap: 30)
        var lastProblem: String?
        var ranOut = false
        while !isStopping {
            var reached = false
            do {
                // Asked between runs: never for longer than leaves a second before the next.
                let budget = lease.next(after: WallClock.now()).map { Double($0) - WallClock.now() - 1 } ?? Self.requestSeconds
                var answer = try await fetchLease(timeout: min(max(budget, 0.5), Self.requestSeconds))
                answer.runs.removeAll { refuses(Double($0), from: "the lease") }
                lease = lease.refreshed(by: answer)
                do {
                    try lease.save(to: settings.leasePath)
                } catch {
                    logger.error("cannot keep the lease at \(settings.leasePath) (it is held in memory): \(error)")
                }
                reached = true
                backoff.reset()
                lastProblem = nil
                // The governor answers again: queued results go now, not after their backoff.
                delivery.withLock { $0.notBefore = 0 }
            } catch {
                if error.episode != lastProblem {
                    let holding = lease.next(after: WallClock.now()).map { "; running the leased runs, the next at \(RFC3339.format($0))" } ?? ""
                    logger.error("\(error.description)\(holding)")
                    lastProblem = error.episode
                }
            }
            let now = WallClock.now()
            // Never a run at or before the last one started (a clock stepped back).
            guard let next = lease.next(after: max(now, Double(lastRun.withLock { $0 }))) else {
                if !ranOut && !reached && lease.leaseUntil > 0 {
                    logger.warning("no leased run is left (the lease ends \(RFC3339.format(lease.leaseUntil))); not testing until the governor answers")
                }
                ranOut = true
                await sleep(seconds: reached ? min(60, Double(settings.askIntervalSeconds)) : backoff.next())
                continue
            }
            ranOut = false
            // Ask again meanwhile (each ask ends a second before the run): soon when
            // unanswered, within ask_interval when answered, so that a run the governor
            // adds before this one (a school reopened by a reload) is heard of.
            let askAt = now + (reached ? Double(settings.askIntervalSeconds) : backoff.next())
            if askAt + 1.5 < Double(next) {
                await sleep(until: askAt)
                continue
            }
            await runIfOnTime(Double(next), deliver: false, grouped: lease.isGrouped(next))
        }
    }

    /// How long a request to the governor may take.
    public static let requestSeconds = 15.0

    /// Waits for `runAt` and runs the test, unless the time is already (or wakes up) too far past.
    /// - Parameter grouped: a group run, which starts at the governor's instant: at
    ///   `runAt` on this probe's clock corrected by its offset estimate, so that the
    ///   probes of a group start together even when their clocks differ a little.
    private func runIfOnTime(_ runAt: Double, deliver: Bool = true, grouped: Bool = false) async {
        let late = WallClock.now() - runAt
        if late > Self.tooLateSeconds {
            logger.warning("run time \(RFC3339.format(UnixTime(runAt))) is already \(Int(late)) s past; not running it")
            await sleep(seconds: 1)
            return
        }
        // The offset used for a group run's start, server minus probe (seconds), is
        // the one its result reports (clock_offset_ms, with the opposite sign).
        let correction = grouped ? clock.withLock { $0.offset } ?? 0 : nil
        let startAt = runAt - (correction ?? 0)
        guard await sleep(until: startAt - 0.05) else { return }
        if WallClock.now() - runAt > Self.tooLateSeconds {
            logger.warning("woke \(Int(WallClock.now() - runAt)) s after the run time (suspend or clock step); not running it")
            return
        }
        if refuses(runAt, from: "the schedule") {
            await sleep(seconds: 1)
            return
        }
        await runAndReport(runAt: runAt, deliver: deliver, correction: correction)
    }

    /// `runs` plus the clock check that every answer allows.
    public func fetchLease(timeout: Double = ProbeLoop.requestSeconds) async throws(GovernorAPI.Failure) -> GovernorAPI.Lease {
        let lease = try await api.lease(horizon: settings.leaseSeconds, timeout: timeout)
        checkClock(sentAt: lease.sentAt, receivedAt: lease.receivedAt, serverTime: lease.serverTime)
        return lease
    }

    /// `next` plus the clock check that every answer allows.
    public func fetchNext() async throws(GovernorAPI.Failure) -> GovernorAPI.ClockedRun {
        let next = try await api.next()
        checkClock(sentAt: next.sentAt, receivedAt: next.receivedAt, serverTime: next.serverTime)
        return next
    }

    private func checkClock(sentAt: Double, receivedAt: Double, serverTime: Double) {
        let offset = clock.withLock { estimator -> Double? in
            estimator.add(sentAt: sentAt, receivedAt: receivedAt, serverTime: serverTime)
            return estimator.offset
        }
        if let offset, abs(offset) > settings.maxClockOffsetSeconds {
            logger.warning("this probe's clock is \(String(format: "%.3f", -offset)) s off the governor's (more than max_clock_offset, \(settings.maxClockOffsetSeconds) s); check NTP")
        }
    }

    /// Runs the test at `runAt` (at once when nil), then queues its result and, with
    /// `deliver`, delivers the queue.
    /// - Parameter correction: for a group run, the clock offset (server minus probe,
    ///   seconds) its start is corrected by: it starts at `runAt - correction` on this
    ///   probe's clock, and the result reports that offset.
    @discardableResult
    public func runAndReport(runAt: Double?, deliver: Bool = true, correction: Double? = nil) async -> CommandOutcome? {
        let scheduled = runAt ?? WallClock.now()
        let startAt = runAt.map { $0 - (correction ?? 0) }
        guard testRunning.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            logger.warning("not starting the run of \(RFC3339.format(UnixTime(scheduled))): the previous test is still running")
            return nil
        }
        defer { testRunning.store(false, ordering: .releasing) }
        if let runAt, let seconds = RunTime.seconds(runAt) {
            // Kept before the test starts: a crash during it does not run it again.
            lastRun.withLock { $0 = max($0, seconds) }
            do {
                try ResultQueue.writeAtomically(Data("\(seconds)\n".utf8), to: settings.lastRunPath)
            } catch {
                logger.error("cannot keep the last run time at \(settings.lastRunPath) (it is held in memory): \(error)")
            }
        }
        let command = settings.command.replacing("{probe}", with: settings.id).replacing("{run_at}", with: RFC3339.format(UnixTime(scheduled)))
        let outcome: CommandOutcome
        do {
            outcome = try await CommandRunner.run(command, startAt: startAt, timeout: Double(settings.timeoutSeconds))
        } catch {
            logger.error("\(error)")
            return nil
        }
        if let realtime = outcome.startedRealtime, startMode.withLock({ $0.change(to: realtime) }) {
            if realtime {
                logger.info("tests start at real-time priority: the probe sleeps to each run's instant and starts it within a millisecond")
            } else {
                logger.notice("tests start by spinning the last 2 ms: real-time priority is not allowed (LimitRTPRIO=1 in the unit, or root, allows it); on a busy box a start can be a few ms late")
            }
        }
        // Against the instant it aimed at: a group run's corrected start.
        let lateness = (outcome.startedAt - (startAt ?? scheduled)) * 1000
        logger.info("test ran", metadata: [
            "run_at": "\(RFC3339.format(UnixTime(scheduled)))", "exit_code": "\(outcome.exitCode)",
            "late_ms": "\(String(format: "%.3f", lateness))", "timed_out": "\(outcome.timedOut)",
        ])
        let report = ResultReport(
            runAt: RFC3339.format(UnixTime(scheduled)), startedAt: RFC3339.format(milliseconds: Int64((outcome.startedAt * 1000).rounded(.down))),
            finishedAt: RFC3339.format(milliseconds: Int64((outcome.finishedAt * 1000).rounded(.down))), exitCode: outcome.exitCode,
            output: outcome.output, clockOffsetMs: correction.map { -$0 * 1000 } ?? clock.withLock { $0.probeMinusServerMs }, startLatenessMs: lateness,
            outputTruncated: outcome.outputTruncated ? true : nil,
            idempotencyKey: runAt == nil ? "run-now-\(UUID().uuidString.lowercased())" : nil)
        keep(report)
        if deliver { await deliverQueued() }
        return outcome
    }

    /// Writes a result to the queue; when that fails, says so and keeps it in memory.
    private func keep(_ report: ResultReport) {
        do {
            try queue.enqueue(report)
        } catch {
            logger.critical("cannot write the result of \(report.runAt) to the queue \(settings.queueDirectory): \(error); it is kept in memory, retried, and lost if the probe stops before the governor takes it")
            unqueued.withLock { $0.append(report) }
        }
    }

    /// Sends the queued results, oldest first, until one cannot be delivered.
    ///
    /// A result leaves the queue when the governor took it (201, or 200 for one it
    /// had already), or when it answers that it can never take it (400
    /// `result_unacceptable`), or when it has waited longer than `queue_max_age`: the
    /// last two are moved to the `rejected` folder with the reason, never dropped.
    /// A 413 `result_too_large` halves the output (flagged as truncated) and sends
    /// again. Any other answer, 404 and 401 included, keeps it for a later try.
    /// - Parameter whenDue: after a failed delivery, wait out the backoff first.
    public func deliverQueued(whenDue: Bool = false) async {
        let now = WallClock.now()
        if whenDue && delivery.withLock({ now < $0.notBefore }) { return }
        // Results the queue could not take: into the queue now, or else straight to the governor.
        for report in unqueued.withLock({ list in defer { list = [] }; return list }) {
            if (try? queue.enqueue(report)) != nil { continue }
            do {
                try await api.report(report)
            } catch {
                unqueued.withLock { $0.append(report) }
            }
        }
        for (name, queued) in queue.pending() {
            var report = queued
            while true {
                do {
                    try await api.report(report)
                    queue.remove(name)
                    delivery.withLock { $0.backoff.reset(); $0.notBefore = 0 }
                    deliveryProblem.withLock { $0 = nil }
                } catch where error.isTooLarge && !report.output.isEmpty {
                    report = report.halvingOutput()
                    logger.warning("the governor takes no result this large; sending the result of \(report.runAt) with its output cut to \(report.output.utf8.count) bytes")
                    try? queue.replace(name, with: report)
                    continue
                } catch where error.isPermanentRejection {
                    reject(name, runAt: report.runAt, reason: "the governor will never take this result: \(error)")
                } catch {
                    if let queuedAt = ResultQueue.enqueuedAt(name), now - queuedAt > Double(settings.queueMaxAgeSeconds) {
                        reject(name, runAt: report.runAt, reason: "not delivered within queue_max_age (\(DurationValue.format(settings.queueMaxAgeSeconds))); the last answer: \(error)")
                        break
                    }
                    let wait = delivery.withLock { state in
                        let wait = state.backoff.next()
                        state.notBefore = now + wait
                        return wait
                    }
                    // Once per episode of the same trouble, not at every try.
                    if deliveryProblem.withLock({ last in defer { last = error.episode }; return last != error.episode }) {
                        logger.warning("\(queue.pending().count) result(s) wait to be delivered (next try in \(Int(wait)) s): \(error)")
                    }
                    return
                }
                break
            }
        }
    }

    private func reject(_ name: String, runAt: String, reason: String) {
        do {
            try queue.reject(name, reason: reason)
            logger.error("the result of \(runAt) is moved to \(queue.rejectedDirectory)/\(name): \(reason)")
        } catch {
            logger.critical("cannot move the result of \(runAt) to \(queue.rejectedDirectory): \(error); it stays queued")
        }
    }

    /// Sleeps in slices, returning false when asked to stop.
    @discardableResult
    private func sleep(until instant: Double) async -> Bool {
        while !isStopping {
            let remaining = instant - WallClock.now()
            if remaining <= 0 { return true }
            try? await Task.sleep(for: .milliseconds(Int(min(remaining, 0.5) * 1000)))
        }
        return false
    }

    private func sleep(seconds: Double) async {
        await sleep(until: WallClock.now() + seconds)
    }
}

/// Capped exponential backoff with jitter: 1 s, 2 s, 4 s… up to `cap` (60 s), each ±25%.
struct Backoff {
    var cap: Double = 60
    private var attempt = 0

    init(cap: Double = 60) {
        self.cap = cap
    }

    mutating func next() -> Double {
        let base = min(cap, pow(2, Double(min(attempt, 30))))
        attempt += 1
        return base * Double.random(in: 0.75...1.25)
    }

    mutating func reset() {
        attempt = 0
    }
}

extension Optional where Wrapped: Equatable {
    /// Sets the value when it differs; returns whether it changed.
    fileprivate mutating func change(to value: Wrapped) -> Bool {
        guard self != value else { return false }
        self = value
        return true
    }
}
