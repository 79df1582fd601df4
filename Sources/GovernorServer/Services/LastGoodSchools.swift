import GovernorCore
import GovernorStore

/// Keeps the last good text of every school file in the state database, and loads
/// a school whose file has errors from it: at start-up, so that a file broken while
/// the governor was down does not un-know the school's probes (whose queued results
/// would then be refused), and at every reload.
enum LastGoodSchools {
    /// Loads again with the stored texts when a school file has errors, and stores the
    /// texts of the files that loaded.
    ///
    /// - Parameter configuration: the configuration as loaded from the files alone.
    /// - Returns: the configuration to run, its texts stored and dropped from memory.
    /// - Throws: ``ConfigurationError`` when `governor.cfg` itself broke meanwhile;
    ///   the database's error when it cannot be read or written.
    static func apply(to configuration: Configuration, configPath: String, database: any SourceStore, at now: Double) async throws -> Configuration {
        var configuration = configuration
        if configuration.problems.contains(where: { $0.isError && $0.file != configPath }) {
            let lastGood = try await database.schoolSources()
            if !lastGood.isEmpty {
                configuration = try ConfigLoader.load(governorFile: configPath, lastGood: lastGood)
            }
        }
        try await database.saveSchoolSources(configuration.loadedSources, at: UnixTime(now.rounded(.down)))
        configuration.loadedSources = [:]
        return configuration
    }
}
