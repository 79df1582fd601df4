import Foundation
import GovernorCore
import Testing

@Suite("Silences: what they cover, and when")
struct SilenceTests {
    static let school = SchoolConfig(name: "riverside", file: "r.cfg", timeZone: .gmt,
                                     timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                                     probes: [ProbeConfig(name: "r-1", mode: .pull, line: 1), ProbeConfig(name: "r-2", mode: .pull, line: 2)],
                                     labels: SchoolLabels([.init(key: "isp", value: "acme-telecom")]))

    @Test(arguments: [
        (Silence.Matcher.school("riverside"), "r-1", true),
        (.school("hillside"), "r-1", false),
        (.probe("r-2"), "r-2", true),
        (.probe("r-2"), "r-1", false),
        (.label(.init(key: "isp", value: "acme-telecom")), "r-1", true),
        (.label(.init(key: "isp", value: "other")), "r-1", false),
        (.label(.init(key: "district", value: "acme-telecom")), "r-1", false),
    ])
    func covers(matcher: Silence.Matcher, probe: String, covered: Bool) {
        let silence = Silence(matcher: matcher, startsAt: 100, endsAt: 200, reason: "r", author: "a")
        #expect(silence.covers(probe: probe, school: Self.school, at: 150) == covered)
        // Never before it starts, nor from its end on.
        #expect(!silence.covers(probe: probe, school: Self.school, at: 99))
        #expect(!silence.covers(probe: probe, school: Self.school, at: 200))
    }

    @Test("a removed silence ends at its removal")
    func removed() {
        let silence = Silence(matcher: .school("riverside"), startsAt: 100, endsAt: 200, reason: "r", author: "a", removedAt: 150)
        #expect(silence.endedAt == 150 && silence.isActive(at: 149) && !silence.isActive(at: 150))
    }
}
