import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// The parts of one governor, each built once.
///
/// This is the composition root, not a hub: it is never handed to a controller or
/// a service. ``buildRouter(_:benchmarkRoutes:)`` and ``services(notifier:)`` give
/// each of them only the parts it uses, so a type's stored properties say what it
/// depends on. Tests build one to reach the parts they check.
struct GovernorComponents: Sendable {
    let live: LiveConfiguration
    let database: any StateStore
    let schedule: ScheduleOwner
    let contacts: ContactCache
    let alerts: AlertReadModel
    let metrics: GovernorMetrics
    let clock: ServerClock
    let logger: Logger
    let latest: LatestResults
    let measurements: MeasurementReadModel
    let egress: EgressReadModel
    /// The silences in force, to come and ended lately.
    let silences: SilenceReadModel
    /// The incidents open and of the last week.
    let incidents: IncidentReadModel
    let status: FleetStatus
    let results: ResultRecorder
    let scheduler: WindowScheduler
    let reloader: ConfigurationReloader
    let authFailures: AuthFailureLimiter
    let stateHealth: StateHealth
    /// An outage of the state, logged once per episode by whichever part meets it.
    let outages: StateOutageLog
    /// The scheduler loop's passes.
    let heartbeat = LoopHeartbeat()
    /// The alert judgement's passes (or, while another governor judges, its following).
    let judgementHeartbeat = LoopHeartbeat()
    /// Whether this governor judges missed runs now, for the Alertmanager service.
    let judge = JudgeStatus()
    /// The heartbeat's calls, for the email of an incident that may be the governor's own network.
    let heartbeatCalls = HeartbeatCalls()
    /// This process among the governors that may share the state: host, PID and a
    /// random part, so that a restarted governor is a new holder of leases and claims.
    let instance = GovernorComponents.makeInstance()

    init(configPath: String, configuration: Configuration, database: any StateStore, clock: ServerClock = .system, logger: Logger) {
        let live = LiveConfiguration(configuration)
        let startedAt = clock.now()
        let metrics = GovernorMetrics(startedAt: startedAt)
        let schedule = ScheduleOwner(database: database, live: live, metrics: metrics, logger: logger)
        let contacts = ContactCache()
        let alerts = AlertReadModel()
        let latest = LatestResults()
        let measurements = MeasurementReadModel(followsOthers: database is any SharedStateFeed)
        let egress = EgressReadModel(live: live)
        self.egress = egress
        let silences = SilenceReadModel()
        self.silences = silences
        let incidents = IncidentReadModel()
        self.incidents = incidents
        self.measurements = measurements
        self.latest = latest
        self.live = live
        self.database = database
        self.schedule = schedule
        self.contacts = contacts
        self.alerts = alerts
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        status = FleetStatus(live: live, contacts: contacts, alerts: alerts, schedule: schedule, latest: latest, measurements: measurements, egress: egress,
                             silences: silences, incidents: incidents, database: database, clock: clock, startedAt: startedAt)
        results = ResultRecorder(live: live, latest: latest, measurements: measurements, egress: egress, metrics: metrics, logger: logger)
        scheduler = WindowScheduler(live: live, schedule: schedule, clock: clock, logger: logger)
        authFailures = AuthFailureLimiter(metrics: metrics, logger: logger)
        let outages = StateOutageLog(logger: logger)
        self.outages = outages
        stateHealth = StateHealth(database: database, outages: outages, statePath: configuration.governor.postgres == nil ? configuration.governor.statePath : nil,
                                  description: configuration.governor.stateDescription, clock: clock)
        reloader = ConfigurationReloader(configPath: configPath, live: live, database: database, schedule: schedule, contacts: contacts, metrics: metrics, clock: clock, logger: logger)
    }

    /// Reads the stored schedule, contacts and latest results; call once before serving.
    func load() async throws {
        if database is any SharedStateFeed {
            // Present before the first claim: another governor takes over the claims of
            // one without a presence lease.
            _ = try await database.holdLease(PresenceLease.name(of: instance), holder: instance, seconds: PresenceLease.seconds, at: clock.seconds)
        }
        try await schedule.load(now: clock.seconds, schools: live.snapshot.configuration.schools)
        contacts.load(try await database.contacts())
        latest.load(try await database.latestResults())
        silences.replace(with: try await database.silences(endedAfter: clock.seconds - 86_400))
        incidents.replace(with: try await database.incidents(since: clock.seconds - IncidentReadModel.keptSeconds))
    }

    /// The long-running work beside the HTTP server.
    func services(notifier: SystemdNotifier) -> [any Service] {
        var services: [any Service] = [
            SchedulerService(scheduler: scheduler, heartbeat: heartbeat, clock: clock),
            ContactFlushService(contacts: contacts, database: database, outages: outages),
            ReloadService(reloader: reloader, notifier: notifier),
            PushDispatcher(live: live, database: database, contacts: contacts, results: results, clock: clock, logger: logger, instance: instance),
            alertService,
            OutboxSender(live: live, database: database, metrics: metrics, clock: clock, logger: logger, instance: instance),
            HeartbeatService(live: live, scheduler: heartbeat, judgement: judgementHeartbeat, outbox: database, clock: clock, logger: logger,
                             calls: heartbeatCalls),
            HeapReturnService(logger: logger),
            MeasurementLoader(live: live, database: database, model: measurements, egress: egress, logger: logger),
            MeasurementBackfill(live: live, database: database, measurements: measurements, logger: logger),
            AlertmanagerService(live: live, alerts: alerts, status: status, silences: silences, incidents: incidents, judge: judge, metrics: metrics, clock: clock, logger: logger),
            SilenceService(live: live, database: database, silences: silences, alerts: alerts, status: status, judge: judge, clock: clock, logger: logger),
            BelowTargetDigestService(live: live, measurements: measurements, database: database, clock: clock, logger: logger),
        ]
        if let shared = database as? any SharedStateFeed {
            services.append(SharedStateFollower(feed: shared, contacts: contacts, latest: latest, measurements: measurements, egress: egress, live: live,
                                                clock: clock, logger: logger))
            services.append(PresenceService(leases: database, instance: instance, clock: clock, logger: logger))
        }
        if let interval = SystemdNotifier.watchdogInterval() {
            services.append(WatchdogService(heartbeat: heartbeat, clock: clock, notifier: notifier, interval: interval, logger: logger))
        }
        return services
    }

    var alertService: AlertService {
        AlertService(live: live, database: database, contacts: contacts, alerts: alerts, status: status, metrics: metrics, clock: clock, logger: logger,
                     outages: outages, instance: instance, heartbeat: judgementHeartbeat, judge: judge, silences: silences, incidents: incidents,
                     heartbeatCalls: heartbeatCalls, feed: database as? any SharedStateFeed)
    }
}

extension GovernorComponents {
    static func makeInstance() -> String {
        let host = ProcessInfo.processInfo.hostName
        return "\(host)/\(ProcessInfo.processInfo.processIdentifier)/\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}
