import Foundation
import GovernorCore
import Testing

/// The fleet-wide alert rule as a value: states, observations and a clock in, states
/// and notices out. Runs every 100 s, a test lasts 30 s and the grace is 10 s, so run
/// `t` is judged at `t + 40`; three misses in a row make a probe DOWN.
@Suite("The alert policy")
struct AlertPolicyTests {
    /// Two schools: `solo` with one probe, `pair` with two (whose DOWN is held back).
    struct Fleet: AlertFleet {
        var schools: [SchoolConfig]

        static let standard = Fleet(schools: [school("solo", probes: ["s1"]), school("pair", probes: ["p1", "p2"])])

        static func school(_ name: String, probes: [String]) -> SchoolConfig {
            let timing = Timing(boundaries: [TimeOfDay(hour: 8, minute: 0)!, TimeOfDay(hour: 8, minute: 10)!], runsPerPeriod: 1,
                                             delaySeconds: 0, testDurationSeconds: 30, overnight: false)
            return SchoolConfig(name: name, file: "\(name).cfg", timeZone: TimeZone(identifier: "UTC")!, timing: timing,
                                probes: probes.enumerated().map { ProbeConfig(name: $1, mode: .pull, line: $0 + 1) })
        }

        func school(ofProbe probe: String) -> SchoolConfig? { schools.first { $0.probes.contains { $0.name == probe } } }
        func school(named name: String) -> SchoolConfig? { schools.first { $0.name == name } }
        func probeNames() -> [String] { schools.flatMap { $0.probes.map(\.name) } }
    }

    static let policy: AlertPolicy = {
        var settings = AlertSettings()
        settings.graceSeconds = 10
        settings.missedRuns = 3
        return AlertPolicy(settings: settings)
    }()

    static let runs: [UnixTime] = [100, 200, 300, 400, 500, 600]

    /// One pass at `now`, every probe having `runs`, with the given last contacts.
    static func pass(_ memory: inout AlertMemory, now: UnixTime, everyone: Bool = false, contacts: [String: UnixTime] = [:],
                     fleet: Fleet = .standard) -> AlertOutcome {
        let observed = AlertPolicy.Observed(
            now: now, everyone: everyone, contacted: Set(contacts.keys),
            runs: Dictionary(uniqueKeysWithValues: fleet.probeNames().map { ($0, runs.filter { $0 <= now }) }))
        return policy.pass(&memory, fleet: fleet, observed: observed, lastContact: { contacts[$0] })
    }

    /// The notices of an outcome as "school probe what", sorted.
    static func told(_ outcome: AlertOutcome) -> [String] {
        outcome.notices.values.flatMap { $0 }.map { notice in
            let what = switch notice.transition {
            case .wentDown(let missed): "DOWN \(missed.count)"
            case .stillDown: "still DOWN"
            case .recovered(_, let count): "UP after \(count)"
            }
            return "\(notice.school) \(notice.probe) \(what)"
        }.sorted()
    }

    struct Row: Sendable, CustomStringConvertible {
        var description: String
        /// Each pass: its instant and the contacts it sees (probe → last contact).
        var passes: [(now: UnixTime, contacts: [String: UnixTime])]
        /// What the last pass tells.
        var told: [String]
    }

    static let rows: [Row] = [
        Row(description: "every probe silent for three runs: the solo school told at once, the pair's two DOWNs together",
            passes: [(0, [:]), (340, [:])], told: ["pair p1 DOWN 3", "pair p2 DOWN 3", "solo s1 DOWN 3"]),
        Row(description: "two runs missed: nothing yet",
            passes: [(0, [:]), (240, [:])], told: []),
        Row(description: "one probe of two down, the other heard from before: the DOWN is held back",
            passes: [(0, ["p2": 0, "s1": 0]), (340, ["p2": 335, "s1": 335])], told: []),
        Row(description: "the other probe is heard from after the hold began: the link works, the held DOWN goes out",
            passes: [(0, ["p2": 0, "s1": 0]), (340, ["p2": 335, "s1": 335]), (341, ["p2": 341, "s1": 335])], told: ["pair p1 DOWN 3"]),
        Row(description: "the other probe goes down too: both DOWNs in one batch",
            passes: [(0, ["p2": 0, "s1": 0]), (340, ["p2": 335, "s1": 335]), (640, ["s1": 635])], told: ["pair p1 DOWN 6", "pair p2 DOWN 3"]),
        Row(description: "a probe back before its held DOWN went out: nothing is said",
            passes: [(0, ["p2": 0, "s1": 0]), (340, ["p2": 335, "s1": 335]), (345, ["p1": 344, "p2": 335, "s1": 335])], told: []),
        Row(description: "the solo probe comes back: one recovery",
            passes: [(0, [:]), (340, [:]), (350, ["s1": 350])], told: ["solo s1 UP after 3"]),
    ]

