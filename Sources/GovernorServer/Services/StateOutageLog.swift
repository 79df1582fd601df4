import GovernorSQLite
import GovernorStore
import Logging
import Synchronization

/// Logs an outage of the state (a full disk, a lost PostgreSQL) once per episode,
/// from whichever part meets it first, and its end once: during an outage every
/// request and every loop would otherwise log the same error several times a second.
/// Errors that are not outages are logged every time, as before.
final class StateOutageLog: Sendable {
    private let during = Atomic<Bool>(false)
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Logs that `part` failed with `error`.
    /// - Returns: the outage `error` means, or nil when it is another error.
    @discardableResult
    func failed(_ part: String, _ error: any Error, logger: Logger? = nil) -> StateUnavailable? {
        let logger = logger ?? self.logger
        guard let outage = StateUnavailable(classifying: error) else {
            logger.error("\(part): \(error)")
            return nil
        }
        if during.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            logger.error("\(part): \(outage); requests that need the state are answered 503 with Retry-After until it recovers (logged once until then)")
        } else {
            logger.debug("\(part): \(outage)")
        }
        return outage
    }

    /// A write reached the state: an outage, if there was one, is over.
    func succeeded() {
        guard during.load(ordering: .relaxed),
              during.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged else { return }
        logger.notice("the state takes writes again")
    }
}
