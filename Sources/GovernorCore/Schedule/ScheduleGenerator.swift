import Foundation

/// A test of one probe at one instant.
public struct ScheduledRun: Sendable, Hashable, Codable {
    /// The probe's name: its id (pull) or its address as written (push).
    public var probe: String
    public var runAt: UnixTime

    public init(probe: String, runAt: UnixTime) {
        self.probe = probe
        self.runAt = runAt
    }
}

/// A window with its runs, in time order.
public struct ScheduledWindow: Sendable, Hashable, Codable {
    public var bounds: WindowBounds
    public var runs: [ScheduledRun]

    public init(bounds: WindowBounds, runs: [ScheduledRun]) {
        self.bounds = bounds
        self.runs = runs
    }
}

/// A window cannot hold its tests (on a daylight-saving day a window can be an hour
/// shorter than the load-time check saw).
public struct ScheduleError: Error, Sendable, CustomStringConvertible {
    public var school: String
    public var file: String
    public var window: WindowBounds
    public var needed: Int
    public var available: Int
    public var description: String

    init(school: SchoolConfig, window: WindowBounds, needed: Int) {
        self.school = school.name
        self.file = school.file
        self.window = window
        self.needed = needed
        self.available = Int(window.seconds)
        let label = "\(window.startBoundary) on \(window.localDate) (\(RFC3339.format(window.start)) to \(RFC3339.format(window.end)))"
        description = "\(school.file): error: " + Feasibility.message(
            school: school.name, window: label, school.probes.count, school.timing, needed: needed, available: available)
    }
}

/// Draws run times for a school's windows.
///
/// Every placement of the window's M = probes × runs tests that keeps them inside
/// the window and at least one slot (test duration + delay) apart is equally likely:
/// M offsets are drawn uniformly from `[0, F]`, where F is the window's free time,
/// and sorted; the i-th test starts at `window start + offset_i + i × slot`, rounded
/// to the nearest second (rounding is monotone, so order and spacing survive).
/// The slots form `runsPerPeriod` rounds of one slot per probe, each round an
/// independent random order of the probes, so each probe's runs spread through the window.
public enum ScheduleGenerator {
    /// Places the runs of one window, or returns nil when they do not fit.
    ///
    /// Draws, in this order: M offsets, then one permutation per round.
    public static func runs<Generator: RandomNumberGenerator>(
        probes: [String], runsPerPeriod: Int, slotSeconds: Int,
        windowStart: UnixTime, windowSeconds: Int64, using generator: inout Generator
    ) -> [ScheduledRun]? {
        let count = probes.count * runsPerPeriod
        let free = windowSeconds - Int64(count) * Int64(slotSeconds)
        guard free >= 0, count > 0 else { return count == 0 ? [] : nil }

        var offsets = (0..<count).map { _ in generator.nextUnitInterval() * Double(free) }
        offsets.sort()
        // Shuffle indices rather than names: the same draws, without string copies.
        var order: [Int] = []
        order.reserveCapacity(count)
        var round = Array(probes.indices)
        for _ in 0..<runsPerPeriod {
            for index in round.indices { round[index] = index }
            generator.shuffle(&round)
            order += round
        }
        return offsets.indices.map { index in
            let offset = min(Int64(offsets[index].rounded()), free)
            return ScheduledRun(probe: probes[order[index]], runAt: windowStart + offset + Int64(index) * Int64(slotSeconds))
        }
    }

    /// The schedule of one of `school`'s windows.
    ///
    /// - Parameter seed: when set, the result is a pure function of the seed, the
    ///   school's name, the window's start and the school's schedule fingerprint;
    ///   otherwise the system's random generator is used.
    /// - Throws: ``ScheduleError`` when the window is too short for its tests.
    public static func window(_ bounds: WindowBounds, of school: SchoolConfig, seed: UInt64?) throws(ScheduleError) -> ScheduledWindow {
        try window(bounds, of: school, fingerprintHash: seed.map { _ in fingerprintHash(of: school) }, seed: seed)
    }

    /// The schedules of the windows of `school` that start on `date` (a local date).
    public static func schedule(of school: SchoolConfig, on date: LocalDate, seed: UInt64?) throws(ScheduleError) -> [ScheduledWindow] {
        let hash = seed.map { _ in fingerprintHash(of: school) }
        var windows: [ScheduledWindow] = []
        for bounds in school.windows(on: date) {
            windows.append(try window(bounds, of: school, fingerprintHash: hash, seed: seed))
        }
        return windows
    }

    static func window(_ bounds: WindowBounds, of school: SchoolConfig, fingerprintHash: UInt64?, seed: UInt64?) throws(ScheduleError) -> ScheduledWindow {
        let names = school.probes.map(\.name)
        let timing = school.timing
        let placed: [ScheduledRun]?
        if let seed, let fingerprintHash {
            var generator = Xoshiro256StarStar(seed: windowSeed(seed: seed, fingerprintHash: fingerprintHash, windowStart: bounds.start))
            placed = runs(probes: names, runsPerPeriod: timing.runsPerPeriod, slotSeconds: timing.slotSeconds,
                          windowStart: bounds.start, windowSeconds: bounds.seconds, using: &generator)
        } else {
            // One call to the system's generator per window seeds a fast one: the
            // system generator is a system call per number, ten times slower overall.
            var system = SystemRandomNumberGenerator()
            var generator = Xoshiro256StarStar(drawingFrom: &system)
            placed = runs(probes: names, runsPerPeriod: timing.runsPerPeriod, slotSeconds: timing.slotSeconds,
                          windowStart: bounds.start, windowSeconds: bounds.seconds, using: &generator)
        }
        guard let placed else {
            throw ScheduleError(school: school, window: bounds, needed: school.testsPerWindow * timing.slotSeconds)
        }
        return ScheduledWindow(bounds: bounds, runs: placed)
    }

    static func fingerprintHash(of school: SchoolConfig) -> UInt64 {
        StableHash.fnv1a64(school.scheduleFingerprint, into: StableHash.fnv1a64(school.name + "\u{0}"))
    }

    /// The seed of one window's generator: the configured seed mixed with a stable
    /// hash of the school's name and fingerprint, and with the window's start.
    static func windowSeed(seed: UInt64, fingerprintHash: UInt64, windowStart: UnixTime) -> UInt64 {
        var mixer = SplitMix64(state: seed ^ fingerprintHash)
        var mixed = mixer.next()
        mixed ^= UInt64(bitPattern: windowStart) &* 0xD6E8_FEB8_6659_FD93
        mixer = SplitMix64(state: mixed)
        return mixer.next()
    }
}
