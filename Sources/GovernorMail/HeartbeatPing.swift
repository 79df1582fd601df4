import Foundation

/// The call a dead man's switch (healthchecks.io and the like) waits for: a plain
/// GET of the check's URL while all is well, a POST to `URL/fail` with the reason
/// when it is not. Its silence is the alarm for a governor that is gone.
public struct HeartbeatPing: Sendable {
    public var url: String
    public var timeoutSeconds: Int

    public init(url: String, timeoutSeconds: Int = 10) {
        self.url = url
        self.timeoutSeconds = timeoutSeconds
    }

    /// All is well.
    public func success() async throws(HeartbeatError) {
        try await call(url, body: [])
    }

    /// Something is wrong: `reason` goes in the body (healthchecks.io shows it).
    public func failure(_ reason: String) async throws(HeartbeatError) {
        try await call(Self.failURL(for: url), body: Array(reason.utf8))
    }

    /// `URL/fail`, before any query: `https://hc-ping.com/UUID` → `https://hc-ping.com/UUID/fail`.
    public static func failURL(for url: String) -> String {
        guard var components = URLComponents(string: url) else { return url + "/fail" }
        components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + "/fail"
        return components.string ?? url + "/fail"
    }

    private func call(_ target: String, body: [UInt8]) async throws(HeartbeatError) {
        let transfer = CurlTransfer(url: target, kind: .http, body: body, connectTimeoutSeconds: min(timeoutSeconds, 15), timeoutSeconds: timeoutSeconds)
        if case .failure(let failure) = await transfer.perform() {
            throw HeartbeatError(message: "\(target): \(failure.reason)")
        }
    }
}

/// A heartbeat that did not reach its receiver.
public struct HeartbeatError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
