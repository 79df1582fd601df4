public import GovernorCore

/// Where schedules are facts: generated windows and their runs.
///
/// One of the state's parts, each a protocol of its own, so that a backend can be
/// built and tested a part at a time: ``SQLiteState`` keeps them in one SQLite file
/// for one governor; `PostgresState` (module GovernorPostgres) keeps them in a
/// PostgreSQL database that several governors share.
///
/// Every implementation stores a window at most once: when two callers (two
/// requests, or two governors) store the same window, exactly one version is
/// written and both get that version back.
public protocol ScheduleStore: Sendable {
    /// Stores each window unless it is stored already, in one transaction, and
    /// returns, in order, what is stored: a schedule, once written, is never replaced.
    func storeWindows(_ windows: [NewWindow], generatedAt: UnixTime) async throws -> [ScheduledWindow]

    /// The stored windows of `school` that start in `[from, to)`, in time order, with their runs.
    func windows(school: String, startingFrom from: UnixTime, before to: UnixTime) async throws -> [StoredWindow]

    /// The end of the latest stored window of each school.
    func generatedThrough() async throws -> [String: UnixTime]

    /// The runs at or after `instant`, in time order, with their windows.
    func runs(from instant: UnixTime) async throws -> [StoredRun]

    /// Deletes the runs after `instant` of the given probes, recording each as
    /// cancelled for `reason` at `now`; their windows and every other probe's runs
    /// stay. Returns how many were deleted.
    @discardableResult
    func dropRuns(of probes: Set<String>, after instant: UnixTime, reason: String, at now: UnixTime) async throws -> Int
    /// Deletes these runs (by probe and time), recording each as cancelled for
    /// `reason` at `now`; their windows stay. Returns how many were deleted.
    @discardableResult
    func dropRuns(_ runs: [StoredRun], reason: String, at now: UnixTime) async throws -> Int
    /// The cancelled runs of `probe` after `instant`, in time order: what a probe
    /// holding a lease must forget.
    func cancelledRuns(probe: String, after instant: UnixTime) async throws -> [CancelledRun]
    /// Forgets the cancellations of runs before `instant`.
    func forgetCancelledRuns(before instant: UnixTime) async throws
    /// Deletes the windows of `school` that end after `instant` and hold no run (a
    /// closure took them all, and nobody was told of any), so that their days can be
    /// drawn anew when they open again. Returns the starts of those deleted.
    func dropEmptyWindows(school: String, endingAfter instant: UnixTime) async throws -> [UnixTime]
}

/// A run that was stored and then withdrawn (its probe left the school, its day was
/// closed), so that a probe that leased it learns not to run it.
public struct CancelledRun: Sendable, Equatable {
    public var runAt: UnixTime
    public var reason: String

    public init(runAt: UnixTime, reason: String) {
        self.runAt = runAt
        self.reason = reason
    }
}

extension ScheduleStore {
    /// Stores one window unless it is stored already, and returns what is stored.
    public func storeWindow(school: String, _ window: ScheduledWindow, fingerprint: String, generatedAt: UnixTime) async throws -> ScheduledWindow {
        try await storeWindows([NewWindow(school: school, window: window, fingerprint: fingerprint)], generatedAt: generatedAt)[0]
    }
}

