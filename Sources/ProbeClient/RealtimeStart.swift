import GovernorCore
#if canImport(Glibc)
import Glibc
#endif

/// The last moments before a test starts, at real-time priority when the probe may
/// have it: the one place the probe changes its scheduling (glibc's `sched_*`).
///
/// Spinning the last 2 ms starts a test within microseconds of its instant on a box
/// doing nothing else. On a busy one, or with several probes on one host (a group
/// run tried on one machine), spinning threads share the cores and one preempted
/// near the instant starts milliseconds late. A `SCHED_FIFO` thread instead preempts
/// every ordinary one the moment its timer fires, so it sleeps to 0.2 ms before the
/// instant and spins only those (the timer's own lateness, ~60 µs here), then
/// spawns. The policy is the calling thread's alone, for the wait
/// and the spawn; the test inherits none of it (`SCHED_RESET_ON_FORK`), and the
/// thread goes back to its ordinary policy right after.
///
/// Allowed for root, or under systemd with `LimitRTPRIO=1` (the probe's unit sets
/// it); without it the wait spins as before.
public enum RealtimeStart {
    /// How to wait: as the probe does, or spinning without trying real-time priority
    /// (what a probe that may not have it does; the benchmark compares the two).
    public enum Policy: Sendable {
        case realtimeWhenAllowed
        case spin
    }

    /// The lowest real-time priority: above every ordinary thread, below the kernel's.
    static let priority: Int32 = 1

    /// Waits for `instant` (wall clock) and calls `spawn`, at real-time priority when
    /// it can be had.
    /// - Returns: what `spawn` returned, and whether the wait was at real-time priority.
    static func at<T>(_ instant: Double, policy: Policy = .realtimeWhenAllowed, _ spawn: () throws -> T) rethrows -> (result: T, realtime: Bool) {
        var raised = sched_param(sched_priority: priority)
        let isRealtime = policy == .realtimeWhenAllowed && sched_setscheduler(0, SCHED_FIFO | Self.resetOnFork, &raised) == 0
        defer {
            if isRealtime {
                var ordinary = sched_param(sched_priority: 0)
                _ = sched_setscheduler(0, SCHED_OTHER, &ordinary)
            }
        }
        if isRealtime {
            // The timer wakes ~60 µs late; a spin of the last 200 µs at this priority
            // takes that back and holds a core no longer than that.
            WallClock.sleep(until: instant - Self.realtimeSpin)
            WallClock.spinOnly(until: instant, atMost: Self.realtimeSpin)
        } else {
            WallClock.spin(until: instant)
        }
        return (try spawn(), isRealtime)
    }

    /// The spin at the end of a real-time wait (seconds).
    static let realtimeSpin = 0.000_2

    /// `SCHED_RESET_ON_FORK` (linux/sched.h): a child starts with the ordinary policy.
    static let resetOnFork: Int32 = 0x4000_0000
}
