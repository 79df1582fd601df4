import GovernorCore
import GovernorStore
import Logging

/// Loads every configuration file again and applies what changed (SIGHUP).
struct ConfigurationReloader: Sendable {
    let configPath: String
    let live: LiveConfiguration
    let database: any SourceStore
    let schedule: ScheduleOwner
    /// Who was told what: a pull probe's announced run is the first after its last contact.
    let contacts: ContactCache
    let metrics: GovernorMetrics
    let clock: ServerClock
    let logger: Logger

    /// A school whose file became invalid keeps its previous configuration (the errors
    /// are logged with file and line); the others apply their changes from their first
    /// window not yet generated. Probes that left the configuration lose their future
    /// runs. If `governor.cfg` itself is broken, nothing changes.
    /// - Returns: whether the new configuration was applied.
    @discardableResult
    func reload() async -> Bool {
        let previous = live.snapshot
        let loaded: Configuration
        do {
            loaded = try await LastGoodSchools.apply(to: try ConfigLoader.load(governorFile: configPath), configPath: configPath,
                                                     database: database, at: clock.now())
        } catch let error as ConfigurationError {
            for problem in error.problems { logger.error("\(problem.description)") }
            logger.error("reload failed: \(configPath) has errors; the previous configuration stays in force")
            metrics.configReloaded(success: false, at: clock.now())
            return false
        } catch {
            logger.error("reload failed: the state database cannot keep the schools' last good configurations (\(error)); the previous configuration stays in force")
            metrics.configReloaded(success: false, at: clock.now())
            return false
        }
        for problem in loaded.problems {
            if problem.isError { logger.error("\(problem.description)") } else { logger.warning("\(problem.description)") }
        }
        let (configuration, kept) = loaded.keepingSchools(withErrorsFrom: previous.configuration)
        for name in kept {
            logger.warning("school '\(name)' keeps its last good configuration until its file is fixed")
        }
        let old = previous.governor, new = configuration.governor
        if old.listen != new.listen || old.statePath != new.statePath || old.postgres != new.postgres {
            logger.warning("'listen' and 'state' changes take effect at the next restart")
        }
        live.replace(with: configuration)
        metrics.configReloaded(success: kept.isEmpty, at: clock.now())

        let before = Set(previous.probes.keys)
        let after = Set(configuration.schools.flatMap { $0.probes.map(\.name) })
        // A probe that moved to another school leaves its old school's runs behind too.
        let moved = configuration.schools.flatMap { school in
            school.probes.map(\.name).filter { name in previous.probes[name].map { $0.school != school.name } ?? false }
        }
        do {
            try await schedule.dropRuns(of: before.subtracting(after), after: clock.seconds, reason: "removed from the configuration")
            try await schedule.dropRuns(of: Set(moved), after: clock.seconds, reason: "moved to another school")
        } catch {
            logger.error("cannot drop the runs of removed probes: \(error)")
        }
        // A school closed on days already stored keeps only the runs a probe was told
        // about: for a pull probe the one it got at its last contact.
        for school in configuration.schools {
            guard let old = previous.schools[school.name], old.calendar != school.calendar else { continue }
            do {
                try await schedule.dropClosedRuns(of: school, after: clock.seconds) { run in
                    guard let entry = previous.probes[run.probe], entry.probe.mode == .pull,
                          let contact = contacts.lastContact(of: run.probe) else { return false }
                    return schedule.cachedNextRun(of: run.probe, after: contact) == run
                }
            } catch {
                logger.error("cannot drop the runs of the closed days of school '\(school.name)': \(error)")
            }
            // Days the new calendar opens get their windows now, not after the end of
            // what was stored while they were closed.
            do {
                try await schedule.reopen(school, now: clock.seconds)
            } catch {
                logger.error("cannot store the windows of the reopened days of school '\(school.name)' (a probe's next request stores them): \(error)")
            }
        }
        logger.info("configuration reloaded", metadata: [
            "schools": "\(configuration.schools.count)", "probes": "\(after.count)", "errors": "\(configuration.problems.filter(\.isError).count)",
        ])
        return true
    }
}
