import GovernorCore
import Synchronization

/// The probes' current alert states, for ``FleetStatus``; the alert
/// service replaces it after every evaluation.
final class AlertBook: Sendable {
    private let states = Mutex<[String: ProbeAlertState]>([:])

    func replace(with new: [String: ProbeAlertState]) {
        states.withLock { $0 = new }
    }

    func state(of probe: String) -> ProbeAlertState? {
        states.withLock { $0[probe] }
    }
}
