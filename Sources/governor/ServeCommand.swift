import ArgumentParser
import GovernorCore
import GovernorLogging
import GovernorServer
import Logging

/// `governor serve`: the long-running service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the governor: the HTTP API for probes, the scheduler and the reload listener.",
        discussion: """
            Stops cleanly on SIGTERM or SIGINT; reloads every configuration file on SIGHUP (a school \
            whose file became invalid keeps its previous configuration). Under systemd it reports \
            readiness, reloads, stopping and watchdog pings through $NOTIFY_SOCKET.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Listen here instead of [Governor] listen (port 0 picks a free port).", valueName: "address:port"))
    var listen: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (default: $LOG_LEVEL, else info).")
    var logLevel: String?

    @Flag(help: .hidden)
    var benchmarkRoutes = false

    func validate() throws {
        if let listen, ListenAddress(parsing: listen) == nil {
            throw ValidationError("--listen '\(listen)' is not ADDRESS:PORT, such as 127.0.0.1:8080")
        }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = (logLevel ?? Environment.value(of: "LOG_LEVEL")).flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: level) }
        let logger = Logger(label: "governor")
        do {
            try await GovernorServer.run(
                .init(configPath: options.config, listen: listen.flatMap(ListenAddress.init(parsing:)), benchmarkRoutes: benchmarkRoutes),
                logger: logger)
        } catch let error as ServeError {
            logger.critical("\(error.message)")
            throw ExitCode(1)
        }
    }
}
