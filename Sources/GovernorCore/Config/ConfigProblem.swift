/// A finding about a configuration file: an error that stops a file (or one school)
/// from being used, or a warning about something that was ignored.
///
/// Its description has the compiler-style form `FILE:LINE: error: MESSAGE`, which
/// editors and terminals turn into links and operators can grep.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    /// The file the problem is in, as it was named when loading.
    public var file: String
    /// The 1-based line, when the problem belongs to one.
    public var line: Int?
    /// What is wrong and, where it helps, what was expected.
    public var message: String

    public init(_ severity: Severity, file: String, line: Int? = nil, _ message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.message = message
    }

    public static func error(_ file: String, line: Int? = nil, _ message: String) -> ConfigProblem {
        ConfigProblem(.error, file: file, line: line, message)
    }

    public static func warning(_ file: String, line: Int? = nil, _ message: String) -> ConfigProblem {
        ConfigProblem(.warning, file: file, line: line, message)
    }

    public var isError: Bool { severity == .error }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(severity.rawValue): \(message)"
    }
}

extension Array where Element == ConfigProblem {
    /// Whether any of the problems is an error (warnings alone do not count).
    public var containsError: Bool { contains(where: \.isError) }
}
