import GovernorCore
import GovernorStore
import Synchronization

/// Every probe's upcoming runs, in memory, so that "when is my next run?" is a
/// lock and a lookup, not a database query.
///
/// It holds only runs already stored in the database; the database stays the truth.
final class RunCache: Sendable {
    private let runs = Mutex<[String: [StoredRun]]>([:])

    /// The probe's earliest run strictly after `instant`, dropping the ones before it.
    func next(for probe: String, after instant: UnixTime) -> StoredRun? {
        runs.withLock { runs in
            guard var list = runs[probe] else { return nil }
            let passed = list.prefix { $0.runAt <= instant }.count
            if passed > 0 {
                list.removeFirst(passed)
                runs[probe] = list
            }
            return list.first
        }
    }

    /// Adds runs, ignoring any already present (two requests may store the same window).
    func insert(_ newRuns: [StoredRun]) {
        guard !newRuns.isEmpty else { return }
        runs.withLock { runs in
            for run in newRuns {
                // In place: the list is not copied for each run (400,000 at start-up at 100,000 probes).
                runs[run.probe, default: []].insertKeepingOrder(run)
            }
        }
    }

    /// The probe's runs strictly after `instant`, in time order.
    func upcoming(for probe: String, after instant: UnixTime) -> [StoredRun] {
        runs.withLock { runs in (runs[probe] ?? []).filter { $0.runAt > instant } }
    }

    /// Removes these runs.
    func remove(_ gone: [StoredRun]) {
        runs.withLock { runs in
            for run in gone { runs[run.probe]?.removeAll { $0.runAt == run.runAt } }
        }
    }

    func remove(probes: Set<String>) {
        runs.withLock { runs in
            for probe in probes { runs[probe] = nil }
        }
    }
}

extension [StoredRun] {
    /// Inserts `run` in run-time order unless a run at its instant is present; runs
    /// that come in time order (the start-up read) are appended without a search.
    fileprivate mutating func insertKeepingOrder(_ run: StoredRun) {
        guard let last, last.runAt >= run.runAt else {
            append(run)
            return
        }
        let index = firstIndex { $0.runAt >= run.runAt } ?? count
        if index < count && self[index].runAt == run.runAt { return }
        insert(run, at: index)
    }
}
