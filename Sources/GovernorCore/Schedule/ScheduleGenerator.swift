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
            school: school.name, window: label, school, needed: needed, available: available)
    }

    /// The window's tests find no room under the fleet-wide cap.
    init(school: SchoolConfig, window: WindowBounds, cap: Int) {
        self.school = school.name
        self.file = school.file
        self.window = window
        needed = school.testsPerWindow * school.timing.testDurationSeconds
        available = Int(window.seconds)
        description = "\(school.file): error: school '\(school.name)': the \(school.testsPerWindow) test(s) of the window at \(window.startBoundary) on "
            + "\(window.localDate) (\(RFC3339.format(window.start)) to \(RFC3339.format(window.end))) find no room under max_concurrent_tests = \(cap): "
            + "the fleet's other tests fill it; raise the cap or move the school's boundaries"
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
/// A `[Group NAME]` of the school takes one slot per run, like one probe, and every
/// probe of the group runs at its instant (``SchoolConfig/units``).
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

    /// Like ``runs(probes:runsPerPeriod:slotSeconds:windowStart:windowSeconds:using:)``
    /// under a fleet-wide cap: every test must start where `gate` allows.
    ///
    /// It first draws placements as the uncapped generator does and keeps the first
    /// the gate allows whole, so that while the cap leaves room the runs are exactly
    /// as uniform as without it (uniform over the placements the cap allows). When
    /// ``cappedAttempts`` draws are refused, it places the tests one after the other,
    /// each uniformly among the starts still allowed that leave room for the rest:
    /// not uniform, but within the cap. Nil when even that finds no room.
    public static func runs<Generator: RandomNumberGenerator>(
        probes: [String], runsPerPeriod: Int, slotSeconds: Int,
        windowStart: UnixTime, windowSeconds: Int64, gate: CapGate, using generator: inout Generator
    ) -> [ScheduledRun]? {
        for _ in 0..<cappedAttempts {
            guard let drawn = runs(probes: probes, runsPerPeriod: runsPerPeriod, slotSeconds: slotSeconds,
                                   windowStart: windowStart, windowSeconds: windowSeconds, using: &generator) else { return nil }
            if drawn.allSatisfy({ gate.allows(offset: $0.runAt - windowStart) }) { return drawn }
        }
        let count = probes.count * runsPerPeriod
        let free = windowSeconds - Int64(count) * Int64(slotSeconds)
        guard free >= 0, count > 0 else { return count == 0 ? [] : nil }
        // The latest start of each test that still leaves allowed starts for the tests
        // after it, from the last test back: with these bounds the forward pass below
        // never paints itself into a corner, so it finds a placement whenever one exists.
        let slot = Int64(slotSeconds)
        var latest = [Int64](repeating: 0, count: count)
        var bound = free + Int64(count - 1) * slot
        for index in stride(from: count - 1, through: 0, by: -1) {
            bound = min(bound, free + Int64(index) * slot)
            var candidate = bound
            while candidate >= Int64(index) * slot && !gate.allows(offset: candidate) { candidate -= 1 }
            guard candidate >= Int64(index) * slot else { return nil }
            latest[index] = candidate
            bound = candidate - slot
        }
        var starts: [Int64] = []
        var earliest: Int64 = 0
        for index in 0..<count {
            let allowed = (earliest...latest[index]).filter { gate.allows(offset: $0) }
            guard let pick = allowed.randomElement(using: &generator) else { return nil }
            starts.append(pick)
            earliest = pick + slot
        }
        var order: [Int] = []
        var round = Array(probes.indices)
        for _ in 0..<runsPerPeriod {
            for index in round.indices { round[index] = index }
            generator.shuffle(&round)
            order += round
        }
        return starts.indices.map { ScheduledRun(probe: probes[order[$0]], runAt: windowStart + starts[$0]) }
    }

    /// How many uncapped draws a capped window tries before placing tests one by one.
    public static let cappedAttempts = 64

    /// The schedule of one of `school`'s windows.
    ///
    /// - Parameter seed: when set, the result is a pure function of the seed, the
    ///   school's name, the window's start and the school's schedule fingerprint;
    ///   otherwise the system's random generator is used.
    /// - Throws: ``ScheduleError`` when the window is too short for its tests.
    /// - Parameter cap: with `[Governor] max_concurrent_tests`, the fleet's tests
    ///   stored so far and the cap: the window's tests keep within it.
    public static func window(_ bounds: WindowBounds, of school: SchoolConfig, seed: UInt64?,
                              cap: (load: FleetLoad, limit: Int)? = nil) throws(ScheduleError) -> ScheduledWindow {
        try window(bounds, of: school, fingerprintHash: seed.map { _ in fingerprintHash(of: school) }, seed: seed, cap: cap)
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

    static func window(_ bounds: WindowBounds, of school: SchoolConfig, fingerprintHash: UInt64?, seed: UInt64?,
                       cap: (load: FleetLoad, limit: Int)? = nil) throws(ScheduleError) -> ScheduledWindow {
        // One slot per unit and run: a probe, or a group whose probes share it.
        let units = school.units
        let names = units.map { $0[0] }
        let timing = school.timing
        var generator: Xoshiro256StarStar
        if let seed, let fingerprintHash {
            generator = Xoshiro256StarStar(seed: windowSeed(seed: seed, fingerprintHash: fingerprintHash, windowStart: bounds.start))
        } else {
            // One call to the system's generator per window seeds a fast one: the
            // system generator is a system call per number, ten times slower overall.
            var system = SystemRandomNumberGenerator()
            generator = Xoshiro256StarStar(drawingFrom: &system)
        }
        let placed: [ScheduledRun]?
        if let cap {
            // A slot of a group holds as many tests as it has probes: it needs that much
            // room under the cap, so the school's slots are drawn against the cap less
            // its largest group's other probes.
            let widest = units.map(\.count).max() ?? 1
            let gate = CapGate(load: cap.load, cap: cap.limit - (widest - 1), window: bounds, duration: timing.testDurationSeconds)
            placed = runs(probes: names, runsPerPeriod: timing.runsPerPeriod, slotSeconds: timing.slotSeconds,
                          windowStart: bounds.start, windowSeconds: bounds.seconds, gate: gate, using: &generator)
            guard let placed else { throw ScheduleError(school: school, window: bounds, cap: cap.limit) }
            return ScheduledWindow(bounds: bounds, runs: expanded(placed, units: units))
        }
        placed = runs(probes: names, runsPerPeriod: timing.runsPerPeriod, slotSeconds: timing.slotSeconds,
                      windowStart: bounds.start, windowSeconds: bounds.seconds, using: &generator)
        guard let placed else {
            throw ScheduleError(school: school, window: bounds, needed: school.slotsPerWindow * timing.slotSeconds)
        }
        return ScheduledWindow(bounds: bounds, runs: expanded(placed, units: units))
    }

    /// The runs of the slots placed for `units` (each named by its first probe): a
    /// group's slot becomes one run per probe of the group, all at its instant.
    static func expanded(_ placed: [ScheduledRun], units: [[String]]) -> [ScheduledRun] {
        guard units.contains(where: { $0.count > 1 }) else { return placed }
        let members = Dictionary(units.map { ($0[0], $0) }, uniquingKeysWith: { first, _ in first })
        return placed.flatMap { slot in (members[slot.probe] ?? [slot.probe]).map { ScheduledRun(probe: $0, runAt: slot.runAt) } }
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
