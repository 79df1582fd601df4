import Foundation
public import GovernorCore
public import GovernorStore
public import Logging
import NIOSSL
import Synchronization
public import PostgresNIO
public import ServiceLifecycle

/// The governor's state in a PostgreSQL database that several governors share.
///
/// A pool of connections (postgres-nio's ``PostgresClient``); every query is
/// asynchronous, so nothing blocks an event loop or the cooperative pool. The pool
/// works while ``run()`` runs: the state is a `Service`, run in the application's
/// service group like postgres-nio's own client, and stopped with it. Code that is not
/// a service (`governor migrate-state`) uses ``whileRunning(_:)``. The schema is
/// migrated in code by ``migrate()``, under an advisory lock, so that governors
/// starting together migrate once; the migrations have the names of the SQLite
/// backend's.
public final class PostgresState: Service, Sendable {
    let client: PostgresClient
    let logger: Logger
    /// The database as messages name it: HOST:PORT/DATABASE.
    let name: String

    private init(client: PostgresClient, logger: Logger, name: String) {
        self.client = client
        self.logger = logger
        self.name = name
    }

    /// A state on the database `configuration` names, not running yet: nothing is
    /// connected until ``run()``, and the schema is not touched until ``migrate()``.
    public static func make(_ configuration: PostgresClient.Configuration, logger: Logger) -> PostgresState {
        let server = configuration.host.map { "\($0):\(configuration.port ?? 5432)" } ?? configuration.unixSocketPath ?? "?"
        let name = "\(server)/\(configuration.database ?? configuration.username)"
        return PostgresState(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger, name: name)
    }

    /// Runs the pool until the task is cancelled or the service group shuts down.
    public func run() async throws {
        await client.run()
    }

    /// Brings the schema up to date; the pool must be running.
    ///
    /// - Throws: ``StoreError`` naming the server when it cannot be reached (within a
    ///   minute) or migrated.
    public func migrate() async throws(StoreError) {
        do {
            try await runBounded(within: .seconds(60)) { [client, logger] in try await PostgresSchema.migrate(client, logger: logger) }
        } catch {
            throw StoreError(message: "cannot use the PostgreSQL state at \(name): \(PostgresServerError.describe(error))")
        }
    }

    /// Runs the pool while `body` uses the state, migrated first; stops it after.
    public func whileRunning<T: Sendable>(_ body: @Sendable (PostgresState) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            try await migrate()
            return try await body(self)
        }
    }
}

extension PostgresState {
    /// The state on the database `[Governor] state` names, with the password from its
    /// `password_file` and TLS as its `sslmode` says: checked with one connection, so
    /// that a wrong password, certificate or address is reported at once, and returned
    /// not running (see ``run()`` and ``migrate()``).
    ///
    /// - Throws: ``StoreError`` naming the database (never the password) and the cause.
    public static func connect(to location: PostgresLocation, logger: Logger) async throws(StoreError) -> PostgresState {
        var password: String?
        if let file = location.passwordFile {
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            } catch {
                throw StoreError(message: "cannot read the PostgreSQL password_file \(file): \(error.localizedDescription)")
            }
        }
        let tls: PostgresClient.Configuration.TLS
        do {
            tls = try tlsMode(location)
        } catch {
            throw StoreError(message: "cannot set up TLS for \(location) (sslmode = \(location.sslMode.rawValue)): \(error)")
        }
        // One connection first, outside the pool: a wrong password, certificate or
        // address is reported at once, where the pool would keep retrying it.
        do {
            let single = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                          password: password, database: location.database, tls: try singleTLS(location))
            let connection = try await PostgresConnection.connect(configuration: single, id: 0, logger: logger)
            try await connection.close()
        } catch let error as PSQLError {
            throw StoreError(message: "cannot connect to the PostgreSQL state at \(location): \(PostgresServerError(error).description)")
        } catch {
            throw StoreError(message: "cannot connect to the PostgreSQL state at \(location): \(error)")
        }
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return make(configuration, logger: logger)
    }

    /// TLS for the pool, as `sslmode` says.
    private static func tlsMode(_ location: PostgresLocation) throws -> PostgresClient.Configuration.TLS {
        guard let configuration = try tlsConfiguration(location) else { return .disable }
        return location.sslMode == .prefer ? .prefer(configuration) : .require(configuration)
    }

    /// TLS for a single connection, which takes an SSL context.
    private static func singleTLS(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        guard let configuration = try tlsConfiguration(location) else { return .disable }
        let context = try NIOSSLContext(configuration: configuration)
        return location.sslMode == .prefer ? .prefer(context) : .require(context)
    }

    /// nil for `disable`; certificates unchecked for `prefer` and `require` (libpq's
    /// meaning); checked against the CA and the host name for `verify-full`.
    private static func tlsConfiguration(_ location: PostgresLocation) throws -> TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .disable:
            return nil
        case .prefer, .require:
            configuration.certificateVerification = .none
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            if let caFile = location.caFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
        }
        return configuration
    }
}

