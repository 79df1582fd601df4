#if canImport(Glibc)
import Glibc
#endif

/// The system's real-time clock, which run times are scheduled on.
enum WallClock {
    /// Seconds since the epoch, with nanosecond resolution.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Sleeps until the wall clock reads `instant`.
    ///
    /// The wait follows the real-time clock (`TIMER_ABSTIME`), so an NTP step while
    /// waiting moves the wake-up with it. It sleeps in slices of at most 200 ms to
    /// notice cancellation, and the last slice ends on the instant itself.
    static func sleep(until instant: Double) throws(SSHError) {
        while true {
            if Task.isCancelled { throw SSHError(.cancelled, "the wait for the run time was cancelled") }
            let remaining = instant - now()
            if remaining <= 0 { return }
            let target = remaining > 0.2 ? now() + 0.2 : instant
            var spec = timespec(tv_sec: Int(target.rounded(.down)), tv_nsec: Int((target - target.rounded(.down)) * 1e9))
            _ = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &spec, nil)
        }
    }
}

/// A command's stdout and stderr, kept up to a shared limit.
struct OutputCollector {
    let limit: Int
    private(set) var stdout: [UInt8] = []
    private(set) var stderr: [UInt8] = []
    private(set) var truncated = false

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func append(_ bytes: Slice<UnsafeRawBufferPointer>, stderr isStderr: Bool) {
        let room = limit - stdout.count - stderr.count
        let kept = bytes.prefix(max(0, room))
        if kept.count < bytes.count { truncated = true }
        if isStderr { stderr.append(contentsOf: kept) } else { stdout.append(contentsOf: kept) }
    }
}
