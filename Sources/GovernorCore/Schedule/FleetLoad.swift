/// How many tests of the whole fleet run at each second: what `[Governor]
/// max_concurrent_tests` caps. A test at T of duration D occupies `[T, T + D)`.
///
/// Counts are kept per UTC day, a second to an entry, and only for the days that
/// hold runs; ``forget(before:)`` drops the days that have passed.
public struct FleetLoad: Sendable {
    private var days: [Int64: [UInt16]] = [:]

    public init() {}

    /// Counts a test at `runAt` lasting `duration` seconds (`sign` -1 takes one away).
    public mutating func add(runAt: UnixTime, duration: Int, sign: Int = 1) {
        guard duration > 0 else { return }
        var instant = runAt
        let end = runAt.addingReportingOverflow(Int64(duration)).partialValue
        while instant < end {
            let day = Self.day(of: instant)
            let dayStart = day * 86_400
            let upTo = min(end, dayStart + 86_400)
            days[day, default: Array(repeating: 0, count: 86_400)].withUnsafeMutableBufferPointer { counts in
                for second in Int(instant - dayStart)..<Int(upTo - dayStart) {
                    let value = Int(counts[second]) + sign
                    counts[second] = UInt16(clamping: value)
                }
            }
            instant = upTo
        }
    }

    /// The tests running at `instant`.
    public func count(at instant: UnixTime) -> Int {
        let day = Self.day(of: instant)
        return days[day].map { Int($0[Int(instant - day * 86_400)]) } ?? 0
    }

    /// The count of each second of `[from, to)`.
    public func counts(from: UnixTime, to: UnixTime) -> [UInt16] {
        var result: [UInt16] = []
        result.reserveCapacity(Int(max(0, to - from)))
        var instant = from
        while instant < to {
            let day = Self.day(of: instant)
            let dayStart = day * 86_400
            let upTo = min(to, dayStart + 86_400)
            if let counts = days[day] {
                result += counts[Int(instant - dayStart)..<Int(upTo - dayStart)]
            } else {
                result += repeatElement(0, count: Int(upTo - instant))
            }
            instant = upTo
        }
        return result
    }

    /// The most tests running at once in `[from, to)`.
    public func peak(from: UnixTime, to: UnixTime) -> Int {
        Int(counts(from: from, to: to).max() ?? 0)
    }

    /// Each UTC day that holds runs, with its peak: `/metrics` shows them.
    public func dailyPeaks() -> [(day: LocalDate, peak: Int)] {
        days.keys.sorted().map { day in (LocalDate(daysSinceEpoch: Int(day)), Int(days[day]!.max() ?? 0)) }
    }

    /// Forgets the days that end before `instant`.
    public mutating func forget(before instant: UnixTime) {
        let first = Self.day(of: instant)
        for day in days.keys where day < first { days[day] = nil }
    }

    static func day(of instant: UnixTime) -> Int64 {
        instant >= 0 ? instant / 86_400 : (instant - 86_399) / 86_400
    }
}

/// The starts a capped window may use: a test may start at S when fewer than `cap`
/// other tests run anywhere in `[S, S + duration)`.
public struct CapGate: Sendable {
    /// The window's first second.
    let start: UnixTime
    /// `blockedBefore[i]`: how many of the window's first `i` seconds are at the cap.
    private let blockedBefore: [Int32]
    let duration: Int

    public init(load: FleetLoad, cap: Int, window: WindowBounds, duration: Int) {
        start = window.start
        self.duration = duration
        let counts = load.counts(from: window.start, to: window.end)
        var prefix = [Int32](repeating: 0, count: counts.count + 1)
        for offset in counts.indices {
            prefix[offset + 1] = prefix[offset] + (Int(counts[offset]) >= cap ? 1 : 0)
        }
        blockedBefore = prefix
    }

    /// Whether a test may start `offset` seconds into the window.
    public func allows(offset: Int64) -> Bool {
        let from = Int(offset), to = Int(offset) + duration
        guard from >= 0, to < blockedBefore.count else { return false }
        return blockedBefore[to] == blockedBefore[from]
    }
}
