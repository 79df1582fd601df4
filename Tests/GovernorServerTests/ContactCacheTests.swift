import GovernorCore
import GovernorStore
import Synchronization
import Testing

@testable import GovernorServer

@Suite("Contact cache")
struct ContactCacheTests {
    /// The contacts written, in memory: what a flush hands the database.
    final class Written: ContactStore {
        let batches = Mutex<[[String: UnixTime]]>([])
        func recordContacts(_ contacts: [String: UnixTime]) async throws { batches.withLock { $0.append(contacts) } }
        func contacts() async throws -> [String: UnixTime] { [:] }
    }

    @Test("a newer contact is kept, written once and judged once; an older or equal one changes nothing")
    func newerOnly() async throws {
        let cache = ContactCache()
        cache.load(["p1": 100])
        cache.record("p1", at: 90)
        cache.record("p1", at: 100)
        #expect(cache.lastContact(of: "p1") == 100)
        #expect(cache.takeUnjudged().isEmpty)
        let written = Written()
        #expect(try await cache.flush(to: written) == 0)

        cache.record("p1", at: 120)
        cache.record("p2", at: 110)
        cache.record("p1", at: 115)
        #expect(cache.lastContact(of: "p1") == 120)
        #expect(cache.lastContact(of: "p2") == 110)
        #expect(cache.takeUnjudged() == ["p1", "p2"])
        #expect(cache.takeUnjudged().isEmpty)
        #expect(try await cache.flush(to: written) == 2)
        #expect(written.batches.withLock { $0 } == [["p1": 120, "p2": 110]])
        #expect(try await cache.flush(to: written) == 0)
    }
}
