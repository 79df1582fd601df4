import GovernorDashboard
import GovernorStore
import Synchronization

/// Each probe's latest stored result, as the status views show it, in memory.
///
/// The database holds the results; this is ``FleetStatus``'s copy of the one row per
/// probe that every view of the fleet needs, so that a page of 50 schools does not
/// ask the database for the latest result of 100,000 probes. It is read once at
/// start-up and kept in step by ``ResultRecorder``, through which every stored
/// result passes, pull or push.
final class LatestResults: Sendable {
    /// What a view shows of a probe's latest result.
    struct Entry: Sendable, Equatable {
        var summary: ResultSummary
        var clockOffsetMs: Double?
        var receivedAt: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Replaces everything with the database's latest result of each probe.
    func load(_ results: [String: TestResult]) {
        let loaded = results.mapValues(Entry.init)
        entries.withLock { $0 = loaded }
    }

    /// A result just stored: it becomes the probe's latest unless a later one (by
    /// id, the order the database stored them in) is already known.
    func record(_ result: TestResult) {
        let entry = Entry(result)
        entries.withLock { entries in
            if let known = entries[result.probe], known.summary.id > entry.summary.id { return }
            entries[result.probe] = entry
        }
    }

    func latest(of probe: String) -> Entry? {
        entries.withLock { $0[probe] }
    }
}

extension LatestResults.Entry {
    init(_ result: TestResult) {
        self.init(summary: ResultSummary(result), clockOffsetMs: result.clockOffsetMs, receivedAt: result.receivedAt)
    }
}
