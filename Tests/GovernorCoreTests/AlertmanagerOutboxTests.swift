import Foundation
import GovernorTestSupport
import GovernorCore
import Testing

@Suite("Alertmanager: what is sent when")
struct AlertmanagerOutboxTests {
    static let t0: UnixTime = 1_790_000_000

    /// The batch due now, which the test expects there to be.
    static func batch(_ outbox: inout AlertmanagerOutbox, _ firing: [AlertmanagerAlert], now: UnixTime,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> [AlertmanagerAlert] {
        let due = outbox.due(firing: firing, now: now)
        return try #require(due, sourceLocation: sourceLocation)
    }

    static func alert(_ probe: String, since: UnixTime = t0) -> AlertmanagerAlert {
        AlertmanagerAlert(labels: ["alertname": AlertKind.probeDown.rawValue, "probe": probe, "school": "s"], annotations: ["summary": probe],
                          startsAt: RFC3339.format(since), endsAt: RFC3339.format(since))
    }

    @Test("a new alert is sent at once with endsAt four minutes ahead; unchanged, again only after a minute")
    func resend() throws {
        var outbox = AlertmanagerOutbox()
        let nothingYet = outbox.due(firing: [], now: Self.t0)
        #expect(nothingYet == nil, "nothing to say")
        let first = try Self.batch(&outbox, [Self.alert("p1")], now: Self.t0)
        #expect(first.map(\.endsAt) == [RFC3339.format(Self.t0 + 240)])
        outbox.sent(first, at: Self.t0)
        let tooSoon = outbox.due(firing: [Self.alert("p1")], now: Self.t0 + 30)
        #expect(tooSoon == nil)
        let again = try Self.batch(&outbox, [Self.alert("p1")], now: Self.t0 + 60)
        #expect(again.map(\.endsAt) == [RFC3339.format(Self.t0 + 300)] && again.map(\.startsAt) == [RFC3339.format(Self.t0)])
        outbox.sent(again, at: Self.t0 + 60)
        // A second probe goes down: sent at once, with the first.
        let both = try Self.batch(&outbox, [Self.alert("p1"), Self.alert("p2", since: Self.t0 + 70)], now: Self.t0 + 75)
        #expect(both.map { $0.labels["probe"] } == ["p1", "p2"])
        #expect(outbox.firingCount == 1)
    }

    @Test("an alert that stops firing is sent once more, ending at the instant it stopped; kept until Alertmanager takes it")
    func resolve() throws {
        var outbox = AlertmanagerOutbox()
        let first = try Self.batch(&outbox, [Self.alert("p1"), Self.alert("p2")], now: Self.t0)
        outbox.sent(first, at: Self.t0)
        // p1 is back at t0 + 20; Alertmanager is down for two passes.
        let resolving = try Self.batch(&outbox, [Self.alert("p2")], now: Self.t0 + 20)
        #expect(resolving.first { $0.labels["probe"] == "p1" }?.endsAt == RFC3339.format(Self.t0 + 20))
        #expect(resolving.first { $0.labels["probe"] == "p2" }?.endsAt == RFC3339.format(Self.t0 + 260))
        outbox.failed()
        let retried = try Self.batch(&outbox, [Self.alert("p2")], now: Self.t0 + 25)
        #expect(retried.first { $0.labels["probe"] == "p1" }?.endsAt == RFC3339.format(Self.t0 + 20), "the end stays the instant it stopped")
        outbox.sent(retried, at: Self.t0 + 25)
        let settled = outbox.due(firing: [Self.alert("p2")], now: Self.t0 + 30)
        #expect(settled == nil, "the end was taken: nothing more to say")
        #expect(outbox.firingCount == 1)
        // p2 is back too, and p1 goes down again in the same pass.
        let swapped = try Self.batch(&outbox, [Self.alert("p1", since: Self.t0 + 40)], now: Self.t0 + 40)
        #expect(swapped.map { "\($0.labels["probe"]!) \($0.endsAt)" } == ["p1 \(RFC3339.format(Self.t0 + 280))", "p2 \(RFC3339.format(Self.t0 + 40))"])
    }

    @Test("an alert that fires again before its end was sent is firing, not resolved")
    func flap() throws {
        var outbox = AlertmanagerOutbox()
        let first = try Self.batch(&outbox, [Self.alert("p1")], now: Self.t0)
        outbox.sent(first, at: Self.t0)
        _ = outbox.due(firing: [], now: Self.t0 + 5)
        outbox.failed()
        let back = try Self.batch(&outbox, [Self.alert("p1")], now: Self.t0 + 10)
        #expect(back.map(\.endsAt) == [RFC3339.format(Self.t0 + 250)])
    }

    @Test("the alerts carry the school's labels, the governor's own names over them, and a link to the school's page")
    func alerts() {
        let school = SchoolConfig(name: "north school", file: "n.cfg", timeZone: .gmt,
                                  timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                                  probes: [ProbeConfig(name: "n1", mode: .pull, line: 1)],
                                  labels: SchoolLabels([.init(key: "isp", value: "acme-telecom"), .init(key: "district", value: "north-7")]))
        let maker = AlertmanagerAlerts(publicURL: "https://governor.example.org/")
        let down = maker.probeDown(.init(probe: school.probes[0], since: Self.t0, consecutiveMissed: 3,
                                         missedRuns: ["2026-09-21T13:00:00Z (no-contact)"], lastContact: nil),
                                   of: school, endsAt: Self.t0 + 240)
        #expect(down.labels == ["alertname": "GovernorProbeDown", "severity": "warning", "school": "north school", "probe": "n1", "mode": "pull",
                                "isp": "acme-telecom", "district": "north-7"])
        #expect(down.annotations["dashboard"] == "https://governor.example.org/schools/north%20school")
        #expect(down.annotations["missed_runs"] == "2026-09-21T13:00:00Z (no-contact)" && down.annotations["last_contact"] == "never")
        #expect(down.startsAt == RFC3339.format(Self.t0))
        let whole = maker.schoolDown(school, since: Self.t0 + 5, endsAt: Self.t0 + 240)
        #expect(whole.labels["alertname"] == "GovernorSchoolDown" && whole.labels["severity"] == "critical" && whole.labels["probe"] == nil)
    }
}

extension AlertmanagerOutboxTests {
    @Test("[Alerts] alertmanager: one or more http(s) base URLs; anything else is an error with file and line")
    func configuration() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nrequire_tokens = no\n[Alerts]\nalertmanager = http://127.0.0.1:9093/, https://am2.example.org:9093\n")
        let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        #expect(configuration.governor.alertSettings.alertmanagers == ["http://127.0.0.1:9093", "https://am2.example.org:9093"])
        try directory.write("governor.cfg", "[Governor]\nrequire_tokens = no\n[Alerts]\nalertmanager = am.example.org:9093\n")
        #expect {
            try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        } throws: { error in
            "\(error)".contains("governor.cfg:4: error: 'alertmanager' has 'am.example.org:9093'; expected Alertmanager's base URL")
        }
    }
}
