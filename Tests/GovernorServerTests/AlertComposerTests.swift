import Foundation
import GovernorCore
import GovernorStore
import Testing

@testable import GovernorServer

@Suite("Alert email")
struct AlertComposerTests {
    static let utc = TimeZone(identifier: "UTC")!

    @Test("an alert email names the school's labels, and an identity conflict of its probe while it lasts")
    func identityConflict() throws {
        var settings = AlertSettings()
        settings.smtpURL = "smtp://127.0.0.1:25"
        settings.from = "governor@example.org"
        settings.to = ["ops@example.org"]
        let probe = ProbeConfig(name: "p1", mode: .pull, line: 1)
        let school = SchoolConfig(name: "s", file: "s.cfg", timeZone: Self.utc, timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                                  probes: [probe, ProbeConfig(name: "p2", mode: .pull, line: 2)],
                                  labels: SchoolLabels([.init(key: "isp", value: "acme-telecom"), .init(key: "district", value: "north-7")]))
        let composer = AlertComposer(settings: settings, publicURL: nil, hostName: "governor.example.org")
        let change = ProbeChange(probe: probe, transition: .wentDown(missedRuns: [1_790_000_000]))
        let conflict = EgressLedger.Conflict(source: .request, addresses: [EgressAddress("198.51.100.20")!, EgressAddress("198.51.100.21")!],
                                             switches: 3, since: 1_790_000_000)
        let told = composer.messages(for: [change], of: school, at: 1_790_000_100, conflicts: [("p2", conflict)])
        #expect(told.count == 1)
        #expect(told.first?.body.contains("Identity conflict: probe p2 was seen switching 3 times in 24 h between 198.51.100.20, 198.51.100.21 (its requests).") == true,
                "\(told.first?.body ?? "")")
        #expect(told.first?.body.contains("Labels:       isp=acme-telecom, district=north-7\n") == true)
        let quiet = composer.messages(for: [change], of: school, at: 1_790_000_100)
        #expect(quiet.first?.body.contains("Identity conflict") == false)
    }
}

@Suite("Incident email")
struct IncidentComposerTests {
    static let t0: UnixTime = 1_790_000_000

    static func composer(schools count: Int, heartbeat: HeartbeatCalls.Summary) -> IncidentComposer {
        var settings = AlertSettings()
        settings.smtpURL = "smtp://127.0.0.1:25"
        settings.from = "Governor <governor@example.org>"
        settings.to = ["ops@example.org"]
        let schools = (0..<count).map { index in
            SchoolConfig(name: "s-\(index)", file: "s-\(index).cfg", timeZone: TimeZone(identifier: "UTC")!,
                         timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                         probes: [ProbeConfig(name: "s-\(index)-p", mode: .pull, line: 1)])
        }
        return IncidentComposer(settings: settings, publicURL: "https://governor.example.org", hostName: "governor.example.org",
                                schools: Dictionary(uniqueKeysWithValues: schools.map { ($0.name, $0) }),
                                downSince: Dictionary(uniqueKeysWithValues: schools.map { ($0.name, t0) }), heartbeat: heartbeat)
    }

    static let fleetWide = Incident(id: 3, scope: .fleet, openedAt: t0 + 60, since: t0, schools: (0..<30).map { "s-\($0)" })

    @Test("a large part of the fleet silent at once: the email says it may be the governor's own network, and what its heartbeat did meanwhile",
          arguments: [
            (HeartbeatCalls.Summary(configured: false), "No heartbeat_url is set"),
            (HeartbeatCalls.Summary(configured: true, lastReached: t0 + 30), "was reached at 2026-09-21 14:13:50 GMT (2026-09-21T14:13:50Z), after the first school went down"),
            (HeartbeatCalls.Summary(configured: true, lastReached: t0 - 30, lastFailed: t0 + 40, lastError: "connection refused"),
             "has NOT been reached since the first school went down (last attempt 2026-09-21 14:14:00 GMT (2026-09-21T14:14:00Z): connection refused)"),
          ])
    func ownNetwork(_ heartbeat: HeartbeatCalls.Summary, _ sentence: String) throws {
        let message = try #require(Self.composer(schools: 100, heartbeat: heartbeat).message(.opened, of: Self.fleetWide, at: Self.t0 + 120))
        #expect(message.subject == "[governor] INCIDENT: 30 schools DOWN since 14:13 GMT")
        #expect(message.body.contains("30 of the fleet's 100 schools (30 %) went silent at once: the cause may be this governor's own network"), "\(message.body)")
        #expect(message.body.contains(sentence), "\(message.body)")
        #expect(message.messageId == "incident-3-opened@example.org")
        #expect(message.body.contains("Dashboard: https://governor.example.org/#incident-3"))
    }

    @Test("an incident of a small part of the fleet says nothing of the governor's network")
    func smallIncident() throws {
        let small = Incident(id: 4, scope: .label(.init(key: "isp", value: "acme")), openedAt: Self.t0, since: Self.t0, schools: (0..<5).map { "s-\($0)" })
        let message = try #require(Self.composer(schools: 100, heartbeat: .init()).message(.opened, of: small, at: Self.t0))
        #expect(message.subject == "[governor] INCIDENT: 5 schools with isp=acme DOWN since 14:13 GMT")
        #expect(!message.body.contains("own network"))
    }

    @Test("the close and the grouped recoveries after it: who is back, who is still DOWN")
    func closeAndLater() throws {
        var closed = Self.fleetWide
        closed.closedAt = Self.t0 + 3600
        closed.recovered = (0..<20).map { "s-\($0)" }
        closed.stillDown = (20..<30).map { "s-\($0)" }
        let composer = Self.composer(schools: 100, heartbeat: .init())
        let end = try #require(composer.message(.closed, of: closed, at: Self.t0 + 3600))
        #expect(end.subject == "[governor] INCIDENT over: 20 of 30 schools back, 10 still DOWN")
        #expect(end.body.contains("is over after 60 min: most of its schools are back") && end.body.contains("Back (20):") && end.body.contains("Still DOWN (10):"))
        #expect(end.messageId == "incident-3-closed@example.org")
        var told = closed
        told.laterRecovered = ["s-20", "s-21"]
        told.stillDown = (22..<30).map { "s-\($0)" }
        let later = try #require(composer.message(.recovered(told: told), of: told, at: Self.t0 + 5000))
        #expect(later.subject == "[governor] UP: 2 more of incident #3's schools back, 8 still DOWN")
        #expect(later.body.contains("  s-20\n  s-21\n"), "\(later.body)")
        #expect(later.messageId == "incident-3-recovered-\(Self.t0 + 5000)@example.org")
    }
}
