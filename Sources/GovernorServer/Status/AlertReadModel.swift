import GovernorCore
import Synchronization

/// The probes' current alert states, for ``FleetStatus``; the alert
/// service replaces it after every evaluation.
final class AlertReadModel: Sendable {
    /// A state behind a reference: the table's slots (twice as many as probes at
    /// 100,000) hold a pointer each rather than a state of some 100 bytes.
    private final class Held: Sendable {
        let state: ProbeAlertState
        init(_ state: ProbeAlertState) { self.state = state }
    }

    private struct Contents {
        var states: [String: Held] = [:]
        /// The probes that are DOWN, and those with misses: the few that counts and the
        /// attention list start from, kept so that neither walks the fleet.
        var down: Set<String> = []
        var missing: Set<String> = []

        mutating func set(_ probe: String, _ state: ProbeAlertState?) {
            states[probe] = state.map(Held.init)
            if state?.status == .down { down.insert(probe) } else { down.remove(probe) }
            if (state?.consecutiveMissed ?? 0) > 0 { missing.insert(probe) } else { missing.remove(probe) }
        }
    }

    private let contents = Mutex(Contents())

    func replace(with new: [String: ProbeAlertState]) {
        var next = Contents()
        next.states.reserveCapacity(new.count)
        for (probe, state) in new { next.set(probe, state) }
        contents.withLock { $0 = next }
    }

    /// Replaces the states of some probes, leaving the others as they are.
    func update(_ changed: [String: ProbeAlertState]) {
        guard !changed.isEmpty else { return }
        contents.withLock { contents in
            for (probe, state) in changed { contents.set(probe, state) }
        }
    }

    func state(of probe: String) -> ProbeAlertState? {
        contents.withLock { $0.states[probe]?.state }
    }

    /// The probes that are DOWN.
    func downProbes() -> Set<String> {
        contents.withLock { $0.down }
    }

    /// The probes that are DOWN or have missed their latest runs.
    func troubledProbes() -> Set<String> {
        contents.withLock { $0.down.union($0.missing) }
    }
}
