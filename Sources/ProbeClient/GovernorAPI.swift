public import AsyncHTTPClient
import Foundation
import GovernorCore
import NIOCore
import NIOHTTP1

/// The governor's probe endpoints, over HTTP.
public struct GovernorAPI: Sendable {
    public let settings: ProbeSettings
    private let client: HTTPClient

    public init(settings: ProbeSettings, client: HTTPClient = .shared) {
        self.settings = settings
        self.client = client
    }

    /// A run time and the clock sample its exchange gave.
    public struct NextRun: Sendable {
        public var runAt: Double
        public var sentAt: Double
        public var receivedAt: Double
        public var serverTime: Double
    }

    /// The probe's lease as the governor answered it, with the exchange's clock sample.
    public struct Lease: Sendable {
        public var runs: [Int64]
        public var leaseUntil: Int64
        /// Runs withdrawn since they were leased: never to be run.
        public var cancelled: [Int64]
        public var sentAt: Double
        public var receivedAt: Double
        public var serverTime: Double

        public init(runs: [Int64], leaseUntil: Int64, cancelled: [Int64], sentAt: Double = 0, receivedAt: Double = 0, serverTime: Double = 0) {
            self.runs = runs
            self.leaseUntil = leaseUntil
            self.cancelled = cancelled
            self.sentAt = sentAt
            self.receivedAt = receivedAt
            self.serverTime = serverTime
        }
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case unreachable(String)
        case unauthorized(String)
        /// Another answer; `code` is the `error` of its JSON body, when it has one.
        case rejected(status: Int, code: String?, message: String)
        case malformed(String)

        public var description: String {
            switch self {
            case .unreachable(let reason): "the governor is unreachable: \(reason)"
            case .unauthorized(let message): "the governor refused the token (401): the token of this probe is wrong or not configured for it; check 'token' / 'token_file' and the governor's [Probe ID] token_sha256 (\(message))"
            case .rejected(let status, let code, let message): "the governor answered \(status)\(code.map { " \($0)" } ?? ""): \(message)"
            case .malformed(let reason): "the governor's answer is not understood: \(reason)"
            }
        }

        /// The governor says this result can never be accepted (400 `result_unacceptable`):
        /// the only answer on which a queued result leaves the queue undelivered.
        public var isPermanentRejection: Bool {
            if case .rejected(400, "result_unacceptable", _) = self { return true }
            return false
        }

        /// The result is larger than the governor takes (413 `result_too_large`): cut
        /// its output and send it again.
        public var isTooLarge: Bool {
            if case .rejected(413, "result_too_large", _) = self { return true }
            return false
        }
    }

    public func next() async throws(Failure) -> NextRun {
        let sentAt = WallClock.now()
        let (status, body) = try await send("GET", "/v1/probes/\(settings.id)/next", body: nil)
        let receivedAt = WallClock.now()
        guard status == 200 else { throw failure(status, body) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let runAt = object["run_at_unix"] as? Double ?? (object["run_at_unix"] as? Int).map(Double.init),
              let serverText = object["server_time"] as? String, let serverTime = RFC3339.parsePrecise(serverText) else {
            throw .malformed("expected run_at_unix and server_time in \(body.prefix(200))")
        }
        return NextRun(runAt: runAt, sentAt: sentAt, receivedAt: receivedAt, serverTime: serverTime)
    }

    /// `GET /v1/probes/{id}/runs?horizon=SECONDS`: the runs up to the horizon (the
    /// governor may grant less), and those withdrawn since.
    /// - Parameter timeout: how long the exchange may take (a lease is asked for
    ///   between runs, and must never make the next one late).
    public func lease(horizon: Int, timeout: Double = 15) async throws(Failure) -> Lease {
        let sentAt = WallClock.now()
        let (status, body) = try await send("GET", "/v1/probes/\(settings.id)/runs?horizon=\(horizon)", body: nil, timeout: timeout)
        let receivedAt = WallClock.now()
        guard status == 200 else { throw failure(status, body) }
        func times(_ value: Any?) -> [Int64]? {
            (value as? [[String: Any]])?.map { ($0["run_at_unix"] as? NSNumber)?.int64Value ?? -1 }
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let runs = times(object["runs"]), let cancelled = times(object["cancelled"]), !(runs + cancelled).contains(-1),
              let until = (object["lease_until_unix"] as? NSNumber)?.int64Value,
              let serverText = object["server_time"] as? String, let serverTime = RFC3339.parsePrecise(serverText) else {
            throw .malformed("expected runs, cancelled, lease_until_unix and server_time in \(body.prefix(200))")
        }
        return Lease(runs: runs.sorted(), leaseUntil: until, cancelled: cancelled, sentAt: sentAt, receivedAt: receivedAt, serverTime: serverTime)
    }

    public func report(_ report: ProbeReport) async throws(Failure) {
        let body: String
        do {
            body = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        } catch {
            throw .malformed("cannot encode the result: \(error)")
        }
        let (status, answer) = try await send("POST", "/v1/probes/\(settings.id)/results", body: body)
        // 201: stored; 200: stored before (a re-send whose first answer was lost).
        guard status == 201 || status == 200 else { throw failure(status, answer) }
    }

    private func failure(_ status: Int, _ body: String) -> Failure {
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let message = object?["message"] as? String ?? String(body.prefix(200))
        return status == 401 ? .unauthorized(message) : .rejected(status: status, code: object?["error"] as? String, message: message)
    }

    private func send(_ method: String, _ path: String, body: String?, timeout: Double = 15) async throws(Failure) -> (Int, String) {
        var request = HTTPClientRequest(url: settings.server + path)
        request.method = HTTPMethod(rawValue: method)
        if let token = settings.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            // The client retries a refused connection until this deadline.
            let response = try await client.execute(request, timeout: .milliseconds(Int64(max(timeout, 0.5) * 1000)))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: bytes))
        } catch {
            throw .unreachable("\(error)")
        }
    }
}
