import GovernorCore
import Logging
import Synchronization

/// Stores each school's windows by the time they start.
///
/// A pass looks at every school only when one is due: after each pass it knows the
/// first instant at which any school's window needs storing, and until then, with
/// the same configuration, a pass is one comparison. A fleet of 10,000 schools with
/// four windows a day is thus walked some 40,000 times a day, not 864 million.
final class WindowScheduler: Sendable {
    let live: LiveConfiguration
    let schedule: ScheduleOwner
    let clock: ServerClock
    let logger: Logger
    /// The configuration of the last pass, and when a pass has work again.
    private let pace = Mutex<(snapshot: LiveConfiguration.Snapshot?, nextDue: UnixTime)>((nil, .min))

    init(live: LiveConfiguration, schedule: ScheduleOwner, clock: ServerClock, logger: Logger) {
        self.live = live
        self.schedule = schedule
        self.clock = clock
        self.logger = logger
    }

    /// Generates the windows that start within the next second (and the current
    /// ones), so that every window is stored by the time it starts; a school with push
    /// probes a few seconds earlier, so that they can be connected to before their
    /// first run.
    func generateDueWindows() async {
        let lookahead: UnixTime = 1
        let snapshot = live.snapshot
        let now = clock.seconds
        // The snapshot is held, not its address compared, so a new one is never taken for it.
        if pace.withLock({ $0.snapshot === snapshot && now < $0.nextDue }) { return }
        let pushAhead = max(lookahead, PushDispatcher.scheduleLookahead)
        let due = snapshot.configuration.schools.map { school in
            (school: school, horizon: now + (snapshot.pushSchools.contains(school.name) ? pushAhead : lookahead))
        }
        let (failures, nextDue) = await schedule.generateDueWindows(of: due, now: now)
        for (school, error) in failures {
            logger.error("cannot store the schedule of school '\(school)': \(error)")
        }
        pace.withLock { $0 = (snapshot, nextDue) }
    }
}

/// When a loop (the scheduler's, the alert judgement's) last completed a pass, for the
/// systemd watchdog and the heartbeat URL.
final class LoopHeartbeat: Sendable {
    private let lastPass = Atomic<Int64>(0)

    func beat(at instant: UnixTime) {
        lastPass.store(instant, ordering: .relaxed)
    }

    var last: UnixTime { lastPass.load(ordering: .relaxed) }
}
