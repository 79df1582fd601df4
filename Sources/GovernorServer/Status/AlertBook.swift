import GovernorCore
import Synchronization

/// The probes' current alert states, for ``FleetStatus``; the alert
/// service replaces it after every evaluation.
final class AlertBook: Sendable {
    private let states = Mutex<[String: ProbeAlertState]>([:])

    func replace(with new: [String: ProbeAlertState]) {
        states.withLock { $0 = new }
    }

    /// Replaces the states of some probes, leaving the others as they are.
    func update(_ changed: [String: ProbeAlertState]) {
        guard !changed.isEmpty else { return }
        states.withLock { states in
            for (probe, state) in changed { states[probe] = state }
        }
    }

    func state(of probe: String) -> ProbeAlertState? {
        states.withLock { $0[probe] }
    }
}
