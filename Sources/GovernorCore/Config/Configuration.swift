/// Everything a governor runs on: its own settings, the schools that loaded, and
/// every problem found while loading (schools with errors are left out of `schools`).
public struct Configuration: Sendable {
    public var governor: GovernorSettings
    public var schools: [SchoolConfig]
    public var problems: [ConfigProblem]

    public init(governor: GovernorSettings, schools: [SchoolConfig], problems: [ConfigProblem]) {
        self.governor = governor
        self.schools = schools
        self.problems = problems
    }

    /// True when nothing is wrong (warnings are allowed).
    public var isValid: Bool { !problems.containsError }

    public func school(named name: String) -> SchoolConfig? {
        schools.first { $0.name == name }
    }
}

/// The main file could not be used at all, so no school was loaded.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
