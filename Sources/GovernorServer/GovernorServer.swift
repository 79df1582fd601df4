import Foundation
public import GovernorCore
import GovernorPostgres
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
    /// - Throws: ``ServeError`` when the main configuration file or the state database
    ///   cannot be used; problems in school files are logged and those schools skipped.
    public static func run(_ options: Options, logger: Logger) async throws {
        var configuration: Configuration
        do {
            configuration = try ConfigLoader.load(governorFile: options.configPath)
        } catch {
            throw ServeError(message: error.description)
        }
        let (database, closeState) = try await openState(configuration.governor, logger: logger)
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

        let notifier = SystemdNotifier()
        let services = parts.services(notifier: notifier)
        let address = options.listen ?? configuration.governor.listen
        let app = buildApplication(
            parts, address: address, services: services, benchmarkRoutes: options.benchmarkRoutes,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info("governor \(version) serving on \(address.host):\(port)", metadata: [
                    "schools": "\(loaded.schools.count)", "state": "\(loaded.governor.stateDescription)",
                ])
                notifier.notify("READY=1\nSTATUS=serving \(loaded.schools.count) school(s) on \(address.host):\(port)")
            })
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: StoppingNotifier(notifier: notifier))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        closeState()
        logger.info("governor stopped")
    }
}

/// Opens the state `[Governor] state` names: an SQLite file (one governor), or a
/// PostgreSQL database (several governors), behind one interface.
func openState(_ settings: GovernorSettings, logger: Logger) async throws(ServeError) -> (any StateStore, close: @Sendable () -> Void) {
    if let location = settings.postgres {
        do {
            let state = try await PostgresState.connect(to: location, logger: logger)
            return (state, { state.close() })
        } catch {
            throw ServeError(message: error.description)
        }
    }
    do {
        let database = try AppDatabase.open(path: settings.statePath)
        return (database, {
            do {
                try database.close()
            } catch {
                logger.error("the state database did not close cleanly: \(error)")
            }
        })
    } catch {
        throw ServeError(message: error.description)
    }
}

/// `governor serve` cannot start; the message says why and names the file.
public struct ServeError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
