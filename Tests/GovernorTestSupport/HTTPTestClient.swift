import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for tests that talk to a governor process over loopback.
public struct HTTPTestClient: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
        public var headers: [(String, String)]

        public func json() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
        }
    }

    public init() {}

    public func request(_ method: String, _ url: String, token: String? = nil, body: String? = nil, accept: String? = nil,
                        headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: bytes), headers: response.headers.map { ($0.name, $0.value) })
    }

    public func get(_ url: String, token: String? = nil, accept: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        try await request("GET", url, token: token, accept: accept, headers: headers)
    }

    public func post(_ url: String, token: String?, body: String) async throws -> Reply {
        try await request("POST", url, token: token, body: body)
    }
}