extension PostgresState {
    /// Whether an error says the database is away rather than that the request is
    /// wrong: no server answer at all (a lost or refused connection, a closed pool),
    /// or a server answer of SQLSTATE class 08 (connection exception), 53 (insufficient
    /// resources) or 57 (operator intervention: shutting down, starting up).
    static func meansUnavailable(_ error: PSQLError) -> Bool {
        guard let info = error.serverInfo else { return true }
        guard let state = info[.sqlState] else { return false }
        return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57")
    }

    /// How long a request's state operation may wait for the database before the
    /// request answers 503: long enough for a busy server, short enough that a probe
    /// or a load balancer hears of an outage before its own timeout.
    static let requestTimeout: Duration = .seconds(5)

    /// How often an operation that PostgreSQL aborted as a deadlock or a serialization
    /// failure is tried again.
    static let conflictRetries = 8

    /// Runs one state operation with a deadline. A database that cannot be reached
    /// (no connection, a connection lost mid-query, no answer in time) becomes
    /// ``StateUnavailable``. An operation PostgreSQL aborted as a deadlock or a
    /// serialization failure (SQLSTATE 40P01, 40001: two governors writing the same
    /// rows at once) is run again after a random pause, up to ``conflictRetries``
    /// times; the aborted transaction changed nothing. Other errors the server reports
    /// (a broken constraint, say) become ``PostgresServerError``, with the server's
    /// message, SQLSTATE, detail and hint, since retrying cannot help them.
    @discardableResult
    func runBounded<T: Sendable>(within limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await attemptOnce(within: limit, operation)
            } catch let error as PostgresServerError where error.isConflict && attempt < Self.conflictRetries {
                attempt += 1
                logger.debug("PostgreSQL aborted an operation as a conflict with another writer; trying again", metadata: [
                    "attempt": "\(attempt)", "error": "\(error)",
                ])
                // Jittered and growing, so that the two writers do not meet again.
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...25) * attempt))
            }
        }
    }

    private func attemptOnce<T: Sendable>(within limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let where_ = "the PostgreSQL state at \(name)"
        do {
            return try await Deadline.race(operation, against: limit) { StateUnavailable("\(where_) did not answer within \(limit)") }
        } catch let error as PSQLError {
            if Self.meansUnavailable(error) { throw StateUnavailable("\(where_) cannot be reached: \(PostgresServerError(error))") }
            throw PostgresServerError(error)
        } catch let error as PostgresTransactionError {
            // Inside a transaction, the closure's own error is what happened (a lost
            // lease, say); a failed BEGIN or COMMIT is the database's.
            if let cause = error.closureError ?? error.beginError ?? error.commitError {
                if let server = cause as? PSQLError {
                    if Self.meansUnavailable(server) { throw StateUnavailable("\(where_) cannot be reached: \(PostgresServerError(server))") }
                    throw PostgresServerError(server)
                }
                throw cause
            }
            throw error
        }
    }
}

/// A PostgreSQL error as an operator can act on it: the server's own message, its
/// SQLSTATE, detail and hint, or, without an answer from the server, what went wrong
/// with the connection. Never the query or its bound values (results' outputs and
/// token digests travel in them).
///
/// postgres-nio's `PSQLError` prints a fixed text to keep such values out of logs;
/// this keeps them out by taking only the server's own fields.
public struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    /// The SQLSTATE, when the server answered.
    public let sqlState: String?
    public let description: String

    init(_ error: PSQLError) {
        sqlState = error.serverInfo?[.sqlState]
        guard let info = error.serverInfo else {
            description = "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            return
        }
        var text = "\(info[.localizedSeverity] ?? info[.severity] ?? "ERROR") \(info[.sqlState] ?? "?"): \(info[.message] ?? "no message")"
        if let detail = info[.detail] { text += "; detail: \(detail)" }
        if let hint = info[.hint] { text += "; hint: \(hint)" }
        description = text
    }

    /// A deadlock (40P01) or a serialization failure (40001): trying again can succeed.
    var isConflict: Bool { sqlState == "40P01" || sqlState == "40001" }

    /// Any error as an operator reads it: PostgreSQL's in full, others as they describe themselves.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError { return PostgresServerError(error).description }
        if let error = error as? PostgresTransactionError, let cause = error.closureError ?? error.beginError ?? error.commitError {
            return describe(cause)
        }
        return "\(error)"
    }
}