    @Test("who is told what, pass by pass", arguments: rows)
    func table(_ row: Row) {
        var memory = AlertMemory(states: [:], lastPass: 0)
        var outcome = AlertOutcome()
        for (index, pass) in row.passes.enumerated() {
            outcome = Self.pass(&memory, now: pass.now, everyone: index == 0, contacts: pass.contacts)
        }
        #expect(Self.told(outcome) == row.told)
    }

    @Test("a school whose probes all went down together tells of their recoveries together")
    func recoveriesTogether() {
        var memory = AlertMemory(states: [:], lastPass: 0)
        _ = Self.pass(&memory, now: 0, everyone: true)
        #expect(Self.told(Self.pass(&memory, now: 340)) == ["pair p1 DOWN 3", "pair p2 DOWN 3", "solo s1 DOWN 3"])
        #expect(Self.told(Self.pass(&memory, now: 950)) == [])
        // p1 is back: held, since the whole school was down; then p2: both in one batch.
        #expect(Self.told(Self.pass(&memory, now: 960, contacts: ["p1": 959])) == [])
        #expect(Self.told(Self.pass(&memory, now: 961, contacts: ["p1": 959, "p2": 960])) == ["pair p1 UP after 6", "pair p2 UP after 6"])
    }

    @Test("with incidents possible, a school's DOWN waits incident_wait after the school went down as a whole; a probe back before is not told")
    func incidentWait() {
        let waiting = AlertPolicy(settings: Self.policy.settings, incidentWaitSeconds: 60)
        func pass(_ memory: inout AlertMemory, now: UnixTime, everyone: Bool = false, contacts: [String: UnixTime] = [:]) -> [String] {
            let observed = AlertPolicy.Observed(
                now: now, everyone: everyone, contacted: Set(contacts.keys),
                runs: Dictionary(uniqueKeysWithValues: Fleet.standard.probeNames().map { ($0, Self.runs.filter { $0 <= now }) }))
            return Self.told(waiting.pass(&memory, fleet: Fleet.standard, observed: observed, lastContact: { contacts[$0] }))
        }
        var memory = AlertMemory(states: [:], lastPass: 0)
        _ = pass(&memory, now: 0, everyone: true)
        #expect(pass(&memory, now: 340) == [], "every school went down at 340: the solo school waits too")
        #expect(pass(&memory, now: 399) == [])
        #expect(pass(&memory, now: 400) == ["pair p1 DOWN 3", "pair p2 DOWN 3", "solo s1 DOWN 3"])

        var back = AlertMemory(states: [:], lastPass: 0)
        _ = pass(&back, now: 0, everyone: true)
        _ = pass(&back, now: 340)
        #expect(pass(&back, now: 350, contacts: ["s1": 349]) == [], "back within the wait: nothing is said")
        #expect(pass(&back, now: 400, contacts: ["s1": 349]) == ["pair p1 DOWN 3", "pair p2 DOWN 3"])
    }

    @Test("a pass judges only what is due: an UP probe's routine contact is not judged, a run past its grace is")
    func dueProbes() {
        var memory = AlertMemory(states: [:], lastPass: 0)
        _ = Self.pass(&memory, now: 0, everyone: true, contacts: ["s1": 0, "p1": 0, "p2": 0])
        _ = Self.pass(&memory, now: 141, contacts: ["s1": 135, "p1": 135, "p2": 135])
        let observed = AlertPolicy.Observed(now: 150, everyone: false, contacted: ["s1"], runs: ["s1": [100], "p1": [100], "p2": [100]])
        #expect(Self.policy.due(&memory, fleet: Fleet.standard, observed: observed) == [], "run 100 was judged at 141; s1 is UP with no misses")
        let later = AlertPolicy.Observed(now: 241, everyone: false, contacted: [], runs: ["s1": [200]])
        #expect(Self.policy.due(&memory, fleet: Fleet.standard, observed: later) == ["s1"])
    }

    @Test("no reminder on a day the school's calendar closes; reminders otherwise, after repeat")
    func reminders() throws {
        var settings = Self.policy.settings
        settings.repeatSeconds = 200
        let policy = AlertPolicy(settings: settings)
        var closed = Fleet.school("solo", probes: ["s1"])
        // Runs on 1 January, the reminder due on the 2nd: closed.
        let second = try #require(LocalDate(year: 1970, month: 1, day: 2))
        closed.calendar = SchoolCalendar(closures: [.init(first: second, last: second, label: "holiday")])
        for (fleet, expected) in [(Fleet(schools: [Fleet.school("solo", probes: ["s1"])]), 1), (Fleet(schools: [closed]), 0)] {
            var memory = AlertMemory(states: [:], lastPass: 0)
            var reminders = 0
            for now: UnixTime in [0, 340, 86_500] {
                let observed = AlertPolicy.Observed(now: now, everyone: now == 0, contacted: [], runs: ["s1": [100, 200, 300]])
                let outcome = policy.pass(&memory, fleet: fleet, observed: observed, lastContact: { _ in nil })
                reminders += outcome.notices.values.flatMap { $0 }.count { if case .stillDown = $0.transition { true } else { false } }
            }
            #expect(reminders == expected)
        }
    }
}
