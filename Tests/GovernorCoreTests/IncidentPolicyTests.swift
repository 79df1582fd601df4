import Foundation
import GovernorCore
import GovernorTestSupport
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
        #expect(IncidentPolicy.step(open: [], down: ten, schools: plain, settings: IncidentSettings(), now: Self.t0 + 60).open.isEmpty,
                "not before incident_wait: they may still be a label's")
        let step = IncidentPolicy.step(open: [], down: ten, schools: plain, settings: IncidentSettings(), now: Self.t0 + 120)
        #expect(step.opened.map(\.scope) == [.fleet] && step.opened.first?.schools.count == 10)
        let four = Dictionary(uniqueKeysWithValues: (0..<6).map { ("s-\($0)", Self.t0) })
        let big = Self.schools("s", 100, labels: [:])
        #expect(IncidentPolicy.step(open: [], down: four, schools: big, settings: IncidentSettings(), now: Self.t0 + 200).open.isEmpty,
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
        // Nor do recent ones: the schools an incident leaves down carry on with their own alerts.
        var wide = IncidentSettings()
        wide.spanSeconds = 86_400
        let twelve = Dictionary(uniqueKeysWithValues: (0..<12).map { ("acme-\($0)", Self.t0) })
        let wideOpen = IncidentPolicy.step(open: [], down: twelve, schools: Self.fleet, settings: wide, now: Self.t0 + 60).open
        let five = twelve.filter { ["acme-0", "acme-1", "acme-2", "acme-3", "acme-4"].contains($0.key) }
        let recent = IncidentPolicy.step(open: wideOpen, down: five, schools: Self.fleet, settings: wide, now: Self.t0 + 600)
        #expect(recent.closed.count == 1 && recent.closed.first?.stillDown.count == 5 && recent.opened.isEmpty, "\(recent.opened)")
    }

    @Test("3 schools of an ISP and 2 others down first open no fleet incident before incident_wait; the ISP's incident forms as its others follow, the 2 stay out")
    func labelBeforeFleet() {
        let small = Self.schools("acme", 40, labels: ["isp": "acme-telecom"]) + Self.schools("u", 3, labels: [:])
        var down = ["acme-0": Self.t0, "acme-1": Self.t0, "acme-2": Self.t0, "u-0": Self.t0, "u-1": Self.t0]
        let early = IncidentPolicy.step(open: [], down: down, schools: small, settings: IncidentSettings(), now: Self.t0 + 10)
        #expect(early.open.isEmpty, "5 of 43 schools are a tenth of the fleet, but not settled: \(early.open)")
        for index in 3..<10 { down["acme-\(index)"] = Self.t0 + 20 }
        let later = IncidentPolicy.step(open: [], down: down, schools: small, settings: IncidentSettings(), now: Self.t0 + 30)
        #expect(later.opened.map(\.scope) == [.label(.init(key: "isp", value: "acme-telecom"))] && later.opened.first?.schools.count == 10)
        #expect(later.incident(of: "u-0") == nil)
    }

    @Test("incident_labels chooses the keys and their order")
    func keys() {
        let down = Dictionary(uniqueKeysWithValues: (0..<40).map { ("acme-\($0)", Self.t0) })
        var settings = IncidentSettings()
        settings.labelKeys = ["region"]
        let step = IncidentPolicy.step(open: [], down: down, schools: Self.fleet, settings: settings, now: Self.t0 + 60)
        #expect(step.opened.map(\.scope) == [.label(.init(key: "region", value: "south"))])
    }

    static func notice(_ school: String, _ transition: ProbeTransition) -> AlertOutcome.Notice {
        AlertOutcome.Notice(probe: "\(school)-p", school: school, transition: transition)
    }

    @Test("the notices of a school in an open incident are told by it; the others go out as usual")
    func routeOpen() {
        let down = Dictionary(uniqueKeysWithValues: (0..<5).map { ("acme-\($0)", Self.t0) })
        let step = IncidentPolicy.step(open: [], down: down, schools: Self.fleet, settings: IncidentSettings(), now: Self.t0 + 60)
        let notices = ["acme-1": [Self.notice("acme-1", .wentDown(missedRuns: [1, 2, 3]))], "other-1": [Self.notice("other-1", .wentDown(missedRuns: [1, 2, 3]))]]
        let routing = IncidentPolicy.route(notices, step: step, lingering: [], down: down, settings: IncidentSettings(), now: Self.t0 + 60)
        #expect(Array(routing.notices.keys) == ["other-1"] && Array(routing.covered.keys) == ["acme-1"])
        #expect(routing.lingering.isEmpty && routing.reports.isEmpty)
    }

    @Test("at the close, the recoveries are the close's; the schools left down come back grouped, one email per span at most")
    func routeAfterClose() {
        var settings = IncidentSettings()
        settings.spanSeconds = 600
        var incident = Incident(id: 7, scope: .label(.init(key: "isp", value: "acme-telecom")), openedAt: Self.t0, since: Self.t0,
                                schools: (0..<5).map { "acme-\($0)" })
        // Three of five back: the incident closes; their recoveries are in its email.
        let stillDown = ["acme-3": Self.t0, "acme-4": Self.t0]
        let step = IncidentPolicy.step(open: [incident], down: stillDown, schools: Self.fleet, settings: settings, now: Self.t0 + 3600)
        #expect(step.closed.count == 1 && step.closed[0].reportedAt == Self.t0 + 3600)
        let recovered = ["acme-0": [Self.notice("acme-0", .recovered(downSince: Self.t0, missedCount: 3))]]
        var routing = IncidentPolicy.route(recovered, step: step, lingering: [], down: stillDown, settings: settings, now: Self.t0 + 3600)
        #expect(routing.notices.isEmpty && routing.covered.keys.contains("acme-0"))
        #expect(routing.lingering.map(\.stillDown) == [["acme-3", "acme-4"]] && routing.changed.isEmpty)
        incident = routing.lingering[0]

        // acme-3 back 100 s after the close: grouped, not told yet (the close's email was the last report).
        let oneDown = ["acme-4": Self.t0]
        let back3 = ["acme-3": [Self.notice("acme-3", .recovered(downSince: Self.t0, missedCount: 9))]]
        let empty = IncidentPolicy.Step()
        routing = IncidentPolicy.route(back3, step: empty, lingering: [incident], down: oneDown, settings: settings, now: Self.t0 + 3700)
        #expect(routing.notices.isEmpty && routing.reports.isEmpty)
        #expect(routing.lingering.first?.laterRecovered == ["acme-3"] && routing.changed.count == 1)
        // A reminder of the school still down goes out as its own.
        let reminder = ["acme-4": [Self.notice("acme-4", .stillDown(missedRuns: [1], downSince: Self.t0))]]
        routing = IncidentPolicy.route(reminder, step: empty, lingering: routing.lingering, down: oneDown, settings: settings, now: Self.t0 + 3800)
        #expect(routing.notices.keys.contains("acme-4") && routing.reports.isEmpty)
        // A span after the close: one report of acme-3.
        routing = IncidentPolicy.route([:], step: empty, lingering: routing.lingering, down: oneDown, settings: settings, now: Self.t0 + 4200)
        #expect(routing.reports.map(\.told.laterRecovered) == [["acme-3"]])
        #expect(routing.lingering.first?.recovered.contains("acme-3") == true && routing.lingering.first?.reportedAt == Self.t0 + 4200)
        // The last one back: told a span after that report, and the incident groups nothing more.
        routing = IncidentPolicy.route([:], step: empty, lingering: routing.lingering, down: [:], settings: settings, now: Self.t0 + 4300)
        #expect(routing.reports.isEmpty && routing.lingering.first?.laterRecovered == ["acme-4"])
        routing = IncidentPolicy.route([:], step: empty, lingering: routing.lingering, down: [:], settings: settings, now: Self.t0 + 4800)
        #expect(routing.reports.map(\.told.laterRecovered) == [["acme-4"]] && routing.lingering.isEmpty)
    }

    @Test("a school is down as a whole when every probe is DOWN, since the last of them went down")
    func downSince() {
        let school = SchoolConfig(name: "s", file: "s.cfg", timeZone: .gmt, timing: Timing(boundaries: [], runsPerPeriod: 1, delaySeconds: 0, testDurationSeconds: 1),
                                  probes: [ProbeConfig(name: "a", mode: .pull, line: 1), ProbeConfig(name: "b", mode: .pull, line: 2)])
        func state(_ status: ProbeAlertState.Status, since: UnixTime) -> ProbeAlertState {
            var state = ProbeAlertState.new(at: since, lastContact: nil)
            state.status = status
            return state
        }
        #expect(IncidentPolicy.downSince(of: school, states: ["a": state(.down, since: 10), "b": state(.down, since: 30)]) == 30)
        #expect(IncidentPolicy.downSince(of: school, states: ["a": state(.down, since: 10), "b": state(.up, since: 30)]) == nil)
        #expect(IncidentPolicy.downSince(of: school, states: ["a": state(.down, since: 10)]) == nil)
    }

    @Test("[Alerts] incident_*: read with their limits; errors name the file, the line and the key")
    func configuration() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("governor.cfg", """
            [Governor]
            require_tokens = no
            [Alerts]
            incident_min_schools = 3
            incident_labels = isp, district
            incident_fleet_fraction = 25%
            incident_span = 5m
            incident_max = 2h
            incident_wait = 30s

            """)
        let settings = try ConfigLoader.load(governorFile: directory.file("governor.cfg")).governor.alertSettings.incidents
        #expect(settings.minSchools == 3 && settings.labelKeys == ["isp", "district"] && settings.fleetFraction == 0.25)
        #expect(settings.spanSeconds == 300 && settings.maxSeconds == 7200 && settings.waitSeconds == 30)
        for (line, message) in [("incident_fleet_fraction = 150%", "'incident_fleet_fraction' is '150%'"), ("incident_labels = isp, 9x", "label name '9x'"),
                                ("incident_min_schools = 1", "'incident_min_schools' is '1'"), ("incident_span = 2d", "'incident_span' is '2d'")] {
            try directory.write("governor.cfg", "[Governor]\nrequire_tokens = no\n[Alerts]\n\(line)\n")
            #expect {
                try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
            } throws: { error in
                "\(error)".contains("governor.cfg:4: error: ") && "\(error)".contains(message)
            }
        }
    }
}
