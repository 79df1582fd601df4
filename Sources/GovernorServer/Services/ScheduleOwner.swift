import GovernorCore
import GovernorStore
import Logging

/// Turns the schools' configurations into stored schedules, one window at a time,
/// and answers each probe's "next run" from them.
///
/// A window is generated once: by the scheduler when it starts at the latest, or
/// earlier when a probe asks for a time in it. It is written to the database before
/// any of its times is served and never generated again, so restarts, crashes and
/// reloads leave every announced time as it was. Windows are only generated from the
/// end of the school's last stored window on, so a changed configuration applies
/// from the first window not yet generated and no two windows of a school overlap.
actor ScheduleOwner {
    private let database: any ScheduleStore
    /// The configuration in force: the seed and the fleet-wide cap are read from it at
    /// each drawing, so that no caller passes them.
    private let live: LiveConfiguration
    private let metrics: GovernorMetrics
    private let logger: Logger
    let cache = RunCache()
    /// The end of each school's last stored window.
    private var generatedThrough: [String: UnixTime] = [:]
    /// The end of each school's last window passed over because the school is closed
    /// that day, with the calendar that closed it: the scheduler's pass does not look
    /// at a closed school again until its horizon reaches past this (a weekend, for a
    /// fleet open on weekdays, costs nothing), unless a reload changes the calendar.
    private var closedThrough: [String: (calendar: SchoolCalendar, end: UnixTime)] = [:]
    /// The fleet's stored tests at each second: what `max_concurrent_tests` caps,
    /// and the daily peaks `/metrics` shows.
    private var drawing = CappedDrawing(seed: nil, cap: nil)
    /// Windows that could not be drawn (under the fleet-wide cap), reported once.
    private var refused: Set<WindowKey> = []

    private struct WindowKey: Hashable {
        var school: String
        var start: UnixTime
    }

    /// A window drawn for a request and waiting for its group commit.
    private struct Collected {
        var key: WindowKey
        var school: SchoolConfig
        var drawn: ScheduledWindow
        var now: UnixTime
    }

    /// Windows drawn on demand since the last commit began.
    private var collected: [Collected] = []
    /// The commit that will store ``collected``; nil until a window is collected.
    private var nextCommit: Task<Void, any Error>?
    /// The commit storing now, which the next one waits for.
    private var inFlight: Task<Void, any Error>?
    /// Each window collected or being stored, and the commit that stores it.
    private var committing: [WindowKey: Task<Void, any Error>] = [:]

    /// How far ahead a probe's request may cause windows to be generated.
    static let lookaheadDays = 3

    init(database: any ScheduleStore, live: LiveConfiguration, metrics: GovernorMetrics, logger: Logger) {
        self.database = database
        self.live = live
        self.metrics = metrics
        self.logger = logger
    }

    /// Reads what is stored: how far each school is generated, and the runs to come.
    func load(now: UnixTime, schools: [SchoolConfig]) async throws {
        generatedThrough = try await database.generatedThrough()
        let runs = try await database.runs(from: now + 1)
        cache.insert(runs)
        let durations = Dictionary(schools.map { ($0.name, $0.timing.testDurationSeconds) }, uniquingKeysWith: { first, _ in first })
        for run in runs { drawing.count(runAt: run.runAt, duration: durations[run.school] ?? 0) }
    }

    /// Each UTC day's peak of tests running at once, over the stored runs this
    /// governor knows (its own and those it read at start-up).
    func dailyPeaks() -> [(day: LocalDate, peak: Int)] {
        drawing.load.dailyPeaks()
    }

    /// The probe's earliest stored run strictly after `now`, without waiting.
    nonisolated func cachedNextRun(of probe: String, after now: UnixTime) -> StoredRun? {
        cache.next(for: probe, after: now)
    }

    /// The probe's earliest run strictly after `now`, generating the school's next
    /// windows when none is stored yet; nil when none comes within the lookahead.
    func nextRun(of probe: String, in school: SchoolConfig, after now: UnixTime) async throws -> StoredRun? {
        if let run = cache.next(for: probe, after: now) { return run }
        for window in school.windows(endingAfter: now, openDays: Self.lookaheadDays) {
            try await generate(window, of: school, now: now)
            if let run = cache.next(for: probe, after: now) { return run }
        }
        return nil
    }

    /// Generates, for each school, every window that starts by its `horizon` (the
    /// window holding `now` included) and is not generated yet: the scheduler's pass
    /// over a large fleet is one hop onto this actor and a dictionary lookup per
    /// school, and the windows due are stored in transactions of up to ``storeBatch``.
    /// - Returns: the schools whose windows could not be stored, with the error; and
    ///   the first instant at which a pass with the same horizons has anything to do
    ///   (at or before now when a school is still due: a store that failed).
    func generateDueWindows(of schools: [(school: SchoolConfig, horizon: UnixTime)], now: UnixTime) async
        -> (failures: [(String, any Error)], nextDue: UnixTime) {
        drawing.forget(before: now - 86_400)
        var due: [(school: SchoolConfig, window: ScheduledWindow)] = []
        var looked = 0
        for (school, horizon) in schools where considered(school) <= horizon {
            // A first pass over 10,000 schools draws for a second or more: let the
            // requests waiting on this actor in between.
            looked += 1
            if looked % 250 == 0 { await Task.yield() }
            for bounds in SchoolClock.windows(of: school.timing, endingAfter: now, in: school.timeZone, days: 1)
            where bounds.start <= horizon && bounds.start >= generatedThrough[school.name, default: .min] && school.holdsTests(bounds) {
                if school.calendar.isOpen(on: bounds.localDate) {
                    if let window = draw(bounds, of: school) { due.append((school, window)) }
                } else {
                    closedThrough[school.name] = (school.calendar, max(bounds.end, closedThrough[school.name]?.end ?? .min))
                }
            }
        }
        var failures: [(String, any Error)] = []
        for first in stride(from: 0, to: due.count, by: Self.storeBatch) {
            let batch = due[first..<min(first + Self.storeBatch, due.count)]
            // Probes waiting for a window go first: the group commit collecting theirs
            // is stored before this pass's next batch takes the writer.
            if let waiting = nextCommit ?? inFlight { _ = try? await waiting.value }
            do {
                let stored = try await database.storeWindows(
                    batch.map { NewWindow(school: $0.school.name, window: $0.window, fingerprint: $0.school.scheduleFingerprint) }, generatedAt: now)
                for (entry, window) in zip(batch, stored) { remember(window, of: entry.school, drawn: entry.window, now: now) }
            } catch {
                for entry in batch { count(entry.window, of: entry.school, sign: -1) }
                var named: Set<String> = []
                failures += batch.filter { named.insert($0.school.name).inserted }.map { ($0.school.name, error) }
            }
        }
        // A school is due again when its horizon (now plus its lookahead) reaches the end
        // of what is stored; a school that could not be generated, at once.
        var nextDue = UnixTime.max
        for (school, horizon) in schools {
            let through = considered(school)
            nextDue = min(nextDue, through == .min ? now : through.subtractingReportingOverflow(horizon - now).partialValue)
        }
        return (failures, nextDue)
    }

    /// The end of what the scheduler has dealt with for `school`: its stored windows,
    /// and the windows of its closed days under its calendar as it is now.
    private func considered(_ school: SchoolConfig) -> UnixTime {
        let generated = generatedThrough[school.name, default: .min]
        guard let closed = closedThrough[school.name], closed.end > generated, closed.calendar == school.calendar else { return generated }
        return closed.end
    }

    /// How many windows one transaction stores: few enough that a probe's request
    /// waiting for the writer waits tens of milliseconds (500 windows of 40 runs held
    /// it for 300–600 ms at 100,000 probes), enough that a first start with 10,000
    /// schools is a hundred transactions.
    static let storeBatch = 50

    /// Forgets the future runs of probes that left the configuration or their school,
    /// recording them as cancelled for `reason`.
    func dropRuns(of probes: Set<String>, after now: UnixTime, reason: String) async throws {
        guard !probes.isEmpty else { return }
        cache.remove(probes: probes)
        let dropped = try await database.dropRuns(of: probes, after: now, reason: reason, at: now)
        logger.info("dropped the future runs of probes: \(reason)", metadata: ["probes": "\(probes.sorted().joined(separator: ","))", "runs": "\(dropped)"])
    }

    /// Forgets cancellations of runs more than a day past: no lease holds them.
    nonisolated func forgetCancelledRuns(now: UnixTime) async {
        do {
            try await database.forgetCancelledRuns(before: now - 86_400)
        } catch {
            logger.warning("cannot forget old cancelled runs (retrying in an hour): \(error)")
        }
    }

    /// The probe's runs in `(now, until]`, generating and storing the windows they
    /// need first: what a probe leases. Every run answered is stored, so a fact.
    func leasedRuns(of probe: String, in school: SchoolConfig, after now: UnixTime, through until: UnixTime) async throws -> [StoredRun] {
        let days = Int((until - now) / 86_400) + 2
        for window in school.windows(endingAfter: now, days: days) where window.start <= until {
            try await generate(window, of: school, now: now)
        }
        return cache.upcoming(for: probe, after: now).filter { $0.runAt <= until }
    }

    /// Forgets the stored runs after `now` on the days `school` is closed under its
    /// calendar, except those a probe was told about (`announced`): those are facts,
    /// kept, and not judged. Called when a reload changes a school's calendar.
    /// - Returns: how many runs were dropped.
    @discardableResult
    func dropClosedRuns(of school: SchoolConfig, after now: UnixTime, announced: (StoredRun) -> Bool) async throws -> Int {
        var gone: [StoredRun] = []
        for probe in school.probes {
            gone += cache.upcoming(for: probe.name, after: now).filter { run in
                run.school == school.name && !school.calendar.isOpen(on: LocalDate(containing: run.windowStart, in: school.timeZone)) && !announced(run)
            }
        }
        guard !gone.isEmpty else { return 0 }
        var dropped = 0
        for (label, runs) in Dictionary(grouping: gone, by: { school.calendar.closure(on: LocalDate(containing: $0.windowStart, in: school.timeZone)) ?? "" }) {
            dropped += try await database.dropRuns(runs, reason: "school '\(school.name)' closed: \(label)", at: now)
        }
        cache.remove(gone)
        logger.info("dropped the runs of closed days no probe was told about", metadata: ["school": "\(school.name)", "runs": "\(dropped)"])
        return dropped
    }

    /// Gives the open days of `school` up to the end of its stored schedule the
    /// windows they lack, after a reload changed its calendar: a school reopened by
    /// a reload tests from now on, exactly as if the closure had never been written.
    ///
    /// Windows are generated only after the school's last stored window, so a day a
    /// closure had skipped would otherwise stay empty until then (for a year-long
    /// closure fixed by reload, a year), and a window whose runs a closure dropped
    /// would count as generated. Such empty windows are deleted first (nobody was told
    /// of a run in them); every window that still holds a run stays as it is, and the
    /// days between are drawn as any window is, from the school's seed.
    /// - Returns: how many windows were stored.
    @discardableResult
    func reopen(_ school: SchoolConfig, now: UnixTime) async throws -> Int {
        guard let through = generatedThrough[school.name], through > now else { return 0 }
        closedThrough[school.name] = nil
        let emptied = try await database.dropEmptyWindows(school: school.name, endingAfter: now)
        let stored = try await database.windows(school: school.name, startingFrom: now - 86_400, before: through)
        // What another governor stored for these days (it reloaded first) is this one's answer too.
        cache.insert(stored.flatMap { window in
            window.runs.filter { $0.runAt > now }.map {
                StoredRun(school: school.name, probe: $0.probe, runAt: $0.runAt, windowStart: window.bounds.start, windowEnd: window.bounds.end)
            }
        })
        let days = Int(min((through - now) / 86_400, Int64(SchoolConfig.longestClosureDays))) + 2
        var due: [ScheduledWindow] = []
        for bounds in school.windows(endingAfter: now, days: days) where bounds.start < through {
            guard !stored.contains(where: { $0.bounds.start < bounds.end && bounds.start < $0.bounds.end }),
                  let window = draw(bounds, of: school) else { continue }
            due.append(window)
        }
        guard !due.isEmpty else { return 0 }
        let written: [ScheduledWindow]
        do {
            written = try await database.storeWindows(due.map { NewWindow(school: school.name, window: $0, fingerprint: school.scheduleFingerprint) },
                                                      generatedAt: now)
        } catch {
            for window in due { count(window, of: school, sign: -1) }
            throw error
        }
        for (window, drawn) in zip(written, due) { remember(window, of: school, drawn: drawn, now: now) }
        logger.info("gave the reopened days of a school their windows", metadata: [
            "school": "\(school.name)", "windows": "\(written.count)", "emptied": "\(emptied.count)",
            "through": "\(RFC3339.format(through))",
        ])
        return written.count
    }

    /// The windows that start on a school's local date: those stored, and the bounds
    /// of those not generated yet.
    nonisolated func windows(of school: SchoolConfig, on date: LocalDate) async throws
        -> (start: UnixTime, end: UnixTime, stored: [StoredWindow], ungenerated: [WindowBounds]) {
        let midnight = TimeOfDay(secondsSinceMidnight: 0)!
        let start = SchoolClock.instant(of: midnight, on: date, in: school.timeZone)
        let end = SchoolClock.instant(of: midnight, on: date.adding(days: 1), in: school.timeZone)
        let stored = try await database.windows(school: school.name, startingFrom: start, before: end)
        let ungenerated = school.windows(on: date).filter { bounds in
            !stored.contains { $0.bounds.start < bounds.end && bounds.start < $0.bounds.end }
        }
        return (start, end, stored, ungenerated)
    }

    /// Stores one window a request needs, in a group commit: the windows asked for
    /// while a commit is in flight go together in the next one, so that a fleet asking
    /// on an empty state costs a transaction per batch, not per school. Returns once
    /// the transaction that holds the window is durable: no run is answered before
    /// it is stored.
    private func generate(_ bounds: WindowBounds, of school: SchoolConfig, now: UnixTime) async throws {
        guard bounds.start >= generatedThrough[school.name, default: .min], school.calendar.isOpen(on: bounds.localDate) else { return }
        let key = WindowKey(school: school.name, start: bounds.start)
        if let commit = committing[key] {
            try await commit.value  // another request asked for it first: its commit answers both
            return
        }
        guard let window = draw(bounds, of: school) else { return }
        collected.append(Collected(key: key, school: school, drawn: window, now: now))
        let commit: Task<Void, any Error>
        if let next = nextCommit {
            commit = next
        } else {
            let previous = inFlight
            commit = Task {
                // One transaction at a time: what arrives meanwhile waits for the next.
                _ = try? await previous?.value
                try await self.commitCollected()
            }
            nextCommit = commit
        }
        committing[key] = commit
        try await commit.value
    }

    /// Stores every window collected since the last commit, in transactions of up to
    /// ``storeBatch``; throws the first failure after taking the failed windows back
    /// out of the fleet's load (their requests answer 503; the next asks draw again).
    private func commitCollected() async throws {
        let batch = collected
        collected = []
        inFlight = nextCommit
        nextCommit = nil
        defer { for entry in batch { committing[entry.key] = nil } }
        var failure: (any Error)?
        for first in stride(from: 0, to: batch.count, by: Self.storeBatch) {
            let part = batch[first..<min(first + Self.storeBatch, batch.count)]
            do {
                let stored = try await database.storeWindows(
                    part.map { NewWindow(school: $0.school.name, window: $0.drawn, fingerprint: $0.school.scheduleFingerprint) },
                    // The latest request's clock: a run that had passed when any of its
                    // askers asked counts as never announced, so it is never judged missed.
                    generatedAt: part.map(\.now).max() ?? 0)
                for (entry, window) in zip(part, stored) { remember(window, of: entry.school, drawn: entry.drawn, now: entry.now) }
            } catch {
                for entry in part { count(entry.drawn, of: entry.school, sign: -1) }
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    /// The window's schedule, or nil when it cannot be drawn (reported once). It is
    /// counted in the fleet's load at once, so that the next window drawn (before
    /// either is stored) keeps under the cap with it.
    private func draw(_ bounds: WindowBounds, of school: SchoolConfig) -> ScheduledWindow? {
        let governor = live.snapshot.governor
        drawing.seed = governor.seed
        drawing.cap = governor.maxConcurrentTests
        do {
            return try drawing.draw(bounds, of: school)
        } catch {
            if refused.insert(WindowKey(school: school.name, start: bounds.start)).inserted {
                logger.error("\(error.description)")
            }
            return nil
        }
    }

    private func count(_ window: ScheduledWindow, of school: SchoolConfig, sign: Int) {
        drawing.count(window, of: school, sign: sign)
    }

    /// A window as stored (by this call or an earlier one): its future runs become
    /// answers, and the school is generated through its end.
    private func remember(_ stored: ScheduledWindow, of config: SchoolConfig, drawn: ScheduledWindow, now: UnixTime) {
        let school = config.name
        if stored != drawn {
            // Another request or governor stored its version first: count that one.
            count(drawn, of: config, sign: -1)
            count(stored, of: config, sign: 1)
        }
        metrics.runsScheduled(count: stored.runs.count)
        generatedThrough[school] = max(generatedThrough[school, default: .min], stored.bounds.end)
        cache.insert(stored.runs.filter { $0.runAt > now }.map {
            StoredRun(school: school, probe: $0.probe, runAt: $0.runAt, windowStart: stored.bounds.start, windowEnd: stored.bounds.end)
        })
        logger.debug("generated a window", metadata: [
            "school": "\(school)", "start": "\(RFC3339.format(stored.bounds.start))", "runs": "\(stored.runs.count)",
        ])
    }
}
