import GovernorViews
import GovernorWire
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

    private struct Contents {
        var entries: [String: Entry] = [:]
        /// The probes whose latest result failed or whose clock is off: where the
        /// attention list looks, without walking the fleet.
        var troubled: [String: Entry] = [:]

        mutating func set(_ probe: String, _ entry: Entry) {
            entries[probe] = entry
            troubled[probe] = entry.isTroubling ? entry : nil
        }
    }

    private let contents = Mutex(Contents())

    /// Replaces everything with the database's latest result of each probe.
    func load(_ results: [String: TestResult]) {
        var loaded = Contents()
        for (probe, result) in results { loaded.set(probe, Entry(result)) }
        contents.withLock { $0 = loaded }
    }

    /// A result just stored: it becomes the probe's latest unless a later one (by
    /// id, the order the database stored them in) is already known.
    func record(_ result: TestResult) {
        let entry = Entry(result)
        contents.withLock { contents in
            if let known = contents.entries[result.probe], known.summary.id > entry.summary.id { return }
            contents.set(result.probe, entry)
        }
    }

    func latest(of probe: String) -> Entry? {
        contents.withLock { $0.entries[probe] }
    }

    /// The probes whose latest result failed (at any time: the caller says how
    /// recent counts) or reported a clock offset beyond ``FleetStatus/clockSkewMs``.
    func troubling() -> [String: Entry] {
        contents.withLock { $0.troubled }
    }
}

extension LatestResults.Entry {
    init(_ result: TestResult) {
        self.init(summary: ResultSummary(result), clockOffsetMs: result.clockOffsetMs, receivedAt: result.receivedAt)
    }

    var isSkewed: Bool { abs(clockOffsetMs ?? 0) > FleetStatus.clockSkewMs }

    /// Failed, or off the clock: may put its probe on the attention list.
    var isTroubling: Bool { !summary.succeeded || isSkewed }
}
