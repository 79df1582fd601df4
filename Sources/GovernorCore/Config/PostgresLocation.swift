import Foundation

/// Where a PostgreSQL state lives, from `[Governor] state = postgres://USER@HOST:PORT/DB`
/// with `password_file`, `sslmode` and `ssl_ca_file` beside it.
///
/// The password is never in the URL (a configuration file is read by more people
/// than the database's owner): it is the first line of `password_file`, read when
/// the governor connects.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var passwordFile: String?
    public var sslMode: SSLMode
    /// The certificate authorities `verify-full` trusts (PEM); the system's when nil.
    public var caFile: String?

    /// libpq's names, so that an operator's habits carry over.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, without checking its certificate.
        case prefer
        /// TLS always, without checking the certificate.
        case require
        /// TLS always, the certificate checked against the CA and the host name.
        case verifyFull = "verify-full"
    }

    public static let defaultPort = 5432

    /// `postgres://USER@HOST:PORT/DB`, without the password.
    public var description: String { "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    /// Whether `text` names a PostgreSQL database rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads `postgres://USER@HOST[:PORT]/DB`; the error says what is wrong in words.
    public init(url text: String) throws(LocationError) {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw LocationError("'\(text)' is not a URL of the form postgres://USER@HOST:PORT/DATABASE")
        }
        guard components.password == nil else {
            throw LocationError("the state URL holds a password; put it in a file named by 'password_file' instead, readable by the governor only")
        }
        guard components.query == nil, components.fragment == nil else {
            throw LocationError("the state URL has options after '?' or '#'; set 'sslmode' and 'ssl_ca_file' in [Governor] instead")
        }
        guard let user = components.user, !user.isEmpty else {
            throw LocationError("the state URL names no user: postgres://USER@HOST:PORT/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw LocationError("the state URL names no host: postgres://USER@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw LocationError("the state URL names no database, or more than one path segment: postgres://USER@HOST:PORT/DATABASE")
        }
        let port = components.port ?? Self.defaultPort
        guard (1...65_535).contains(port) else {
            throw LocationError("the state URL's port \(port) is not from 1 to 65535")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        self.user = user.removingPercentEncoding ?? user
        self.database = database.removingPercentEncoding ?? database
        self.passwordFile = nil
        self.sslMode = .prefer
        self.caFile = nil
    }

    public struct LocationError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
