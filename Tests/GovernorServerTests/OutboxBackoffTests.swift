@testable import GovernorServer
import Testing

@Suite("Outbox retries")
struct OutboxBackoffTests {
    @Test("the outbox retries after 5 s, doubling, up to the cap")
    func backoff() {
        let delays = (1...6).map { OutboxBackoff.seconds(afterAttempts: $0, cap: 60) }
        #expect(delays == [5, 10, 20, 40, 60, 60])
        #expect(OutboxBackoff.seconds(afterAttempts: 40, cap: 86_400) == 86_400)
    }
}
