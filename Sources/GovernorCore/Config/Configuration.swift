/// Everything a governor runs on: its own settings, the schools that loaded, and
/// every problem found while loading (schools with errors are left out of `schools`).
public struct Configuration: Sendable {
    public var governor: GovernorSettings
    public var schools: [SchoolConfig]
    public var problems: [ConfigProblem]
    /// The text of each school file that loaded without errors, to be kept as its
    /// last good configuration; emptied once stored.
    public var loadedSources: [String: String] = [:]
    /// School files with errors whose school runs on its last good text.
    public var keptFromLastGood: [String] = []

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

extension Configuration {
    /// The configuration to run after a reload: this (newly loaded) one, except that a
    /// school whose file now has errors keeps the configuration it had before, so an
    /// editing mistake never takes a working school off the air.
    ///
    /// - Returns: the merged configuration and the names of the schools kept as they were.
    public func keepingSchools(withErrorsFrom previous: Configuration) -> (Configuration, kept: [String]) {
        let filesWithErrors = Set(problems.filter(\.isError).map(\.file))
        let loadedFiles = Set(schools.map(\.file))
        let keep = previous.schools.filter { filesWithErrors.contains($0.file) && !loadedFiles.contains($0.file) }
        guard !keep.isEmpty else { return (self, []) }
        // The kept schools first: they held their probes before the edit.
        let (merged, clashes) = ConfigLoader.rejectClashes(keep + schools)
        var result = self
        result.schools = merged.sorted { $0.file < $1.file }
        result.problems += clashes
        return (result, keep.map(\.name))
    }
}
