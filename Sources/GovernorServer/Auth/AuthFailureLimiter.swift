import GovernorCore
import Logging
import Synchronization

/// Failed probe authentications, per client address: counted for `/metrics`, logged
/// without flooding the journal, and answered 429 once an address keeps failing.
///
/// Only failures count and only failures are refused: a correct token is always
/// served, because the probes of one school share the school's one public address
/// and one misconfigured probe must not lock out the others.
final class AuthFailureLimiter: Sendable {
    /// Failures of one address within ``window`` seconds after which its failing
    /// requests get 429 until the window has passed.
    static let limit = 10
    static let window: Double = 60

    enum Reason: String, Sendable {
        case missingToken = "missing_token"
        case unknownProbe = "unknown_probe"
        case wrongToken = "wrong_token"
    }

    private struct Address {
        var windowStart: Double
        var failures: Int
        var logged: Int
    }

    /// Addresses tracked at most; past it the oldest windows are forgotten first.
    private static let maxAddresses = 10_000
    private let addresses = Mutex<[String: Address]>([:])
    private let metrics: GovernorMetrics
    private let logger: Logger

    init(metrics: GovernorMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Records a failure; true when the address has failed too often and should be
    /// told to slow down.
    func record(_ reason: Reason, probe: String, address: String, at now: Double) -> Bool {
        metrics.authFailed(reason: reason.rawValue)
        let (failures, log) = addresses.withLock { addresses -> (Int, Bool) in
            var entry = addresses[address] ?? Address(windowStart: now, failures: 0, logged: 0)
            if now - entry.windowStart >= Self.window { entry = Address(windowStart: now, failures: 0, logged: 0) }
            entry.failures += 1
            // The first few of each window are logged; the rest are summed up in the next line logged.
            let log = entry.logged < 3
            if log { entry.logged += 1 }
            if addresses.count >= Self.maxAddresses && addresses[address] == nil {
                let oldest = addresses.min { $0.value.windowStart < $1.value.windowStart }?.key
                if let oldest { addresses[oldest] = nil }
            }
            addresses[address] = entry
            return (entry.failures, log)
        }
        if log {
            logger.warning("probe authentication failed", metadata: [
                "address": "\(address)", "probe": "\(probe)", "reason": "\(reason.rawValue)", "failures_this_minute": "\(failures)",
            ])
        }
        return failures > Self.limit
    }
}
