import GovernorCore
import Logging
import Synchronization

/// Stores each school's windows by the time they start.
struct WindowScheduler: Sendable {
    let live: LiveConfiguration
    let schedule: ScheduleBook
    let clock: ServerClock
    let logger: Logger

    /// Generates the windows that start within the next `lookahead` seconds (and the
    /// current ones), so that every window is stored by the time it starts; a school
    /// with push probes a few seconds earlier, so that they can be connected to
    /// before their first run.
    func generateDueWindows(lookahead: UnixTime = 1) async {
        let snapshot = live.snapshot
        let now = clock.seconds
        let pushAhead = max(lookahead, PushDispatcher.scheduleLookahead)
        let due = snapshot.configuration.schools.map { school in
            (school: school, horizon: now + (snapshot.pushSchools.contains(school.name) ? pushAhead : lookahead))
        }
        for (school, error) in await schedule.generateDueWindows(of: due, now: now, seed: snapshot.governor.seed) {
            logger.error("cannot store the schedule of school '\(school)': \(error)")
        }
    }
}

/// When the scheduler loop last completed a pass, for the systemd watchdog.
final class SchedulerHeartbeat: Sendable {
    private let lastPass = Atomic<Int64>(0)

    func beat(at instant: UnixTime) {
        lastPass.store(instant, ordering: .relaxed)
    }

    var last: UnixTime { lastPass.load(ordering: .relaxed) }
}
