import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Dispatches the push probes' runs over SSH, each at its scheduled second.
///
/// Four times a second it looks for stored runs of push probes due within
/// ``lead`` seconds that no dispatch has claimed. Each is claimed in the database
/// before anything else happens, so a run is never dispatched twice, not even
/// across a restart. A claimed run gets its own task, which connects and
/// authenticates at once and sends the command at the run time on the open
/// session. Dispatches are independent: a probe that hangs costs its own task and
/// thread until its `connect_timeout` / `timeout`, and delays nobody else.
struct PushDispatcher: Service {
    let live: LiveConfiguration
    let database: any DispatchStore
    let contacts: ContactCache
    let results: ResultRecorder
    let clock: ServerClock
    let logger: Logger
    /// This governor among those sharing the state: the holder of its claims.
    let instance: String
    /// How often orphaned claims (of governors that died) are looked for after start-up.
    static let orphanCheckSeconds: UnixTime = 5

    /// How long before a run its probe is connected to. Connecting and authenticating
    /// takes 40–90 ms on a LAN; a slow probe gets the rest of this head start.
    static let lead: UnixTime = 3
    /// How far ahead the scheduler stores the windows of schools with push probes, so
    /// that the dispatcher sees each run at least ``lead`` seconds before it.
    static let scheduleLookahead: UnixTime = lead + 2

    func run() async throws {
        await recoverUnfinished()
        var checked = clock.seconds
        await withDiscardingTaskGroup { group in
            var firstPass = true
            for await _ in AsyncTimerSequence(interval: .milliseconds(250), clock: .continuous).cancelOnGracefulShutdown() {
                for (run, target) in await claimDueRuns(firstPass: firstPass) {
                    group.addTask { await dispatch(run, target) }
                }
                firstPass = false
                if clock.seconds - checked >= Self.orphanCheckSeconds {
                    checked = clock.seconds
                    await recoverUnfinished()
                }
            }
            // Stopping: tests in flight are stopped and recorded as interrupted.
            group.cancelAll()
        }
    }

    /// Records as interrupted the runs claimed by a governor that is gone (this one's
    /// previous process, or another that died) before it finished them. When several
    /// governors find the same orphan, one records it.
    func recoverUnfinished() async {
        do {
            for run in try await database.orphanedDispatches(holder: instance) {
                let entry = live.snapshot.probes[run.probe]
                let recorded = try await database.interruptOrphan(run, result: TestResult(
                    probe: run.probe, school: run.school, mode: .push, runAt: run.runAt, startedAtMs: nil, finishedAtMs: nil, exitCode: nil,
                    failure: RunFailure.text(RunFailure.interrupted, "the governor stopped while this test was in flight; it is not run again"),
                    output: "", outputTruncated: false, clockOffsetMs: nil, receivedAt: clock.seconds), holder: instance, at: clock.seconds)
                guard recorded else { continue }
                logger.warning("a push run was in flight when its governor stopped; recorded as interrupted", metadata: [
                    "probe": "\(run.probe)", "run_at": "\(RFC3339.format(run.runAt))", "configured": "\(entry != nil)",
                ])
            }
        } catch {
            logger.error("cannot record the dispatches interrupted by a stopped governor: \(error)")
        }
    }

    /// Claims every due run: the ones whose time has passed by more than
    /// `max_lateness` as skipped, the others for dispatch.
    func claimDueRuns(firstPass: Bool) async -> [(StoredRun, Result<PushTarget, PushTargetError>)] {
        let snapshot = live.snapshot
        let pushProbes = snapshot.pushProbes
        guard !pushProbes.isEmpty else { return [] }
        let now = clock.seconds
        var claimed: [(StoredRun, Result<PushTarget, PushTargetError>)] = []
        do {
            // The first pass also finds runs missed while the governor was down; later
            // passes look back ten minutes (everything older was settled by then).
            let due = try await database.undispatchedRuns(of: pushProbes, from: firstPass ? 0 : now - 600, through: now + Self.lead)
            for run in due {
                guard let entry = snapshot.probes[run.probe], entry.school == run.school, let school = snapshot.schools[run.school] else { continue }
                let target = Result { () throws(PushTargetError) in try PushTarget.resolve(entry.probe, of: school, governor: snapshot.governor) }
                let maxLateness = (try? target.get().maxLatenessSeconds) ?? snapshot.governor.sshDefaults.maxLatenessSeconds ?? PushTarget.defaultMaxLatenessSeconds
                if now - run.runAt > maxLateness {
                    try await skip(run, late: now - run.runAt, maxLateness: maxLateness)
                } else if try await database.claimDispatch(of: run, at: now, holder: instance) {
                    claimed.append((run, target))
                }
            }
        } catch {
            logger.error("cannot read or claim the push runs that are due (retrying): \(error)")
        }
        return claimed
    }

