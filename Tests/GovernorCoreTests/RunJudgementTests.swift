import Testing

@testable import GovernorCore

@Suite("Run judgement and probe health")
struct RunJudgementTests {
    typealias Facts = RunJudgement.ResultFacts

    /// Run at 1000, settled (test time and grace over) at 1100.
    @Test(arguments: [
        // A result decides, whenever it came.
        (true, Facts(exitCode: 0, failure: nil) as Facts?, nil as Int64?, 1050 as Int64, RunJudgement(.done)),
        (true, Facts(exitCode: 3, failure: nil), 1010, 1200, RunJudgement(.failed)),
        (true, Facts(exitCode: nil, failure: "timeout: the test ran longer than 120 s and was stopped"), nil, 1200, RunJudgement(.failed)),
        (true, Facts(exitCode: nil, failure: "signal: the test was killed by SIGKILL"), nil, 1200, RunJudgement(.failed)),
        // The test ran; its output says it failed: failed, with the kind.
        (true, Facts(exitCode: 0, failure: "unreadable-output: ndt7 output has no summary"), nil, 1200, RunJudgement(.failed, detail: "unreadable-output")),
        (true, Facts(exitCode: 0, failure: "tool-error: download: connection refused"), nil, 1200, RunJudgement(.failed, detail: "tool-error")),
        (false, Facts(exitCode: 0, failure: "rate-limited: 429 Too Many Requests"), nil, 5000, RunJudgement(.failed, detail: "rate-limited")),
        // A push test that never started is a miss, with why.
        (true, Facts(exitCode: nil, failure: "connection-refused: 10.0.0.5:22 refused the connection"), nil, 1200,
         RunJudgement(.missed, reason: .pushFailed, detail: "connection-refused")),
        (true, Facts(exitCode: nil, failure: "config: no [SSH] identity"), nil, 1050, RunJudgement(.missed, reason: .pushFailed, detail: "config")),
        (true, Facts(exitCode: nil, failure: "skipped: the run time had passed"), nil, 1200, RunJudgement(.missed, reason: .skippedLate)),
        (true, Facts(exitCode: nil, failure: "interrupted: the governor stopped"), nil, 1200, RunJudgement(.missed, reason: .interrupted)),
        // No result: pending until settled, then missed, silent or not.
        (true, nil, nil, 1099, RunJudgement(.pending)),
        (true, nil, nil, 1100, RunJudgement(.missed, reason: .silent)),
        (true, nil, 999, 1200, RunJudgement(.missed, reason: .silent)),
        (true, nil, 1000, 1200, RunJudgement(.missed, reason: .noResult)),
        (true, nil, 1500, 2000, RunJudgement(.missed, reason: .noResult)),
        // Never announced: never missed, even when the dispatcher could not run it.
        (false, nil, nil, 5000, RunJudgement(.unannounced)),
        (false, Facts(exitCode: nil, failure: "skipped: the run time had passed"), nil, 5000, RunJudgement(.unannounced)),
        (false, Facts(exitCode: 0, failure: nil), nil, 5000, RunJudgement(.done)),
    ])
    func judge(announced: Bool, result: Facts?, lastContact: Int64?, now: Int64, expected: RunJudgement) {
        #expect(RunJudgement.judge(runAt: 1000, announced: announced, result: result, lastContact: lastContact, settledAt: 1100, now: now) == expected)
    }

    @Test func healthBeforeAnyJudgement() {
        #expect(ProbeHealth(alert: nil, lastContact: nil) == ProbeHealth(state: .neverSeen, since: nil, consecutiveMissed: 0, lastContact: nil))
        #expect(ProbeHealth(alert: nil, lastContact: 70) == ProbeHealth(state: .up, since: 70, consecutiveMissed: 0, lastContact: 70))
    }

    @Test func healthFollowsTheAlertJudgement() {
        var state = ProbeAlertState.new(at: 100, lastContact: nil)
        #expect(ProbeHealth(alert: state, lastContact: nil).state == .neverSeen)
        #expect(ProbeHealth(alert: state, lastContact: nil).since == 100)
        // Contacted, not yet judged again: UP from the contact.
        #expect(ProbeHealth(alert: state, lastContact: 150) == ProbeHealth(state: .up, since: 150, consecutiveMissed: 0, lastContact: 150))
        // The judgement agrees once it has seen the contact.
        let tracker = MissTracker(threshold: 3, graceSeconds: 60)
        _ = tracker.evaluate(&state, runs: [], lastContact: 150, now: 160)
        #expect(ProbeHealth(alert: state, lastContact: 150) == ProbeHealth(state: .up, since: 150, consecutiveMissed: 0, lastContact: 150))
        // Three silent runs: DOWN, also for a probe never seen (DOWN wins).
        var silent = ProbeAlertState.new(at: 0, lastContact: nil)
        _ = tracker.evaluate(&silent, runs: [100, 200, 300], lastContact: nil, now: 400)
        #expect(ProbeHealth(alert: silent, lastContact: nil) == ProbeHealth(state: .down, since: 360, consecutiveMissed: 3, lastContact: nil))
    }
}
