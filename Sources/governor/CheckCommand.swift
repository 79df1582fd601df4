import ArgumentParser
import Foundation
import GovernorCore

/// `governor check`: validate every file the governor would load, the way the server does.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate governor.cfg and every school file; exit 0 when all is valid, 1 otherwise.",
        discussion: "Prints each school's line and the download target its measurements are judged against (and where it came from), then every warning and error as FILE:LINE: severity: message, including the days of the year ahead on which a daylight-saving change leaves a window too short for its tests (it is skipped that day)."
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print the resolved configuration (defaults applied, durations in seconds) as JSON.")
    var json = false

    func run() throws {
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(governorFile: options.config)
        } catch {
            if json {
                try JSONOutput.print(["valid": false])
            }
            for problem in error.problems { StandardError.print(problem.description) }
            throw ExitCode(1)
        }
        if json {
            try JSONOutput.print(ConfigurationDocument(configuration))
        } else {
            let now = UnixTime(Date().timeIntervalSince1970)
            for school in configuration.schools {
                print(SchoolSummary(school).line)
                print(SchoolSummary.targetLine(of: school, settings: configuration.governor.measurement))
                if !school.labels.isEmpty { print("  labels: \(school.labels)") }
                if let closures = SchoolSummary.closuresLine(of: school, from: LocalDate(containing: now, in: school.timeZone)) { print(closures) }
            }
        }
        // The year ahead's daylight-saving days that leave a window too short for its tests.
        let today = LocalDate(containing: UnixTime(Date().timeIntervalSince1970), in: TimeZone(identifier: "UTC")!)
        let problems = configuration.problems + DaylightSavingCheck.warnings(for: configuration.schools, from: today.adding(days: -1), days: 367)
        for problem in problems {
            StandardError.print(problem.description)
        }
        if !json {
            let errors = problems.filter(\.isError).count
            let warnings = problems.count - errors
            print("\(configuration.schools.count) school(s) loaded, \(errors) error(s), \(warnings) warning(s)")
        }
        if !configuration.isValid { throw ExitCode(1) }
    }
}