    private func skip(_ run: StoredRun, late: UnixTime, maxLateness: Int) async throws {
        let stored = try await database.finishDispatch(of: run, as: .skipped, result: TestResult(
            probe: run.probe, school: run.school, mode: .push, runAt: run.runAt, startedAtMs: nil, finishedAtMs: nil, exitCode: nil,
            failure: RunFailure.text(RunFailure.skipped, "the run time had passed by \(late) s (more than max_lateness, \(maxLateness) s) when the dispatcher saw it; the governor was not running or the clock jumped"),
            output: "", outputTruncated: false, clockOffsetMs: nil, receivedAt: clock.seconds), at: clock.seconds, claimIfNeeded: true)
        guard let stored else { return }  // another governor finished it first
        results.stored(stored)
        logger.warning("skipped a push run whose time had passed", metadata: [
            "probe": "\(run.probe)", "run_at": "\(RFC3339.format(run.runAt))", "late_s": "\(late)",
        ])
    }

    /// Runs one claimed run and stores its result.
    func dispatch(_ run: StoredRun, _ target: Result<PushTarget, PushTargetError>) async {
        let limit = live.snapshot.governor.maxOutputBytes
        var result = TestResult(probe: run.probe, school: run.school, mode: .push, runAt: run.runAt, startedAtMs: nil, finishedAtMs: nil,
                                exitCode: nil, output: "", outputTruncated: false, clockOffsetMs: nil, receivedAt: 0)
        result.group = live.snapshot.probes[run.probe]?.group
        var finalState = DispatchState.done
        switch target {
        case .failure(let error):
            result.failure = RunFailure.text(RunFailure.config, error.message)
        case .success(let target):
            let outcome = await PushRunner.run(target, runAt: run.runAt, startAt: Double(run.runAt), outputLimit: limit)
            if case .failure(let error) = outcome.result, error.kind == .cancelled {
                finalState = .interrupted
                result.failure = RunFailure.text(RunFailure.interrupted, "the governor stopped while this test was in flight; it is not run again")
            } else {
                result.failure = outcome.failure
            }
            if case .success(let command) = outcome.result {
                result.startedAtMs = Int64((command.startedAt * 1000).rounded())
                result.finishedAtMs = Int64((command.finishedAt * 1000).rounded())
                result.exitCode = command.exitStatus
                result.outputTruncated = command.outputTruncated
            }
            let (output, cut) = ResultOutput.storable(outcome.output, limit: limit)
            result.output = output
            result.outputTruncated = result.outputTruncated || cut
            if outcome.reachedProbe {
                contacts.record(run.probe, at: clock.seconds)
            }
            logOutcome(outcome, run: run)
        }
        result.receivedAt = clock.seconds
        ResultReading.apply(to: &result, format: live.snapshot.resultFormat(of: run.school))
        do {
            if let stored = try await database.finishDispatch(of: run, as: finalState, result: result, at: result.receivedAt) {
                results.stored(stored)
            } else {
                // This governor stalled past its presence lease, and another recorded the
                // run as interrupted: that record stands, and the run keeps one result.
                logger.warning("the result of a push run came after another governor had recorded the run as interrupted; it is not stored", metadata: [
                    "probe": "\(run.probe)", "run_at": "\(RFC3339.format(run.runAt))",
                    "exit_status": "\(result.exitCode.map(String.init) ?? "none")", "output_bytes": "\(result.output.utf8.count)",
                ])
            }
        } catch {
            logger.error("cannot store the result of a push run: \(error)", metadata: ["probe": "\(run.probe)", "run_at": "\(RFC3339.format(run.runAt))"])
        }
    }

    private func logOutcome(_ outcome: PushOutcome, run: StoredRun) {
        var metadata: Logger.Metadata = ["probe": "\(run.probe)", "school": "\(run.school)", "run_at": "\(RFC3339.format(run.runAt))"]
        switch outcome.result {
        case .success(let command):
            metadata["exit_status"] = "\(command.exitStatus.map(String.init) ?? "none")"
            metadata["late_ms"] = "\(Int(((command.startedAt - Double(run.runAt)) * 1000).rounded()))"
            if let failure = outcome.failure {
                logger.warning("push test did not finish: \(failure)", metadata: metadata)
            } else {
                logger.info("push test ran", metadata: metadata)
            }
        case .failure(let error):
            metadata["reason"] = "\(error.kind.rawValue)"
            logger.warning("push dispatch failed: \(error.message)", metadata: metadata)
        }
    }
}
