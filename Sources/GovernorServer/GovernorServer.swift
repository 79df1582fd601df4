import Foundation
public import GovernorCore
import GovernorPostgres
import GovernorSQLite
import GovernorStore
import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle

/// `governor serve`: loads the configuration, opens the state database and runs the
/// HTTP API with the scheduler, contact writer, reload listener and systemd watchdog,
/// until SIGTERM or SIGINT.
public enum GovernorServer {
    /// ``GovernorVersion/current``.
    public static let version = GovernorVersion.current

    public struct Options: Sendable {
        public var configPath: String
        /// Overrides `[Governor] listen` (for tests and benchmarks; port 0 picks a free port).
        public var listen: ListenAddress?
        /// Adds `/bench/constant`, the benchmark's baseline route.
        public var benchmarkRoutes: Bool

        public init(configPath: String, listen: ListenAddress? = nil, benchmarkRoutes: Bool = false) {
            self.configPath = configPath
            self.listen = listen
            self.benchmarkRoutes = benchmarkRoutes
        }
    }

    /// Runs the governor until it is told to stop.
    ///
    /// One service group runs it all: the PostgreSQL pool when the state is shared
    /// (postgres-nio's client is a service), then ``Governor``, which prepares the state
    /// and runs the HTTP application with its background services, then the notice to
    /// systemd that the governor stops. They stop in the reverse order.
    ///
    /// - Throws: ``ServeError`` when the main configuration file or the state database
    ///   cannot be used; problems in school files are logged and those schools skipped.
    public static func run(_ options: Options, logger: Logger) async throws {
        HeapReturn.limitArenas()
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(governorFile: options.configPath)
        } catch {
            throw ServeError(message: error.description)
        }
        let state = try await openState(configuration.governor, logger: logger)
        let notifier = SystemdNotifier()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if case .postgres(let shared) = state { services.append(.init(service: shared)) }
        services.append(.init(service: Governor(options: options, configuration: configuration, state: state, notifier: notifier, logger: logger),
                              successTerminationBehavior: .gracefullyShutdownGroup))
        services.append(.init(service: StoppingNotifier(notifier: notifier)))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer { state.close(logger: logger) }
        try await group.run()
        logger.info("governor stopped")
    }
}

/// The governor itself, as a service: prepares the state (migrates a shared one,
/// whose pool runs beside it), applies the last good school files, loads its parts and
/// serves until the group shuts down.
struct Governor: Service {
    let options: GovernorServer.Options
    let configuration: Configuration
    let state: OpenedState
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        if case .postgres(let shared) = state {
            do {
                try await shared.migrate()
            } catch {
                throw ServeError(message: error.description)
            }
        }
        let database = state.store
        var configuration = configuration
        do {
            configuration = try await LastGoodSchools.apply(to: configuration, configPath: options.configPath, database: database, at: Date().timeIntervalSince1970)
        } catch {
            throw ServeError(message: "\(error)")
        }
        for problem in configuration.problems {
            if problem.isError { logger.error("\(problem.description)") } else { logger.warning("\(problem.description)") }
        }
        let loaded = configuration
        let parts = GovernorComponents(configPath: options.configPath, configuration: configuration, database: database, logger: logger)
        try await parts.load()
        // Start-up read the whole state and every school file: hand back what it freed.
        HeapReturn.returnIfLarge()

        let services = parts.services(notifier: notifier)
        let address = options.listen ?? configuration.governor.listen
        let version = GovernorServer.version
        let app = buildApplication(
            parts, address: address, services: services, benchmarkRoutes: options.benchmarkRoutes,
            onServerRunning: { [notifier, logger] channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info("governor \(version) serving on \(address.host):\(port)", metadata: [
                    "schools": "\(loaded.schools.count)", "state": "\(loaded.governor.stateDescription)",
                ])
                notifier.notify("READY=1\nSTATUS=serving \(loaded.schools.count) school(s) on \(address.host):\(port)")
            })
        try await app.run()
    }
}

/// The state `[Governor] state` names, opened: an SQLite file (one governor), or a
/// PostgreSQL database (several governors), behind one interface.
enum OpenedState: Sendable {
    case sqlite(SQLiteState)
    case postgres(PostgresState)

    var store: any StateStore {
        switch self {
        case .sqlite(let database): database
        case .postgres(let shared): shared
        }
    }

    /// Closes an SQLite file; a PostgreSQL pool stops with its service.
    func close(logger: Logger) {
        guard case .sqlite(let database) = self else { return }
        do {
            try database.close()
        } catch {
            logger.error("the state database did not close cleanly: \(error)")
        }
    }
}

/// Opens the state `[Governor] state` names. A PostgreSQL state is checked with one
/// connection here; its pool runs, and its schema is migrated, in the service group.
func openState(_ settings: GovernorSettings, logger: Logger) async throws(ServeError) -> OpenedState {
    if let location = settings.postgres {
        do {
            return .postgres(try await PostgresState.connect(to: location, logger: logger))
        } catch {
            throw ServeError(message: error.description)
        }
    }
    do {
        return .sqlite(try SQLiteState.open(path: settings.statePath))
    } catch {
        throw ServeError(message: error.description)
    }
}

/// `governor serve` cannot start; the message says why and names the file.
public struct ServeError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
