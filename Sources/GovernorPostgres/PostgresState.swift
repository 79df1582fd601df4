public import GovernorStore
public import Logging
public import PostgresNIO

/// The governor's state in a PostgreSQL database that several governors share.
///
/// A pool of connections (postgres-nio's ``PostgresClient``), run by a task of its
/// own; every query is asynchronous, so nothing blocks an event loop or the
/// cooperative pool. The schema is migrated in code, under an advisory lock, so
/// that governors starting together migrate once; the migrations have the names
/// of ``AppDatabase``'s.
public final class PostgresState: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit {
        runner.cancel()
    }

    /// Connects and brings the schema up to date.
    ///
    /// - Throws: ``StoreError`` naming the server when it cannot be reached or migrated.
    public static func connect(_ configuration: PostgresClient.Configuration, logger: Logger) async throws(StoreError) -> PostgresState {
        let state = PostgresState(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        do {
            try await PostgresSchema.migrate(state.client, logger: logger)
        } catch {
            state.close()
            let server = configuration.host.map { "\($0):\(configuration.port ?? 5432)" } ?? configuration.unixSocketPath ?? "?"
            throw StoreError(message: "cannot use the PostgreSQL state at \(server)/\(configuration.database ?? configuration.username): \(String(reflecting: error))")
        }
        return state
    }

    /// Closes the pool; further use fails. Call once, at shutdown.
    public func close() {
        runner.cancel()
    }
}
