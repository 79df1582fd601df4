import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// The API's published contract, checked against a live governor by schemathesis:
/// no 5xx, no status, content type, header or body that the document does not allow.
@Suite("OpenAPI document and schemathesis", .serialized, .timeLimit(.minutes(5)))
struct OpenAPITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let document = packageRoot + "/Sources/GovernorServer/Resources/openapi.json"
    let http = HTTPTestClient()

    /// schemathesis from the environment `scripts/test` makes (`.build/test-venv`).
    static func schemathesis() throws -> String {
        let path = ProcessInfo.processInfo.environment["GOVERNOR_TEST_VENV"].map { $0 + "/bin/schemathesis" }
            ?? packageRoot + "/.build/test-venv/bin/schemathesis"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(path) is missing: scripts/test installs schemathesis into .build/test-venv (see scripts/packages)")
        }
        return path
    }

    static func startGovernor(_ directory: TemporaryDirectory) throws -> ServerProcess {
        let admin = "operator-secret"
        let sha = try runProcess(Executables.python3(), ["-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", admin])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\nadmin_token_sha256 = \(sha)\n")
        try directory.write("schools/riverside.cfg", """
            [Timing]
            boundaries = 0000 0600 1200 1800
            runs_per_period = 2
            delay = 1
            [Probes]
            ids = riverside-1
            [Probe riverside-1]
            token = probe-secret
            """)
        return try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
    }

    @Test("GET /openapi.json serves the document kept in the repository, byte for byte")
    func servesTheDocument() async throws {
        let directory = try TemporaryDirectory("governor-openapi")
        defer { directory.remove() }
        let server = try Self.startGovernor(directory)
        defer { server.stop() }
        let served = try await http.get("\(server.baseURL)/openapi.json")
        #expect(served.status == 200)
        #expect(served.body == (try String(contentsOfFile: Self.document, encoding: .utf8)))
        let parsed = try JSONSerialization.jsonObject(with: Data(served.body.utf8)) as? [String: Any]
        #expect(parsed?["openapi"] as? String == "3.1.0")
        #expect((parsed?["info"] as? [String: Any])?["version"] as? String == GovernorVersion.current, "the document's version is the release's")
    }

    @Test("schemathesis finds no server error and no answer the document does not allow", arguments: [
        ("operator", "Authorization: Bearer operator-secret", [String]()),
        ("probe", "Authorization: Bearer probe-secret", ["--include-path-regex", "^/v1/probes"]),
    ])
    func schemathesisRun(who: String, header: String, filter: [String]) async throws {
        try await offThePool { try Self.schemathesisRunBody(who: who, header: header, filter: filter) }
    }

    static func schemathesisRunBody(who: String, header: String, filter: [String]) throws {
        let directory = try TemporaryDirectory("governor-openapi")
        defer { directory.remove() }
        let server = try startGovernor(directory)
        defer { server.stop() }
        // Run in the test's directory: schemathesis keeps a cache (.schemathesis/) in
        // its working directory, which would otherwise be the checkout.
        let run = try runProcess("/usr/bin/env", ["-C", directory.path, try schemathesis(),
            "run", "\(server.baseURL)/openapi.json", "-H", header,
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
            "--max-examples", "25", "--seed", "20261202", "--request-timeout", "10", "--workers", "1",
        ] + filter, environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""]) { $1 })
        #expect(run.status == 0, "schemathesis as \(who):\n\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))")
        #expect(run.stdout.contains("passed"), "\(run.stdout.suffix(2000))")
        #expect(!server.log.contains("request failed"), "\(server.log.suffix(3000))")
    }
}
