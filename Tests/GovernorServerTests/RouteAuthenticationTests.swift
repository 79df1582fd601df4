import Foundation
import GovernorCore
import GovernorTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import GovernorServer

/// Every operation of the OpenAPI document, asked with no credentials, with the
/// operator's token and with a probe's: each answers as its `security` says. A route
/// added outside the authenticated groups, or to the wrong one, fails here.
@Suite("Each route is behind the authentication its contract names")
struct RouteAuthenticationTests {
    static let operatorToken = "operator-secret"

    /// (method, path, the schemes that may call it; empty: anyone).
    static func operations() throws -> [(method: String, path: String, schemes: Set<String>)] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/GovernorServer/Resources/openapi.json").path
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var found: [(String, String, Set<String>)] = []
        for (path, operations) in paths {
            for (method, operation) in operations {
                guard let operation = operation as? [String: Any], operation["responses"] != nil else { continue }
                let security = (operation["security"] as? [[String: Any]]) ?? []
                found.append((method.uppercased(), path, Set(security.flatMap(\.keys))))
            }
        }
        return found.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    @Test("no credentials: 401 unless public; the operator's token: only operator routes; a probe's token: only its own")
    func everyRoute() async throws {
        let governor = try await TestGovernor(governor: "admin_token_sha256 = \(ProbeToken.sha256Hex(Self.operatorToken))\n")
        defer { governor.remove() }
        let operations = try Self.operations()
        #expect(operations.count >= 13)
        try await governor.test { client throws in
            for (method, template, schemes) in operations {
                let uri = template.replacingOccurrences(of: "{id}", with: "p1").replacingOccurrences(of: "{name}", with: "alpha")
                func ask(_ token: String?) async throws -> HTTPResponse.Status {
                    if method == "POST" { return try await client.post(uri, token: token, body: resultBody()).status }
                    if method == "DELETE" {
                        var headers: HTTPFields = [:]
                        if let token { headers[.authorization] = "Bearer \(token)" }
                        return try await client.execute(uri: uri.replacingOccurrences(of: "/p1", with: "/1"), method: .delete, headers: headers).status
                    }
                    return try await client.get(uri, token: token).status
                }
                let anonymous = try await ask(nil)
                #expect((anonymous == .unauthorized) == !schemes.isEmpty, "\(method) \(template) without credentials: \(anonymous)")
                let asOperator = try await ask(Self.operatorToken)
                #expect((asOperator == .unauthorized) == !(schemes.isEmpty || schemes.contains("operatorToken")),
                        "\(method) \(template) with the operator's token: \(asOperator)")
                let asProbe = try await ask(TestGovernor.tokens["p1"])
                #expect((asProbe == .unauthorized) == !(schemes.isEmpty || schemes.contains("probeToken")),
                        "\(method) \(template) with p1's token: \(asProbe)")
            }
        }
    }
}
