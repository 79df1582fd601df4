import Foundation
import GovernorCore
public import Logging
import Synchronization

/// The probe's life: ask for the next run time, wait for it, run the test, report,
/// ask again; through outages, restarts and clock trouble.
public final class ProbeLoop: Sendable {
    public let settings: ProbeSettings
    private let api: GovernorAPI
    private let queue: ResultQueue
    private let logger: Logger
    private let clock = Mutex(ClockOffsetEstimator())
    private let stopping = Atomic<Bool>(false)
    /// A run time is not run when it is this far past (suspend, clock step, late answer).
    public static let tooLateSeconds = 5.0

    public init(settings: ProbeSettings, logger: Logger) throws {
        self.settings = settings
        self.api = GovernorAPI(settings: settings)
        self.queue = try ResultQueue(directory: settings.queueDirectory)
        self.logger = logger
    }

    /// Asks the loop to end: a running test finishes (or meets its timeout), its result
    /// is delivered or queued, and ``run()`` returns.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    public func run() async {
        logger.info("governor-probe \(settings.id) asking \(settings.server)")
        var backoff = Backoff()
        var lastProblem: String?
        while !isStopping {
            await deliverQueued()
            let next: GovernorAPI.NextRun
            do {
                next = try await fetchNext()
                backoff.reset()
                lastProblem = nil
            } catch {
                // Each kind of trouble is logged once, not on every retry.
                if error.description != lastProblem {
                    logger.error("\(error.description); retrying with backoff")
                    lastProblem = error.description
                }
                await sleep(seconds: backoff.next())
                continue
            }
            let late = WallClock.now() - next.runAt
            if late > Self.tooLateSeconds {
                logger.warning("run time \(RFC3339.format(UnixTime(next.runAt))) is already \(Int(late)) s past; not running it")
                await sleep(seconds: 1)
                continue
            }
            guard await sleep(until: next.runAt - 0.05) else { break }
            if WallClock.now() - next.runAt > Self.tooLateSeconds {
                logger.warning("woke \(Int(WallClock.now() - next.runAt)) s after the run time (suspend or clock step); not running it")
                continue
            }
            await runAndReport(runAt: next.runAt)
        }
        await deliverQueued()
        logger.info("governor-probe stopped")
    }

    /// `next` plus the clock check that every answer allows.
    public func fetchNext() async throws(GovernorAPI.Failure) -> GovernorAPI.NextRun {
        let next = try await api.next()
        let offset = clock.withLock { estimator -> Double? in
            estimator.add(sentAt: next.sentAt, receivedAt: next.receivedAt, serverTime: next.serverTime)
            return estimator.offset
        }
        if let offset, abs(offset) > settings.maxClockOffsetSeconds {
            logger.warning("this probe's clock is \(String(format: "%.3f", -offset)) s off the governor's (more than max_clock_offset, \(settings.maxClockOffsetSeconds) s); check NTP")
        }
        return next
    }

    /// Runs the test at `runAt` (at once when nil), then delivers or queues its result.
    @discardableResult
    public func runAndReport(runAt: Double?) async -> CommandOutcome? {
        let scheduled = runAt ?? WallClock.now()
        let command = settings.command.replacing("{probe}", with: settings.id).replacing("{run_at}", with: RFC3339.format(UnixTime(scheduled)))
        let outcome: CommandOutcome
        do {
            outcome = try await CommandRunner.run(command, startAt: runAt, timeout: Double(settings.timeoutSeconds))
        } catch {
            logger.error("\(error)")
            return nil
        }
        let lateness = (outcome.startedAt - scheduled) * 1000
        logger.info("test ran", metadata: [
            "run_at": "\(RFC3339.format(UnixTime(scheduled)))", "exit_code": "\(outcome.exitCode)",
            "late_ms": "\(String(format: "%.3f", lateness))", "timed_out": "\(outcome.timedOut)",
        ])
        let report = ProbeReport(
            runAt: RFC3339.format(UnixTime(scheduled)), startedAt: RFC3339.format(milliseconds: Int64((outcome.startedAt * 1000).rounded(.down))),
            finishedAt: RFC3339.format(milliseconds: Int64((outcome.finishedAt * 1000).rounded(.down))), exitCode: outcome.exitCode,
            output: outcome.output, clockOffsetMs: clock.withLock { $0.probeMinusServerMs }, startLatenessMs: lateness)
        do {
            try queue.enqueue(report)
        } catch {
            logger.error("cannot queue the result in \(settings.queueDirectory): \(error); sending it directly")
            try? await api.report(report)
            return outcome
        }
        await deliverQueued()
        return outcome
    }

    /// Sends the queued results, oldest first, until one cannot be delivered.
    public func deliverQueued() async {
        for (name, report) in queue.pending() {
            do {
                try await api.report(report)
                queue.remove(name)
            } catch where !error.isRetryable {
                logger.error("the governor refused a queued result for \(report.runAt) for good (\(error)); dropping it")
                queue.remove(name)
            } catch {
                logger.warning("\(queue.pending().count) result(s) wait to be delivered: \(error)")
                return
            }
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

/// Capped exponential backoff with jitter: 1 s, 2 s, 4 s… up to 60 s, each ±25%.
struct Backoff {
    private var attempt = 0

    mutating func next() -> Double {
        let base = min(60, pow(2, Double(attempt)))
        attempt += 1
        return base * Double.random(in: 0.75...1.25)
    }

    mutating func reset() {
        attempt = 0
    }
}
