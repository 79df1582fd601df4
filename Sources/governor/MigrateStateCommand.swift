import ArgumentParser
import Foundation
import GovernorCore
import GovernorPostgres
import GovernorSQLite
import GovernorStore
import Logging

/// `governor migrate-state`: copies an SQLite state into a PostgreSQL database, so
/// that a governor can move to a shared state without losing its schedules,
/// results, contacts, alert states, outbox, silences and incidents.
struct MigrateStateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-state",
        abstract: "Copy an SQLite state (schedules, results, contacts, alert states, outbox, silences, incidents) into a PostgreSQL database.",
        discussion: """
            Stop the governor first. The copy keeps every row's identity and skips rows that are there already, \
            so running it again changes nothing and a copy cut short can be run again. Then set \
            'state = postgres://…' in governor.cfg and start the governor.
            """
    )

    @Option(help: ArgumentHelp("The SQLite state file to copy.", valueName: "path"))
    var from: String

    @Option(help: ArgumentHelp("The PostgreSQL database: postgres://USER@HOST:PORT/DB.", valueName: "url"))
    var to: String

    @Option(help: ArgumentHelp("A file whose first line is the database password.", valueName: "path"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("disable, prefer, require or verify-full (default prefer).", valueName: "mode"))
    var sslmode: String = PostgresLocation.SSLMode.prefer.rawValue

    @Option(help: ArgumentHelp("The CA certificates (PEM) verify-full trusts.", valueName: "path"))
    var sslCAFile: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: from) else {
            StandardError.print("governor migrate-state: \(from) does not exist")
            throw ExitCode(1)
        }
        var location: PostgresLocation
        do {
            location = try PostgresLocation(url: to)
        } catch {
            StandardError.print("governor migrate-state: --to: \(error)")
            throw ExitCode(1)
        }
        guard let mode = PostgresLocation.SSLMode(rawValue: sslmode) else {
            StandardError.print("governor migrate-state: --sslmode is '\(sslmode)'; expected one of disable, prefer, require, verify-full")
            throw ExitCode(1)
        }
        location.sslMode = mode
        location.passwordFile = passwordFile
        location.caFile = sslCAFile
        var logger = Logger(label: "governor.migrate-state")
        logger.logLevel = .warning
        do {
            let source = try SQLiteState.open(path: from)
            defer { try? source.close() }
            let target = try await PostgresState.connect(to: location, logger: logger)
            let counts = try await target.whileRunning { target in
                try await target.importState(from: source, at: UnixTime(Date().timeIntervalSince1970))
            }
            print("copied \(from) to \(location): \(counts)")
        } catch {
            StandardError.print("governor migrate-state: \(error)")
            throw ExitCode(1)
        }
    }
}
