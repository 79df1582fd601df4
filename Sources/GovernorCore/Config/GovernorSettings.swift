public import Foundation

/// The `[Governor]` section of `governor.cfg`, resolved with defaults.
public struct GovernorSettings: Sendable {
    /// The main file, as named when loading.
    public var file: String
    /// The directory whose `*.cfg` files are schools, resolved against the main file's directory.
    public var schoolsDirectory: String?
    public var listen: ListenAddress
    /// The state database path, resolved against the main file's directory. With a
    /// PostgreSQL state it is unused for the state, and its directory stays where
    /// files beside the state (push probes' known_hosts) go.
    public var statePath: String
    /// The PostgreSQL database several governors share, when `state` names one.
    public var postgres: PostgresLocation?
    /// What `state` names, for logs and messages: the file, or the URL without password.
    public var stateDescription: String { postgres?.description ?? statePath }
    /// The default time zone of schools that do not name one.
    public var timeZone: TimeZone
    /// The zone's name as written in the file, or the system zone's identifier.
    public var timeZoneName: String
    /// The default test duration in seconds (the original's 35 s).
    public var testDurationSeconds: Int
    /// Makes every schedule a pure function of its inputs (for tests and simulations).
    public var seed: UInt64?
    /// Whether a pull probe must have a token (`require_tokens`, default yes).
    public var requireTokens: Bool
    /// SHA-256 (hex) of the operator token that guards the read-only endpoints.
    public var adminTokenSHA256: String?
    /// Where every result is also appended as a JSON line, if anywhere.
    public var resultsLog: String?
    /// The dashboard's public URL, linked from alert emails.
    public var publicURL: String?
    /// The most output of one test that is stored; longer output is cut and flagged.
    public var maxOutputBytes: Int = 1 << 20
    /// How test output is read into measurements, unless a school says otherwise (`result_format`).
    public var resultFormat: ResultFormat = .auto
    /// The benchmark, the rate per student, the poor threshold and the window schools are judged over.
    public var measurement = MeasurementSettings()
    /// `daily_tests_per_egress`: the tests one egress address should carry in a day
    /// (M-Lab asks automated clients for at most 4); nil: no budget.
    public var dailyTestsPerEgress: Int?
    /// `trusted_proxies`: the reverse proxies whose `X-Forwarded-For` names a probe's
    /// address. Empty: the connection's peer is the address, whatever a header says.
    public var trustedProxies: [AddressRange] = []
    /// `labels`: every school's, unless its own file sets the key.
    public var labels = SchoolLabels()
    /// How long one request, its headers and its body, may take from its first byte.
    public var requestTimeoutSeconds: Int = 60
    /// How many connections one client address may hold open at once.
    public var maxConnectionsPerClient: Int = 256
    /// How many connections the governor holds open in all; nil: follow the process's
    /// descriptor limit (``ConnectionBudget/defaultLimit(descriptors:)``).
    public var maxConnections: Int?
    /// At most this many tests of the whole fleet at any instant; nil: no cap.
    public var maxConcurrentTests: Int?
    /// Where it is set, for the error when the fleet cannot fit under it.
    public var maxConcurrentTestsLine: Int?
    /// How far ahead a probe may lease its runs (`GET /v1/probes/{id}/runs`).
    public var leaseHorizonSeconds: Int = 86_400
    /// The `[Alerts]` and `[SSH]` sections as read, for the components that use them.
    public var alerts: INIDocument.Section?
    public var ssh: INIDocument.Section?
    /// `[Alerts]` as parsed.
    public var alertSettings = AlertSettings()
    /// `[SSH]` as parsed: the push probes' defaults.
    public var sshDefaults = SSHDefaults()

    public static let defaultTestDurationSeconds = 35
    public static let defaultStateFileName = "governor-state.sqlite"

    public init(
        file: String,
        schoolsDirectory: String? = nil,
        listen: ListenAddress = .default,
        statePath: String? = nil,
        timeZone: TimeZone = .current,
        testDurationSeconds: Int = GovernorSettings.defaultTestDurationSeconds,
        seed: UInt64? = nil,
        requireTokens: Bool = true,
        adminTokenSHA256: String? = nil,
        resultsLog: String? = nil,
        publicURL: String? = nil
    ) {
        self.file = file
        self.schoolsDirectory = schoolsDirectory
        self.listen = listen
        self.statePath = statePath ?? ConfigPaths.resolve(Self.defaultStateFileName, relativeTo: file)
        self.timeZone = timeZone
        self.timeZoneName = timeZone.identifier
        self.testDurationSeconds = testDurationSeconds
        self.seed = seed
        self.requireTokens = requireTokens
        self.adminTokenSHA256 = adminTokenSHA256
        self.resultsLog = resultsLog
        self.publicURL = publicURL
    }
}

/// Paths in a configuration file are relative to the directory of that file, so a
/// config tree can be moved or shipped as a whole.
enum ConfigPaths {
    static func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }

    static func directory(of file: String) -> String {
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    static func stem(of file: String) -> String {
        ((file as NSString).lastPathComponent as NSString).deletingPathExtension
    }
}
