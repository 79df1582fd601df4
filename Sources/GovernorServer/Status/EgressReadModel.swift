import GovernorCore
import GovernorStore
import Synchronization

/// The one read model of the probes' egresses (``EgressLedger`` behind a lock): fed by
/// the pull probes' requests and by every measurement stored or read back, asked by
/// `/v1/status`, the dashboard, `/metrics` and the alert email.
///
/// It lives in memory. At start-up it reads the last day's measurements back
/// (``MeasurementLoader``); the request addresses it learns again as the probes ask.
/// With several governors on one state, each knows the requests that reached it.
final class EgressReadModel: Sendable {
    private struct State {
        var ledger = EgressLedger()
        /// The configuration the ledger's probes were last checked against (held, so
        /// that a new one is never mistaken for it at the same address).
        var checked: LiveConfiguration.Snapshot?
        var prunedAt: UnixTime = .min
    }

    private let state = Mutex(State())
    private let live: LiveConfiguration

    init(live: LiveConfiguration) {
        self.live = live
    }

    /// A pull probe's request came from `address`.
    func request(of probe: String, school: String, from address: EgressAddress, at time: UnixTime) {
        state.withLock { $0.ledger.observe(probe: probe, school: school, address: address, source: .request, at: time) }
    }

    /// Counts a stored result's test against its egress, learning the measured address first.
    func test(of probe: String, school: String, measuredAddress text: String?, at time: UnixTime) {
        let measured = text.flatMap { EgressAddress($0) }
        let budget = live.snapshot.governor.dailyTestsPerEgress
        state.withLock { state in
            if let measured { state.ledger.observe(probe: probe, school: school, address: measured, source: .measurement, at: time) }
            state.ledger.countTest(of: probe, measured: measured, at: time, budget: budget)
        }
    }

    /// The ledger as of now, checked against the configuration in force: probes that
    /// left it are forgotten, a changed budget looks at every egress again, and what
    /// is older than a day is dropped once a minute.
    private func current<T>(now: UnixTime, _ body: (EgressLedger) -> T) -> T {
        let snapshot = live.snapshot
        return state.withLock { state in
            let budget = snapshot.governor.dailyTestsPerEgress
            if state.checked !== snapshot {
                state.checked = snapshot
                state.ledger.keep(only: snapshot.probes.mapValues(\.school))
                state.ledger.rebudget(budget, now: now)
            }
            if state.prunedAt <= now - 60 {
                state.ledger.prune(now: now, budget: budget)
                state.prunedAt = now
            }
            return body(state.ledger)
        }
    }

    func view(of probe: String, now: UnixTime) -> EgressLedger.ProbeView? {
        current(now: now) { $0.view(of: probe, now: now) }
    }

    func conflict(of probe: String, now: UnixTime) -> EgressLedger.Conflict? {
        current(now: now) { $0.conflict(of: probe, now: now) }
    }

    func conflicts(now: UnixTime) -> [(probe: String, school: String, conflict: EgressLedger.Conflict)] {
        current(now: now) { $0.conflicts(now: now) }
    }

    func overBudget(now: UnixTime) -> [EgressLedger.BusyEgress] {
        let budget = live.snapshot.governor.dailyTestsPerEgress
        return current(now: now) { $0.overBudget(budget, now: now) }
    }

    func sharedEgresses(now: UnixTime) -> (egresses: Int, probes: Int) {
        current(now: now) { $0.sharedEgresses }
    }

    /// Whether the probe shares its egress with another.
    func isShared(_ probe: String, now: UnixTime) -> Bool {
        current(now: now) { $0.sharerCount(of: probe) > 0 }
    }
}
