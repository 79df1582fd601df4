import Foundation

/// Posts alerts to one Prometheus Alertmanager, through its v2 API
/// (`POST /api/v2/alerts`, a JSON array of alerts).
public struct AlertmanagerClient: Sendable {
    /// The Alertmanager's base URL, such as `http://127.0.0.1:9093`.
    public var baseURL: String
    public var timeoutSeconds: Int

    public init(baseURL: String, timeoutSeconds: Int = 10) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeoutSeconds = timeoutSeconds
    }

    public var alertsURL: String { baseURL + "/api/v2/alerts" }

    /// Sends `alerts`, already encoded as a JSON array.
    /// - Throws: ``AlertmanagerError`` naming the URL and what went wrong (unreachable,
    ///   or the status Alertmanager answered, 400 for alerts it does not accept).
    public func post(_ alerts: [UInt8]) async throws(AlertmanagerError) {
        let transfer = CurlTransfer(url: alertsURL, kind: .http, body: alerts, headers: ["Content-Type: application/json"],
                                    connectTimeoutSeconds: min(timeoutSeconds, 5), timeoutSeconds: timeoutSeconds)
        if case .failure(let failure) = await transfer.perform() {
            throw AlertmanagerError(message: "\(alertsURL): \(failure.reason)")
        }
    }
}

/// Alertmanager did not take the alerts.
public struct AlertmanagerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
