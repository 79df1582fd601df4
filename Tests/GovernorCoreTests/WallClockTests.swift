import Foundation
import GovernorCore
import Testing

@Suite("The wall clock's waits")
struct WallClockTests {
    /// A wall clock stepped back by an hour while a test's start spins looks, to the
    /// spin, like an instant an hour away: the spin ends by the monotonic clock.
    @Test("a spin toward an instant an hour away gives up after its bound", .timeLimit(.minutes(1)))
    func spinIsBounded() {
        let began = ContinuousClock.now
        WallClock.spinOnly(until: WallClock.now() + 3600, atMost: 0.01)
        #expect(ContinuousClock.now - began < .seconds(5), "the spin ran \(ContinuousClock.now - began)")
    }

    @Test("a spin ends at its instant")
    func spinEndsAtTheInstant() {
        let instant = WallClock.now() + 0.005
        WallClock.spinOnly(until: instant, atMost: 1)
        #expect(WallClock.now() >= instant)
    }
}
