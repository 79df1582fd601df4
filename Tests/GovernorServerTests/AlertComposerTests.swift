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
