import ArgumentParser
import GovernorCore
import GovernorServer

/// The `governor` executable: thin wiring around GovernorCore.
@main
struct GovernorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "governor",
        abstract: "Schedules network-measurement probes: semi-random run times that never overlap within a school.",
        version: GovernorVersion.current,
        subcommands: [CheckCommand.self, DispatchCommand.self, MigrateStateCommand.self, ScheduleCommand.self, ServeCommand.self, SilenceCommand.self, StatusCommand.self, TestAlertCommand.self, TokenCommand.self]
    )
}

/// Options every command that reads the configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("The main configuration file.", valueName: "path"))
    var config: String = ConfigOptions.defaultPath

    /// Loads the configuration; when the main file is unusable, prints its problems
    /// (FILE:LINE: …) and exits 1.
    func load() throws -> Configuration {
        do {
            return try ConfigLoader.load(governorFile: config)
        } catch {
            for problem in error.problems { StandardError.print(problem.description) }
            throw ExitCode(1)
        }
    }

    /// `$GOVERNOR_CONFIG`, else the file a packaged install uses.
    static var defaultPath: String {
        Environment.value(of: "GOVERNOR_CONFIG") ?? "/etc/governor/governor.cfg"
    }
}
