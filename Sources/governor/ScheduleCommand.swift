import ArgumentParser
import Foundation
import GovernorCore

/// `governor schedule`: the dry run. Prints the schedule that would be generated and dispatches nothing.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print the run times that would be generated, without dispatching anything.",
        discussion: "Without a seed (here or in [Governor] seed) every call draws new times, as the server does once per window."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Only this school.")
    var school: String?

    @Option(help: ArgumentHelp("The first local date, in each school's time zone (default: today there).", valueName: "YYYY-MM-DD"))
    var date: String?

    @Option(help: "How many consecutive dates.")
    var days: Int = 1

    @Option(help: "Seed the generator (overrides [Governor] seed) so that the schedule is reproducible.")
    var seed: UInt64?

    @Flag(help: "Print JSON: {\"schools\":[{\"school\",\"timezone\",\"test_duration_s\",\"delay_s\",\"windows\":[…]}]}.")
    var json = false

    func validate() throws {
        guard (1...366).contains(days) else { throw ValidationError("--days must be from 1 to 366") }
        if let date, LocalDate(parsing: date) == nil {
            throw ValidationError("--date '\(date)' is not a date; expected YYYY-MM-DD")
        }
    }

    func run() throws {
        let configuration = try options.load()
        for problem in configuration.problems { StandardError.print(problem.description) }

        var schools = configuration.schools
        if let name = school {
            schools = schools.filter { $0.name == name }
            if schools.isEmpty {
                let known = configuration.schools.map(\.name).joined(separator: ", ")
                StandardError.print("error: no school is named '\(name)' (loaded: \(known.isEmpty ? "none" : known))")
                throw ExitCode(1)
            }
        }

        let seed = self.seed ?? configuration.governor.seed
        let now = Int64(Date().timeIntervalSince1970)
        var failed = !configuration.isValid
        var document = ScheduleDocument(schools: [])
        func firstDate(of school: SchoolConfig) -> LocalDate {
            date.flatMap(LocalDate.init(parsing:)) ?? LocalDate(containing: now, in: school.timeZone)
        }
        // Drawn as the server draws them (CappedDrawing): under a fleet-wide cap every
        // school's windows together, in time order, each against the tests drawn before
        // it; only the schools asked for are printed.
        let cap = configuration.governor.maxConcurrentTests
        var drawing = CappedDrawing(seed: seed, cap: cap)
        let drawn = drawing.drawInOrder((cap == nil ? schools : configuration.schools).flatMap { school in
            (0..<days).flatMap { school.windows(on: firstDate(of: school).adding(days: $0)) }.map { (school: school, bounds: $0) }
        })
        var windowsOf: [String: [ScheduledWindow]] = [:]
        for (school, result) in drawn {
            switch result {
            case .success(let window): windowsOf[school.name, default: []].append(window)
            case .failure(let error):
                StandardError.print(error.description)
                failed = true
            }
        }
        for school in schools {
            let first = firstDate(of: school)
            let windows = windowsOf[school.name] ?? []
            let closed = school.calendar.closedDays(from: first, days: days)
            if json {
                document.schools.append(ScheduleDocument.School(school, windows: windows, closed: closed))
            } else {
                print(ScheduleTable(school: school, windows: windows, closed: closed).text)
            }
        }
        if json { try JSONOutput.print(document) }
        if failed { throw ExitCode(1) }
    }
}
