#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's real-time clock, which run times are scheduled on: read, and waited
/// on precisely, by the push dispatcher and the probe alike.
///
/// The core's own logic never reads it (it takes time as a parameter); this is for
/// the edges that start tests at their instant.
public enum WallClock {
    /// Seconds since the epoch, with nanosecond resolution.
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Sleeps until the wall clock reads `instant`.
    ///
    /// The wait follows the real-time clock (`TIMER_ABSTIME`), so an NTP step while
    /// waiting moves the wake-up with it. It sleeps in slices of at most 200 ms to
    /// notice cancellation of the current task, and the last slice ends on the
    /// instant itself (a few hundred microseconds late, as the kernel wakes).
    /// - Important: This blocks its thread; call it from a thread of its own, never
    ///   from an event loop or the cooperative pool.
    /// - Returns: false when the task was cancelled before the instant.
    @discardableResult
    public static func sleep(until instant: Double) -> Bool {
        while true {
            if Task.isCancelled { return false }
            let remaining = instant - now()
            if remaining <= 0 { return true }
            let target = remaining > 0.2 ? now() + 0.2 : instant
            var spec = timespec(tv_sec: Int(target.rounded(.down)), tv_nsec: Int((target - target.rounded(.down)) * 1e9))
            _ = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &spec, nil)
        }
    }

    /// Sleeps until `lead` seconds (2 ms) before `instant`, then spins the rest, for a
    /// start within microseconds of the instant.
    /// - Important: Blocks its thread, as ``sleep(until:)``.
    /// - Returns: false when the task was cancelled before the instant.
    @discardableResult
    public static func spin(until instant: Double, lead: Double = 0.002) -> Bool {
        guard sleep(until: instant - lead) else { return false }
        spinOnly(until: instant, atMost: lead)
        return true
    }

    /// Spins until `instant`, for `atMost` seconds plus 1 ms by the monotonic clock:
    /// a wall clock stepped back while spinning ends the spin, not the processor.
    public static func spinOnly(until instant: Double, atMost seconds: Double) {
        let deadline = ContinuousClock.now + .microseconds(Int64((seconds * 1e6).rounded()) + 1000)
        while now() < instant && ContinuousClock.now < deadline {}
    }
}
