import Foundation
public import GovernorPostgres
import GovernorSQLite
public import GovernorStore
import Logging
import PostgresNIO
import Synchronization
public import Testing

/// The state's backends, each a real database: an SQLite file, and a database on a
/// PostgreSQL server started for the test process.
public enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    public var testDescription: String { rawValue }

    /// A fresh, migrated store of this backend, and how to close and remove it.
    public func open(_ label: String) async throws -> (store: any StateStore, close: @Sendable () -> Void) {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory("governor-store")
            let database = try SQLiteState.open(path: directory.file("state.sqlite"))
            return (database, { try? database.close(); directory.remove() })
        case .postgres:
            let state = try await Self.postgres(label)
            return (state, { state.close() })
        }
    }

    /// A migrated ``PostgresState`` on a database of its own.
    public static func postgres(_ label: String, database: String? = nil) async throws -> PostgresState {
        let server = try TestPostgres.shared()
        let name: String
        if let database {
            name = database
        } else {
            name = TestPostgres.uniqueName(label)
            _ = try server.freshDatabase(name)
        }
        let configuration = PostgresClient.Configuration(host: "127.0.0.1", port: server.port, username: server.user,
                                                         password: nil, database: name, tls: .disable)
        var logger = Logger(label: "governor.test.postgres")
        logger.logLevel = .warning
        return try await PostgresState.make(configuration, logger: logger).runningForTest()
    }
}

/// The pools the tests run, each in a task of its own: the governor runs its pool in
/// its service group; a test that holds a state directly runs it here and stops it
/// with ``PostgresState/close()``.
private let runningPools = Mutex<[ObjectIdentifier: Task<Void, Never>]>([:])

extension PostgresState {
    /// Starts the pool in a task and migrates the schema.
    public func runningForTest() async throws -> PostgresState {
        let task = Task { _ = try? await self.run() }
        runningPools.withLock { $0[ObjectIdentifier(self)] = task }
        do {
            try await migrate()
        } catch {
            close()
            throw error
        }
        return self
    }

    /// Stops the pool ``runningForTest()`` started.
    public func close() {
        runningPools.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }?.cancel()
    }
}

