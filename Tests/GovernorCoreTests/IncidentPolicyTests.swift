import Foundation
import GovernorCore
import Testing

@Suite("Incidents: schools down together are one outage")
struct IncidentPolicyTests {
    static let t0: UnixTime = 1_790_000_000

    /// `count` schools named `prefix-N` with the given labels.
    static func schools(_ prefix: String, _ count: Int, labels: [String: String]) -> [SchoolConfig] {
        (0..<count).map { index in
            SchoolConfig(name: "\(prefix)-\(index)", file: "\(prefix).cfg", timeZone: .gmt,
                         timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                         probes: [ProbeConfig(name: "\(prefix)-\(index)-p", mode: .pull, line: 1)],
                         labels: SchoolLabels(labels.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) }))
        }
    }

    static let fleet = schools("acme", 40, labels: ["isp": "acme-telecom", "region": "south"])
        + schools("other", 60, labels: ["isp": "other-net", "region": "south"])

    @Test("40 schools of one ISP down within minutes open one incident for isp=acme-telecom, the first label key they share")
    func opensByLabel() {
        let down = Dictionary(uniqueKeysWithValues: (0..<40).map { ("acme-\($0)", Self.t0 + UnixTime($0) * 5) })
        let step = IncidentPolicy.step(open: [], down: down, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 300)
        #expect(step.opened.count == 1 && step.open == step.opened)
        #expect(step.opened.first?.scope == .label(.init(key: "isp", value: "acme-telecom")))
        #expect(step.opened.first?.schools.count == 40 && step.opened.first?.since == Self.t0)
        #expect(step.incident(of: "acme-7") != nil && step.incident(of: "other-1") == nil)
    }

    @Test("three unrelated schools down are no incident; nor are five whose downs lie further apart than the span")
    func tooFew() {
        let three = ["acme-1": Self.t0, "other-2": Self.t0, "other-3": Self.t0]
        #expect(IncidentPolicy.step(open: [], down: three, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 60).open.isEmpty)
        let spread = Dictionary(uniqueKeysWithValues: (0..<5).map { ("acme-\($0)", Self.t0 + UnixTime($0) * 1000) })
        let step = IncidentPolicy.step(open: [], down: spread, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 4000)
        #expect(step.open.isEmpty, "only the last downs within 15 min of now count: \(step.open)")
    }

    @Test("schools of no common label open a fleet incident when they are a tenth of the fleet; fewer do not")
    func fleetWide() {
        let plain = Self.schools("s", 50, labels: [:])
        let ten = Dictionary(uniqueKeysWithValues: (0..<10).map { ("s-\($0)", Self.t0) })
        let step = IncidentPolicy.step(open: [], down: ten, schools: plain, settings: IncidentSettings(), now: Self.t0 + 60)
        #expect(step.opened.map(\.scope) == [.fleet] && step.opened.first?.schools.count == 10)
        let four = Dictionary(uniqueKeysWithValues: (0..<6).map { ("s-\($0)", Self.t0) })
        let big = Self.schools("s", 100, labels: [:])
        #expect(IncidentPolicy.step(open: [], down: four, schools: big, settings: IncidentSettings(), now: Self.t0 + 60).open.isEmpty,
                "6 of 100 schools are not a tenth of the fleet")
    }

    @Test("a school of the same ISP going down later joins the open incident; one down long before does not")
    func join() {
        let first = Dictionary(uniqueKeysWithValues: (0..<5).map { ("acme-\($0)", Self.t0) })
        let opened = IncidentPolicy.step(open: [], down: first, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 60)
        var down = first
        down["acme-9"] = Self.t0 + 600
        down["acme-10"] = Self.t0 - 5000
        let step = IncidentPolicy.step(open: opened.open, down: down, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 620)
        #expect(step.opened.isEmpty && step.open.count == 1)
        #expect(step.open.first?.schools.contains("acme-9") == true && step.open.first?.schools.contains("acme-10") == false)
    }

    @Test("an incident ends when most of its schools are back, with who is back and who is not; or after incident_max")
    func close() {
        let down = Dictionary(uniqueKeysWithValues: (0..<10).map { ("acme-\($0)", Self.t0) })
        let open = IncidentPolicy.step(open: [], down: down, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 60).open
        let half = down.filter { $0.key < "acme-5" }
        #expect(IncidentPolicy.step(open: open, down: half, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 3600).closed.isEmpty,
                "five of ten back is not most")
        let fewer = down.filter { ["acme-0", "acme-1", "acme-2"].contains($0.key) }
        let step = IncidentPolicy.step(open: open, down: fewer, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 3600)
        let closed = step.closed.first
        #expect(step.open.isEmpty && closed?.closedAt == Self.t0 + 3600 && closed?.stillDown == ["acme-0", "acme-1", "acme-2"] && closed?.recovered.count == 7)
        let late = IncidentPolicy.step(open: open, down: down, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 60 + 86_400)
        #expect(late.closed.count == 1 && late.closed.first?.stillDown.count == 10)
        // The schools still down after the end open no new incident: their downs are too old.
        #expect(late.opened.isEmpty)
    }

    @Test("incident_labels chooses the keys and their order")
    func keys() {
        let down = Dictionary(uniqueKeysWithValues: (0..<40).map { ("acme-\($0)", Self.t0) })
        var settings = IncidentSettings()
        settings.labelKeys = ["region"]
        let step = IncidentPolicy.step(open: [], down: down, schools: Self.fleet, settings: settings, now: Self.t0 + 60)
        #expect(step.opened.map(\.scope) == [.label(.init(key: "region", value: "south"))])
    }
}
