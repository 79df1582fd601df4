import GovernorCore
import GovernorStore
import Logging
import Synchronization

/// Everything the HTTP handlers and the background services share.
final class GovernorState: Sendable {
    let configPath: String
    let live: LiveConfiguration
    let database: AppDatabase
    let schedule: ScheduleBook
    let contacts = ContactBook()
    let alerts = AlertBook()
    let clock: ServerClock
    let metrics: GovernorMetrics
    let logger: Logger
    /// When the scheduler loop last completed a pass, for the systemd watchdog.
    let schedulerHeartbeat = Atomic<Int64>(0)
    let startedAt: Double

    init(configPath: String, configuration: Configuration, database: AppDatabase, clock: ServerClock = .system, logger: Logger) {
        self.configPath = configPath
        self.live = LiveConfiguration(configuration)
        self.database = database
        let startedAt = clock.now()
        let metrics = GovernorMetrics(startedAt: startedAt)
        self.schedule = ScheduleBook(database: database, metrics: metrics, logger: logger)
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.startedAt = startedAt
    }

    /// Everything that follows a stored result, pull or push: the results log and the
    /// run counters.
    func resultStored(_ result: TestResult) {
        ResultsLog.append(result, to: live.snapshot.governor.resultsLog, logger: logger)
        metrics.runFinished(school: result.school, succeeded: result.failure == nil && result.exitCode == 0)
        if let started = result.startedAtMs, let runAt = result.runAt {
            metrics.startLateness(mode: result.mode.rawValue, seconds: Double(started - runAt * 1000) / 1000)
        }
    }

    /// Reads the stored schedule and contacts; call once before serving.
    func load() async throws {
        try await schedule.load(now: clock.seconds)
        contacts.load(try await database.contacts())
    }

    /// Generates the windows that start within the next `lookahead` seconds (and the
    /// current ones), so that every window is stored by the time it starts; a school
    /// with push probes a few seconds earlier, so that they can be connected to
    /// before their first run.
    func generateDueWindows(lookahead: UnixTime = 1) async {
        let snapshot = live.snapshot
        let now = clock.seconds
        for school in snapshot.configuration.schools {
            let ahead = school.probes.contains { $0.mode == .push } ? max(lookahead, PushDispatcher.scheduleLookahead) : lookahead
            do {
                try await schedule.generateWindows(of: school, startingBy: now + ahead, now: now, seed: snapshot.governor.seed)
            } catch {
                logger.error("cannot store the schedule of school '\(school.name)': \(error)")
            }
        }
    }
}
