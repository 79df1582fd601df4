public import AsyncHTTPClient
import Foundation
import GovernorCore
public import GovernorWire
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

    /// A run time and the clock sample of the exchange that gave it.
    public struct ClockedRun: Sendable {
        public var runAt: Double
        public var sentAt: Double
        public var receivedAt: Double
        public var serverTime: Double
        /// The probe's group, when the run is a group run.
        public var group: String?
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
        /// Of ``runs``, the group runs.
        public var grouped: Set<Int64> = []

        public init(runs: [Int64], leaseUntil: Int64, cancelled: [Int64], sentAt: Double = 0, receivedAt: Double = 0, serverTime: Double = 0,
                    grouped: Set<Int64> = []) {
            self.grouped = grouped
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
        /// An answer that is not the governor's own: wrong content type, or a body that
        /// does not name this probe or the result sent (a captive portal, a filtering
        /// proxy). It changes nothing the probe holds.
        case notGovernor(status: Int, contentType: String, preview: String)

        public var description: String {
            switch self {
            case .unreachable(let reason): "the governor is unreachable: \(reason)"
            case .unauthorized(let message): "the governor refused the token (401): the token of this probe is wrong or not configured for it; check 'token' / 'token_file' and the governor's [Probe ID] token_sha256 (\(message))"
            case .rejected(let status, let code, let message): "the governor answered \(status)\(code.map { " \($0)" } ?? ""): \(message)"
            case .malformed(let reason): "the governor's answer is not understood: \(reason)"
            case .notGovernor(let status, let contentType, let preview):
                "something other than the governor answers (HTTP \(status), Content-Type '\(contentType)', beginning '\(preview)'): "
                    + "a captive portal or a filtering proxy on this network? Nothing is deleted or changed; retrying"
            }
        }

        /// What makes two failures one episode of trouble, logged once: the text, but
        /// for a stranger's answer only its status and type (a portal's page may carry
        /// the time).
        public var episode: String {
            if case .notGovernor(let status, let contentType, _) = self { return "not the governor: \(status) \(contentType)" }
            return description
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

    public func next() async throws(Failure) -> ClockedRun {
        let sentAt = WallClock.now()
        let answer = try await send("GET", "/v1/probes/\(settings.id)/next", body: nil)
        let receivedAt = WallClock.now()
        let next = try answer.governorJSON(NextRun.self, probe: settings.id)
        guard let serverTime = RFC3339.parsePrecise(next.serverTime) else {
            throw .malformed("'server_time' is '\(next.serverTime.prefix(40))'; expected an RFC 3339 time")
        }
        guard let runAt = RunTime.seconds(next.runAtUnix) else {
            throw .malformed("'run_at_unix' is \(next.runAtUnix), which is not a run time (whole Unix seconds within ±\(RunTime.limit))")
        }
        return ClockedRun(runAt: Double(runAt), sentAt: sentAt, receivedAt: receivedAt, serverTime: serverTime, group: next.group)
    }

    /// `GET /v1/probes/{id}/runs?horizon=SECONDS`: the runs up to the horizon (the
    /// governor may grant less), and those withdrawn since.
    /// - Parameter timeout: how long the exchange may take (a lease is asked for
    ///   between runs, and must never make the next one late).
    public func lease(horizon: Int, timeout: Double = 15) async throws(Failure) -> Lease {
        let sentAt = WallClock.now()
        let answer = try await send("GET", "/v1/probes/\(settings.id)/runs?horizon=\(horizon)", body: nil, timeout: timeout)
        let receivedAt = WallClock.now()
        let lease = try answer.governorJSON(RunLease.self, probe: settings.id)
        guard let serverTime = RFC3339.parsePrecise(lease.serverTime) else {
            throw .malformed("'server_time' is '\(lease.serverTime.prefix(40))'; expected an RFC 3339 time")
        }
        // Times that no clock can hold (1e30) are refused here; the loop refuses those
        // too far from its own clock, and says so.
        func seconds(_ value: Int64, _ field: String) throws(Failure) -> Int64 {
            guard let whole = RunTime.seconds(value) else {
                throw .malformed("'\(field)' is \(value), which is not a run time (whole Unix seconds within ±\(RunTime.limit))")
            }
            return whole
        }
        var runs: [Int64] = [], cancelled: [Int64] = [], grouped: Set<Int64> = []
        for run in lease.runs {
            let runAt = try seconds(run.runAtUnix, "runs[].run_at_unix")
            runs.append(runAt)
            if run.group != nil { grouped.insert(runAt) }
        }
        for run in lease.cancelled { cancelled.append(try seconds(run.runAtUnix, "cancelled[].run_at_unix")) }
        return Lease(runs: runs.sorted(), leaseUntil: try seconds(lease.leaseUntilUnix, "lease_until_unix"), cancelled: cancelled,
                     sentAt: sentAt, receivedAt: receivedAt, serverTime: serverTime, grouped: grouped)
    }

    /// Delivers one result. It returns only when the governor acknowledged this very
    /// result: 201 or 200 (stored before: a re-send whose first answer was lost), JSON,
    /// naming a stored id and echoing the report's `run_at` or ad-hoc `idempotency_key`.
    /// Anything else throws, and the result stays queued.
    public func report(_ report: ResultReport) async throws(Failure) {
        let body: String
        do {
            body = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        } catch {
            throw .malformed("cannot encode the result: \(error)")
        }
        let answer = try await send("POST", "/v1/probes/\(settings.id)/results", body: body)
        guard answer.status == 201 || answer.status == 200 else { throw answer.failure() }
        let ack = try answer.governorJSON(ResultCreated.self, probe: nil)
        guard ack.acknowledges(report) else { throw answer.notGovernor() }
    }

    private func send(_ method: String, _ path: String, body: String?, timeout: Double = 15) async throws(Failure) -> Answer {
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
            return Answer(status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "", body: bytes)
        } catch {
            throw .unreachable("\(error)")
        }
    }
}

/// Run times as the probe accepts them from the wire.
public enum RunTime {
    /// Whole Unix seconds beyond this (about year 33658) are not run times.
    public static let limit: Double = 1e12

    /// `value` as whole seconds, or nil when it is not finite, not whole or beyond ``limit``.
    public static func seconds(_ value: Double) -> Int64? {
        guard value.isFinite, value.rounded(.towardZero) == value, abs(value) <= limit else { return nil }
        return Int64(value)
    }

    /// `value`, or nil when it is beyond ``limit``.
    public static func seconds(_ value: Int64) -> Int64? {
        value.magnitude <= UInt64(limit) ? value : nil
    }
}

/// One HTTP answer, before it is trusted.
struct Answer {
    var status: Int
    var contentType: String
    var body: ByteBuffer

    var isJSON: Bool {
        contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// The body as `T`, when this is the governor's own answer: 200, JSON, and (with
    /// `probe`) naming this probe. Anything else is a ``GovernorAPI/Failure``: the
    /// governor's error, or ``GovernorAPI/Failure/notGovernor(status:contentType:preview:)``.
    func governorJSON<T: Decodable & ProbeNaming>(_ type: T.Type, probe: String?) throws(GovernorAPI.Failure) -> T {
        guard status == 200 || status == 201, isJSON else { throw status == 200 || status == 201 ? notGovernor() : failure() }
        let value: T
        let data = Data(body.readableBytesView)
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch {
            // JSON that names this probe is the governor's answer however it is broken:
            // say what is wrong with it (a run time no clock can hold, 1e30), rather than
            // take it for a stranger's page.
            guard let probe, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  object["probe"] as? String == probe else { throw notGovernor() }
            if let (field, number) = Self.impossibleRunTime(in: object) {
                throw .malformed("'\(field)' is \(number), which is not a run time (whole Unix seconds within ±\(RunTime.limit))")
            }
            throw .malformed("the answer does not match the governor's API: \(error)")
        }
        if let probe, value.namedProbe != probe { throw notGovernor() }
        return value
    }

    /// The first `…_unix` field, at any depth, whose number is not a run time.
    static func impossibleRunTime(in value: Any, path: String = "") -> (String, Double)? {
        if let object = value as? [String: Any] {
            for (key, item) in object.sorted(by: { $0.key < $1.key }) {
                let field = path.isEmpty ? key : "\(path).\(key)"
                if key.hasSuffix("_unix"), let number = item as? Double, RunTime.seconds(number) == nil { return (field, number) }
                if let found = impossibleRunTime(in: item, path: field) { return found }
            }
        } else if let array = value as? [Any] {
            for item in array {
                if let found = impossibleRunTime(in: item, path: path + "[]") { return found }
            }
        }
        return nil
    }

    /// A non-2xx answer: the governor's error when its body is the governor's JSON error.
    func failure() -> GovernorAPI.Failure {
        guard isJSON, let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(body.readableBytesView)) else { return notGovernor() }
        return status == 401 ? .unauthorized(error.message) : .rejected(status: status, code: error.error, message: error.message)
    }

    func notGovernor() -> GovernorAPI.Failure {
        // The first bytes, printable, for the log: enough to recognise a portal's page.
        let preview = String(decoding: body.readableBytesView.prefix(80), as: UTF8.self)
            .map { $0.isNewline || $0 == "\t" ? " " : $0 }.filter { !$0.isASCII || ($0.asciiValue ?? 0) >= 0x20 }
        return .notGovernor(status: status, contentType: contentType.isEmpty ? "none" : contentType, preview: String(preview))
    }
}

/// An answer that says which probe it is for; nil where the answer names none.
protocol ProbeNaming {
    var namedProbe: String? { get }
}

extension NextRun: ProbeNaming {
    var namedProbe: String? { probe }
}

extension RunLease: ProbeNaming {
    var namedProbe: String? { probe }
}

extension ResultCreated: ProbeNaming {
    var namedProbe: String? { nil }

    /// Whether this answer names a stored result for `report`: an ad-hoc run by its
    /// key, a scheduled run by its `run_at` (to the second, as the governor stores it).
    func acknowledges(_ report: ResultReport) -> Bool {
        guard id > 0 else { return false }
        if let key = report.idempotencyKey { return idempotencyKey == key }
        guard let echoed = RFC3339.parsePrecise(runAt), let sent = RFC3339.parsePrecise(report.runAt) else { return false }
        return echoed.rounded(.down) == sent.rounded(.down)
    }
}
