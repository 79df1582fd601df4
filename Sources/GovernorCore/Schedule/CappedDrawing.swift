/// Draws windows the way the governor stores them: each window's tests against the
/// fleet's tests drawn before it, so that under `[Governor] max_concurrent_tests` no
/// second holds more than the cap. The one home of that rule: the server's schedule
/// owner draws through it one window at a time, `governor schedule` a span of days.
public struct CappedDrawing: Sendable {
    /// `[Governor] seed`: nil draws from the system's random generator.
    public var seed: UInt64?
    /// `[Governor] max_concurrent_tests`: nil draws each window on its own.
    public var cap: Int?
    /// The fleet's tests drawn (and not taken back) so far.
    public private(set) var load = FleetLoad()

    public init(seed: UInt64?, cap: Int?) {
        self.seed = seed
        self.cap = cap
    }

    /// Draws one window and counts its tests in ``load``.
    /// - Throws: ``ScheduleError`` when the window is too short for its tests, or
    ///   (under a cap) cannot hold them without passing the cap.
    public mutating func draw(_ bounds: WindowBounds, of school: SchoolConfig) throws(ScheduleError) -> ScheduledWindow {
        let window = try ScheduleGenerator.window(bounds, of: school, seed: seed, cap: cap.map { (load, $0) })
        count(window, of: school)
        return window
    }

    /// Draws `windows` in time order (then by school name), each against those before
    /// it; each result in that order.
    public mutating func drawInOrder(_ windows: [(school: SchoolConfig, bounds: WindowBounds)])
        -> [(school: SchoolConfig, drawn: Result<ScheduledWindow, ScheduleError>)] {
        var results: [(school: SchoolConfig, drawn: Result<ScheduledWindow, ScheduleError>)] = []
        for entry in windows.sorted(by: { ($0.bounds.start, $0.school.name) < ($1.bounds.start, $1.school.name) }) {
            do throws(ScheduleError) {
                results.append((entry.school, .success(try draw(entry.bounds, of: entry.school))))
            } catch {
                results.append((entry.school, .failure(error)))
            }
        }
        return results
    }

    /// Counts a window's tests (`sign` -1 takes them back: a window not stored, or
    /// replaced by the version another governor stored first).
    public mutating func count(_ window: ScheduledWindow, of school: SchoolConfig, sign: Int = 1) {
        for run in window.runs { load.add(runAt: run.runAt, duration: school.timing.testDurationSeconds, sign: sign) }
    }

    /// Counts stored runs read back at start-up.
    public mutating func count(runAt: UnixTime, duration: Int) {
        load.add(runAt: runAt, duration: duration)
    }

    /// Drops the days before `instant`.
    public mutating func forget(before instant: UnixTime) {
        load.forget(before: instant)
    }
}
