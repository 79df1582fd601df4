import GovernorCore
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

    @Test("the heartbeat: healthy while both loops pass and mail flows; failing once email has failed for fail_after; silent when a loop is stuck")
    func heartbeatVerdict() {
        func verdict(scheduler: UnixTime = 995, judgement: UnixTime = 999, failing: (UnixTime, String)? = nil) -> HeartbeatService.Verdict {
            HeartbeatService.verdict(now: 1000, schedulerPass: scheduler, judgementPass: judgement, failing: failing, failAfter: 900)
        }
        #expect(verdict() == .healthy)
        #expect(verdict(failing: (101, "refused")) == .healthy, "failing for 899 s")
        #expect(verdict(failing: (100, "refused")) == .failing("alert email has not been delivered for 15m: refused"))
        #expect(verdict(scheduler: 939) == .silent("the scheduler has not completed a pass for 61 s"))
        #expect(verdict(judgement: 900, failing: (0, "refused")) == .silent("the alert judgement has not completed a pass for 100 s"),
                "a stuck judgement is silence, whatever the mail does")
    }
}
