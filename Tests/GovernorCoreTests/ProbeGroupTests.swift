import Foundation
import GovernorTestSupport
import Testing

@testable import GovernorCore

/// `[Group NAME]`: a school's probes that share every run time.
@Suite("Group runs: a school's probes testing together")
struct ProbeGroupTests {
    /// A school of probes p1…p4, p2 and p3 in group `lab`, 3 runs a window.
    static func school(groups: [ProbeGroup] = [ProbeGroup(name: "lab", probes: ["p2", "p3"], line: 9)]) -> SchoolConfig {
        var school = ScheduleGeneratorTests.school(probes: ["p1", "p2", "p3", "p4"], runs: 3)
        school.groups = groups
        return school
    }

    @Test("a group's probes share every run time; its slots and the single probes' keep the school's spacing, over many seeds")
    func sharedSlots() throws {
        let school = Self.school()
        let date = LocalDate(year: 2026, month: 11, day: 23)!
        for seed in 0..<300 as Range<UInt64> {
            for window in try ScheduleGenerator.schedule(of: school, on: date, seed: seed) {
                let lab2 = window.runs.filter { $0.probe == "p2" }.map(\.runAt)
                let lab3 = window.runs.filter { $0.probe == "p3" }.map(\.runAt)
                #expect(lab2.count == 3 && lab2 == lab3, "seed \(seed): \(window.runs)")
                // The slots: the group's once, each single probe's; all a slot apart and inside the window.
                let slots = Array(Set(window.runs.map(\.runAt))).sorted()
                #expect(slots.count == 3 * 3, "3 units × 3 runs")
                for (earlier, later) in zip(slots, slots.dropFirst()) {
                    #expect(later - earlier >= Int64(school.timing.slotSeconds), "seed \(seed): \(earlier) and \(later) overlap")
                }
                #expect(slots.first! >= window.bounds.start && slots.last! + Int64(school.timing.slotSeconds) <= window.bounds.end)
                #expect(window.runs.map(\.runAt) == window.runs.map(\.runAt).sorted(), "runs in time order")
            }
        }
    }

    @Test("a school without groups draws exactly as before; groups change the fingerprint, and so the seeded schedule")
    func unchangedWithoutGroups() throws {
        let plain = ScheduleGeneratorTests.school()
        #expect(plain.units == [["p1"], ["p2"], ["p3"]] && plain.slotsPerWindow == plain.testsPerWindow)
        #expect(!plain.scheduleFingerprint.contains(";g="))
        let window = try ScheduleGenerator.schedule(of: plain, on: LocalDate(year: 2026, month: 11, day: 23)!, seed: 42)[0]
        #expect(window.runs.map { "\($0.probe)@\(RFC3339.format($0.runAt))" } == ScheduleGeneratorTests.golden)
        let grouped = Self.school()
        #expect(grouped.units == [["p1"], ["p2", "p3"], ["p4"]] && grouped.slotsPerWindow == 9 && grouped.testsPerWindow == 12)
        #expect(grouped.scheduleFingerprint.hasSuffix(";g=lab:p2+p3"))
    }

    @Test("a window holds a group's slot once: four probes with two grouped fit where four single probes would not")
    func feasibility() {
        var school = Self.school()
        // 3 slots × 3 runs × (35 s + 120 s) = 1395 s; 4 single probes need 1860 s.
        school.timing.boundaries = [TimeOfDay(parsing: "0800")!, TimeOfDay(secondsSinceMidnight: 8 * 3600 + 1400)!]
        school.timing.overnight = false
        #expect(ConfigLoader.feasibilityProblems(of: school, line: 3).isEmpty)
        school.groups = []
        #expect(ConfigLoader.feasibilityProblems(of: school, line: 3).first?.message.contains("4 probe(s) × 3 run(s)") == true)
    }

    @Test("under max_concurrent_tests a group's slot needs room for all its probes")
    func cap() throws {
        let school = Self.school(groups: [ProbeGroup(name: "lab", probes: ["p1", "p2", "p3"], line: 9)])
        let bounds = school.windows(on: LocalDate(year: 2026, month: 11, day: 23)!)[0]
        #expect(throws: ScheduleError.self) { try ScheduleGenerator.window(bounds, of: school, seed: 1, cap: (FleetLoad(), 2)) }
        let window = try ScheduleGenerator.window(bounds, of: school, seed: 1, cap: (FleetLoad(), 3))
        var load = FleetLoad()
        for run in window.runs { load.add(runAt: run.runAt, duration: school.timing.testDurationSeconds) }
        #expect(load.peak(from: bounds.start, to: bounds.end) == 3)
    }

    static func load(_ school: String) throws -> (Configuration?, [ConfigProblem]) {
        let directory = try TemporaryDirectory("governor-groups")
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\n")
        try directory.write("schools/lab.cfg", school)
        do {
            let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
            return (configuration, configuration.problems)
        } catch {
            return (nil, error.problems)
        }
    }

    static let base = """
        [School]
        timezone = UTC
        [Timing]
        boundaries = 0800, 1200
        runs_per_period = 2
        delay = 1m
        [Probes]
        ids = a, b, c
        addresses = 192.0.2.7

        """

    @Test("[Group NAME] is read with its probes; governor check's line and the schedule document name it")
    func reads() throws {
        let (configuration, problems) = try Self.load(Self.base + "[Group lab]\nprobes = a, b\n")
        let school = try #require(configuration?.schools.first, "\(problems)")
        #expect(school.groups == [ProbeGroup(name: "lab", probes: ["a", "b"], line: 10)])
        #expect(SchoolSummary.groupsLine(of: school) == "  groups (each group's probes test together, at one instant): lab (a, b)")
        let document = ScheduleDocument.School(school, windows: try ScheduleGenerator.schedule(of: school, on: LocalDate(year: 2026, month: 11, day: 23)!, seed: 1))
        #expect(document.groups == [ScheduleDocument.Group(name: "lab", probes: ["a", "b"])])
        let runs = document.windows.flatMap(\.runs)
        #expect(runs.filter { $0.group == "lab" }.map(\.probe).sorted() == ["a", "a", "a", "a", "b", "b", "b", "b"])
        #expect(runs.filter { $0.probe == "c" }.allSatisfy { $0.group == nil })
        #expect(ScheduleTable(school: school, windows: try ScheduleGenerator.schedule(of: school, on: LocalDate(year: 2026, month: 11, day: 23)!, seed: 1))
            .text.contains("groups (testing together): lab = a + b"))
    }

    @Test("errors name the file and line: a probe in two groups, a probe the school lacks, pull and push in one group", arguments: [
        ("[Group lab]\nprobes = a, b\n[Group hall]\nprobes = b, c\n", "lab.cfg:13: error: probe 'b' is in group 'lab' (line 10) and in group 'hall'"),
        ("[Group lab]\nprobes = a, z\n", "lab.cfg:11: error: group 'lab' names probe 'z', which this school does not have"),
        ("[Group lab]\nprobes = a, 192.0.2.7\n", "lab.cfg:11: error: group 'lab' mixes pull probe(s) and push probe(s)"),
        ("[Group lab]\n", "lab.cfg:10: error: [Group lab] has no 'probes'"),
        ("[group lab]\nprobes = a, b\n", "did you mean [Group lab]?"),
    ])
    func errors(_ sections: String, _ message: String) throws {
        let (_, problems) = try Self.load(Self.base + sections)
        #expect(problems.contains { $0.description.contains(message) }, "\(problems.map(\.description))")
    }
}
