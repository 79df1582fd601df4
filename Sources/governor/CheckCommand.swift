import ArgumentParser
import Foundation
import GovernorCore
import GovernorWire

/// `governor check`: validate every file the governor would load, the way the server does.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate governor.cfg and every school file; exit 0 when all is valid, 1 otherwise.",
        discussion: "Prints each school's line and the download target its measurements are judged against (and where it came from), then every warning and error as FILE:LINE: severity: message, including the days of the year ahead on which a daylight-saving change leaves a window too short for its tests (it is skipped that day)."
    )

    @OptionGroup var connection: GovernorConnection

    var options: ConfigOptions { connection.configOptions }

    @Flag(help: "Print the resolved configuration (defaults applied, durations in seconds) as JSON.")
    var json = false

    @Flag(help: "Also ask the running governor (as governor status does) for its silences, and say which this configuration's calendars make unnecessary.")
    var silences = false

    func run() async throws {
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
                if let groups = SchoolSummary.groupsLine(of: school) { print(groups) }
                if let closures = SchoolSummary.closuresLine(of: school, from: LocalDate(containing: now, in: school.timeZone)) { print(closures) }
            }
        }
        // The year ahead's daylight-saving days that leave a window too short for its tests.
        let today = LocalDate(containing: UnixTime(Date().timeIntervalSince1970), in: TimeZone(identifier: "UTC")!)
        let problems = configuration.problems + DaylightSavingCheck.warnings(for: configuration.schools, from: today.adding(days: -1), days: 367)
        for problem in problems {
            StandardError.print(problem.description)
        }
        if silences { try await checkSilences(of: configuration) }
        if !json {
            let errors = problems.filter(\.isError).count
            let warnings = problems.count - errors
            print("\(configuration.schools.count) school(s) loaded, \(errors) error(s), \(warnings) warning(s)")
        }
        if !configuration.isValid { throw ExitCode(1) }
    }

    /// The running governor's silences in force and to come, against this
    /// configuration's calendars: a note per school closed for all of one.
    private func checkSilences(of configuration: Configuration) async throws {
        let answer = try await connection.send(.GET, "/v1/silences", command: "governor check")
        guard answer.status == .ok, let list = try? JSONDecoder().decode(SilenceList.self, from: Data(answer.text.utf8)) else {
            StandardError.print("governor check: the governor's silences: \(SilenceCommand.message(of: answer))")
            throw ExitCode(1)
        }
        let now = UnixTime(Date().timeIntervalSince1970)
        var notes = 0
        for view in list.silences {
            guard let silence = Silence(view), silence.endedAt > now else { continue }
            for school in silence.closedSchools(among: configuration.schools) {
                print("silence \(view.id) (\(silence.matcher.description)): \(Silence.closedNote(school))")
                notes += 1
            }
        }
        if !json { print("\(list.silences.count { $0.endsAt.unixTime > now && $0.removedAt == nil }) silence(s) in force or to come, \(notes) unnecessary for a closed school") }
    }
}

extension Silence {
    /// The silence an API view describes.
    init?(_ view: SilenceView) {
        let matcher: Matcher
        if let school = view.school {
            matcher = .school(school)
        } else if let probe = view.probe {
            matcher = .probe(probe)
        } else if let text = view.label, case .success(let label) = SchoolLabels.parse(text) {
            matcher = .label(label)
        } else {
            return nil
        }
        self.init(id: view.id, matcher: matcher, startsAt: view.startsAt.unixTime, endsAt: view.endsAt.unixTime, reason: view.reason, author: view.author,
                  removedAt: view.removedAt?.unixTime)
    }
}
