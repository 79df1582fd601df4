import GovernorCore
import GovernorStore
import Synchronization

/// Remembers when each probe was last heard from.
///
/// A contact is recorded in memory on the request path and written to the database
/// in batches by ``flush(to:)`` (every half second by ``ContactFlushService``), so no
/// request waits for a disk write and a contact reaches the disk at most a second late.
final class ContactCache: Sendable {
    private struct State {
        var latest: [String: UnixTime] = [:]
        var unsaved: [String: UnixTime] = [:]
        /// Probes heard from since the alert judgement last asked.
        var unjudged: Set<String> = []
    }

    private let state = Mutex(State())

    /// Starts from the contacts already stored.
    func load(_ stored: [String: UnixTime]) {
        state.withLock { $0.latest.merge(stored) { max($0, $1) } }
    }

    func record(_ probe: String, at time: UnixTime) {
        state.withLock { state in
            // One lookup of the probe's slot, then written in place: at 100,000 probes
            // each lookup of these tables is a cache miss.
            if let slot = state.latest.index(forKey: probe) {
                guard state.latest.values[slot] < time else { return }
                state.latest.values[slot] = time
            } else {
                state.latest[probe] = time
            }
            state.unsaved[probe] = time
            state.unjudged.insert(probe)
        }
    }

    /// Contacts other governors recorded (read from the shared state): newer ones
    /// count as this governor's own, except that they are stored already.
    func merge(_ remote: [String: UnixTime]) {
        state.withLock { state in
            for (probe, time) in remote where (state.latest[probe] ?? .min) < time {
                state.latest[probe] = time
                state.unjudged.insert(probe)
            }
        }
    }

    /// The probes heard from since the last call: the alert judgement's share of the news.
    func takeUnjudged() -> Set<String> {
        state.withLock { state in
            defer { state.unjudged = [] }
            return state.unjudged
        }
    }

    /// How many of `probes` have ever made contact, leaving out `excluded`: one pass
    /// under one lock, for the fleet's counts.
    func contactedCount(of probes: some Sequence<String>, excluding excluded: Set<String>) -> Int {
        state.withLock { state in
            probes.reduce(0) { count, probe in count + (state.latest[probe] != nil && !excluded.contains(probe) ? 1 : 0) }
        }
    }

    func lastContact(of probe: String) -> UnixTime? {
        state.withLock { $0.latest[probe] }
    }

    /// Writes the contacts recorded since the last flush; on failure they stay queued.
    /// - Returns: how many contacts were written.
    @discardableResult
    func flush(to database: any ContactStore) async throws -> Int {
        let batch = state.withLock { state in
            defer { state.unsaved = [:] }
            return state.unsaved
        }
        guard !batch.isEmpty else { return 0 }
        do {
            try await database.recordContacts(batch)
            return batch.count
        } catch {
            state.withLock { state in state.unsaved.merge(batch) { max($0, $1) } }
            throw error
        }
    }
}
