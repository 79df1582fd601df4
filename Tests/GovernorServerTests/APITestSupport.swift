import Foundation
import GovernorCore
import GovernorSQLite
import GovernorStore
import GovernorTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import GovernorServer

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current: Mutex<Double>

    init(_ start: Double) { current = Mutex(start) }

    var now: Double { current.withLock { $0 } }
    func set(_ time: Double) { current.withLock { $0 = time } }
    func advance(by seconds: Double) { current.withLock { $0 += seconds } }

    var serverClock: ServerClock { ServerClock { [self] in self.now } }
}

/// A governor in memory: real config files in a temporary directory, an in-memory
/// SQLite database or a database of its own on the test PostgreSQL, a manual clock,
/// and the real router.
struct TestGovernor {
    static let tokens = ["p1": "token-one", "p2": "token-two"]
    /// 2026-11-23T08:30:00Z, a Monday, inside the 08:00–12:00 window.
    static let start: Double = 1_795_422_600

    let directory: TemporaryDirectory
    let parts: GovernorComponents
    let clock: ManualClock
    /// Closes the state; the governor's requests then find it unusable.
    let closeState: @Sendable () -> Void

    static func schoolFile(probes: String = "p1 p2", extra: String = "") -> String {
        """
        [School]
        name = alpha
        timezone = UTC
        [Timing]
        boundaries = 0800 1200 1600
        runs_per_period = 2
        delay = 2
        [Probes]
        ids = \(probes)
        [Probe p1]
        token_sha256 = \(ProbeToken.sha256Hex(tokens["p1"]!))
        label = Library
        [Probe p2]
        token = \(tokens["p2"]!)
        \(extra)
        """
    }

    init(governor: String = "", school: String = TestGovernor.schoolFile(), otherSchools: [String: String] = [:],
         backend: Backend = .sqlite) async throws {
        directory = try TemporaryDirectory("governor-api")
        let main = try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n\(governor)")
        try directory.write("schools/alpha.cfg", school)
        for (name, text) in otherSchools { try directory.write("schools/\(name)", text) }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.isValid, "\(configuration.problems)")
        clock = ManualClock(Self.start)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let database: any StateStore
        switch backend {
        case .sqlite:
            let memory = try SQLiteState.inMemory()
            database = memory
            closeState = { try? memory.close() }
        case .postgres:
            let state = try await Backend.postgres("api")
            database = state
            closeState = { state.close() }
        }
        parts = GovernorComponents(configPath: main, configuration: configuration, database: database,
                                   clock: clock.serverClock, logger: logger)
        try await parts.load()
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(parts))
        try await app.test(.router, body)
    }

    func remove() {
        closeState()
        directory.remove()
    }
}

extension TestClientProtocol {
    /// GET with an optional bearer token.
    func get(_ uri: String, token: String? = nil, accept: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let accept { headers[.accept] = accept }
        return try await execute(uri: uri, method: .get, headers: headers)
    }

    /// Only the status of a GET.
    func status(_ uri: String, token: String? = nil) async throws -> HTTPResponse.Status {
        try await get(uri, token: token).status
    }

    func post(_ uri: String, token: String?, body: String) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    /// The `error` code of a JSON error body.
    var errorCode: String? { (try? json())?["error"] as? String }
}

func resultBody(runAt: String = "2026-11-23T08:40:00Z", output: String = "download 93.1 Mbit/s", exitCode: Int = 0) -> String {
    "{\"run_at\":\"\(runAt)\",\"started_at\":\"2026-11-23T08:40:00.004Z\",\"finished_at\":\"2026-11-23T08:40:35.250Z\","
        + "\"exit_code\":\(exitCode),\"output\":\(JSONText.quoted(output)),\"clock_offset_ms\":-2.5}"
}
