import Foundation
import GovernorCore
import Testing

/// The missed-run rules with an explicit clock: runs every 100 s, grace 10 s.
@Suite("Missed runs")
struct MissTrackerTests {
    let tracker = MissTracker(threshold: 3, graceSeconds: 10)
    let runs: [UnixTime] = [100, 200, 300, 400, 500]

    @Test("three misses in a row: one DOWN; the fourth sends nothing; a contact: one recovery")
    func downOnceThenUp() {
        var state = ProbeAlertState.new(at: 0, lastContact: nil)
        #expect(tracker.evaluate(&state, runs: runs, lastContact: nil, now: 109).isEmpty)  // grace not over
        #expect(tracker.evaluate(&state, runs: runs, lastContact: nil, now: 210).isEmpty)
        #expect(state.consecutiveMissed == 2 && state.status == .up)
        #expect(tracker.evaluate(&state, runs: runs, lastContact: nil, now: 310) == [.wentDown(missedRuns: [100, 200, 300])])
        #expect(state.status == .down && state.since == 310)
        #expect(tracker.evaluate(&state, runs: runs, lastContact: nil, now: 410).isEmpty)
        #expect(state.consecutiveMissed == 4)
        #expect(tracker.evaluate(&state, runs: runs, lastContact: 450, now: 451) == [.recovered(downSince: 310, missedCount: 4)])
        #expect(state.status == .up && state.consecutiveMissed == 0)
        #expect(tracker.evaluate(&state, runs: runs, lastContact: 450, now: 520).isEmpty, "the run at 500 is a miss, the first of a new streak")
        #expect(state.consecutiveMissed == 1)
    }

    @Test("a contact within the grace counts for the run; one between runs ends the streak")
    func contactsEndStreaks() {
        var state = ProbeAlertState.new(at: 0, lastContact: nil)
        _ = tracker.evaluate(&state, runs: runs, lastContact: nil, now: 210)
        #expect(state.consecutiveMissed == 2)
        _ = tracker.evaluate(&state, runs: runs, lastContact: 305, now: 310)
        #expect(state.consecutiveMissed == 0)
        _ = tracker.evaluate(&state, runs: runs, lastContact: 305, now: 510)
        #expect(state.consecutiveMissed == 2 && state.status == .up)
    }

    @Test("a restart resumes from the stored state and counts the runs missed while down")
    func restart() throws {
        var state = ProbeAlertState.new(at: 0, lastContact: nil)
        _ = tracker.evaluate(&state, runs: runs, lastContact: nil, now: 110)
        let stored = try JSONEncoder().encode(state)
        // The governor was down from 150 to 420; on start-up the runs at 200, 300 and 400 are judged.
        var restored = try JSONDecoder().decode(ProbeAlertState.self, from: stored)
        #expect(tracker.evaluate(&restored, runs: runs, lastContact: nil, now: 420) == [.wentDown(missedRuns: [100, 200, 300])])
        #expect(restored.consecutiveMissed == 4)
        // Evaluating again at the same time sends nothing twice.
        #expect(tracker.evaluate(&restored, runs: runs, lastContact: nil, now: 420).isEmpty)
    }

    @Test("reminders every 'repeat' while DOWN, when configured")
    func reminders() {
        let repeating = MissTracker(threshold: 1, graceSeconds: 10, repeatSeconds: 150)
        var state = ProbeAlertState.new(at: 0, lastContact: nil)
        #expect(repeating.evaluate(&state, runs: runs, lastContact: nil, now: 110) == [.wentDown(missedRuns: [100])])
        #expect(repeating.evaluate(&state, runs: runs, lastContact: nil, now: 200).isEmpty)
        #expect(repeating.evaluate(&state, runs: runs, lastContact: nil, now: 260) == [.stillDown(missedRuns: [100, 200], downSince: 110)])
    }

    @Test("a probe heard from before its first run is never DOWN")
    func newProbe() {
        var state = ProbeAlertState.new(at: 50, lastContact: 40)
        #expect(tracker.evaluate(&state, runs: [40, 100], lastContact: 40, now: 111).isEmpty, "runs before it was first tracked are not judged")
        #expect(state.consecutiveMissed == 1)
    }
}
