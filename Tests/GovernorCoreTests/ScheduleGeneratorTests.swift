import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

@Suite("Schedule generator")
struct ScheduleGeneratorTests {
    /// Checks every rule a window's runs must obey.
    static func verify(_ runs: [ScheduledRun], probes: [String], runsPerPeriod: Int, slot: Int, start: UnixTime, length: Int64,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(runs.count == probes.count * runsPerPeriod, sourceLocation: sourceLocation)
        for run in runs {
            // Inside the window: the whole slot, test and delay, fits before the end.
            #expect(run.runAt >= start && run.runAt + Int64(slot) <= start + length, "\(run) outside", sourceLocation: sourceLocation)
        }
        for (earlier, later) in zip(runs, runs.dropFirst()) {
            #expect(later.runAt - earlier.runAt >= Int64(slot), "\(earlier) and \(later) closer than \(slot) s", sourceLocation: sourceLocation)
        }
        for probe in probes {
            #expect(runs.filter { $0.probe == probe }.count == runsPerPeriod, sourceLocation: sourceLocation)
        }
        // Rounds: each block of N consecutive runs holds every probe once.
        for round in 0..<runsPerPeriod {
            let block = runs[(round * probes.count)..<((round + 1) * probes.count)].map(\.probe)
            #expect(block.sorted() == probes.sorted(), "round \(round) is \(block)", sourceLocation: sourceLocation)
        }
    }

    @Test("every constraint holds over many random configurations and seeds")
    func properties() {
        var configGenerator = Xoshiro256StarStar(seed: 1)
        var feasible = 0, tight = 0
        for case_ in 0..<3000 {
            let probes = (0..<(1 + configGenerator.nextIndex(below: 8))).map { "p\($0)" }
            let runsPerPeriod = 1 + configGenerator.nextIndex(below: 5)
            let slot = 1 + configGenerator.nextIndex(below: 400)
            let needed = Int64(probes.count * runsPerPeriod * slot)
            // Lengths from exactly full (no free time at all) to roughly ten times the need.
            let free = configGenerator.nextIndex(below: 4) == 0 ? 0 : Int64(configGenerator.nextIndex(below: Int(needed) * 10))
            let start = UnixTime(1_790_000_000 + configGenerator.nextIndex(below: 100_000_000))
            var generator = Xoshiro256StarStar(seed: UInt64(case_))
            let runs = ScheduleGenerator.runs(probes: probes, runsPerPeriod: runsPerPeriod, slotSeconds: slot,
                                              windowStart: start, windowSeconds: needed + free, using: &generator)
            guard let runs else {
                Issue.record("feasible window refused")
                continue
            }
            Self.verify(runs, probes: probes, runsPerPeriod: runsPerPeriod, slot: slot, start: start, length: needed + free)
            feasible += 1
            if free == 0 {
                tight += 1
                // No free time: the only placement is back to back from the start.
                #expect(runs.enumerated().allSatisfy { $0.element.runAt == start + Int64($0.offset * slot) })
            }
        }
        #expect(feasible == 3000 && tight > 500)
    }

    @Test("a window one second too short is refused, one exactly long enough is not")
    func infeasible() {
        var generator = Xoshiro256StarStar(seed: 9)
        #expect(ScheduleGenerator.runs(probes: ["a", "b"], runsPerPeriod: 3, slotSeconds: 155, windowStart: 0, windowSeconds: 929, using: &generator) == nil)
        #expect(ScheduleGenerator.runs(probes: ["a", "b"], runsPerPeriod: 3, slotSeconds: 155, windowStart: 0, windowSeconds: 930, using: &generator) != nil)
    }

    @Test("start times are uniform over all feasible placements (Kolmogorov–Smirnov)")
    func uniformity() {
        // For M tests with free time F, the first offset u of a uniform placement has
        // P(u ≤ x) = 1 − (1 − x/F)^M; the last offset v (counted from the latest
        // possible start) is its mirror image. Check both with a KS bound.
        let m = 6, slot = 100
        let free: Int64 = 100_000
        let length = Int64(m * slot) + free
        var firsts: [Double] = [], lasts: [Double] = []
        let samples = 4000
        for seed in 0..<samples {
            var generator = Xoshiro256StarStar(seed: UInt64(seed) &* 0x9E37_79B9)
            let runs = ScheduleGenerator.runs(probes: (0..<3).map { "p\($0)" }, runsPerPeriod: 2, slotSeconds: slot,
                                              windowStart: 0, windowSeconds: length, using: &generator)!
            firsts.append(Double(runs.first!.runAt))
            lasts.append(Double(free) - Double(runs.last!.runAt - Int64((m - 1) * slot)))
        }
        let cdf = { (x: Double) in 1 - pow(1 - min(max(x, 0), Double(free)) / Double(free), Double(m)) }
        // 1.95/√n is the 0.1% critical value; the seeds are fixed, so the test is deterministic.
        let critical = 1.95 / Double(samples).squareRoot()
        let dFirst = Self.ksStatistic(firsts, cdf: cdf), dLast = Self.ksStatistic(lasts, cdf: cdf)
        #expect(dFirst < critical, "D = \(dFirst), critical \(critical)")
        #expect(dLast < critical, "D = \(dLast), critical \(critical)")

        // The statistic has teeth: offsets drawn independently of each other and
        // not sorted (a common mistake) fail it.
        var naive: [Double] = []
        var generator = Xoshiro256StarStar(seed: 5)
        for _ in 0..<samples { naive.append(generator.nextUnitInterval() * Double(free)) }
        #expect(Self.ksStatistic(naive, cdf: cdf) > critical)
    }

    static func ksStatistic(_ samples: [Double], cdf: (Double) -> Double) -> Double {
        let sorted = samples.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        for (index, x) in sorted.enumerated() {
            let f = cdf(x)
            d = max(d, abs(f - Double(index) / n), abs(Double(index + 1) / n - f))
        }
        return d
    }

    @Test("each probe is equally likely at each position of a round")
    func roundPermutations() {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
        var generator = Xoshiro256StarStar(seed: 77)
        let probes = ["a", "b", "c", "d"]
        for _ in 0..<8000 {
            let runs = ScheduleGenerator.runs(probes: probes, runsPerPeriod: 1, slotSeconds: 10, windowStart: 0, windowSeconds: 1000, using: &generator)!
            for (position, run) in runs.enumerated() { counts[probes.firstIndex(of: run.probe)!][position] += 1 }
        }
        // Expected 2000 each; 4 standard deviations is about ±155.
        for row in counts { for count in row { #expect(abs(count - 2000) < 160, "\(counts)") } }
    }

    static func school(name: String = "alpha", zone: String = "Europe/Berlin", boundaries: [String] = ["0800", "1200", "1600"],
                       probes: [String] = ["p1", "p2", "p3"], runs: Int = 2, delay: Int = 120, overnight: Bool = true) -> SchoolConfig {
        SchoolConfig(
            name: name, file: "\(name).cfg", timeZone: TimeZone(identifier: zone)!,
            timing: Timing(boundaries: boundaries.map { TimeOfDay(parsing: $0)! }, runsPerPeriod: runs, delaySeconds: delay,
                           testDurationSeconds: 35, overnight: overnight),
            probes: probes.enumerated().map { ProbeConfig(name: $0.element, mode: .pull, line: $0.offset + 1) })
    }

    @Test("a seed reproduces a schedule; the school, the window and the config each change it")
    func seeds() throws {
        let school = Self.school()
        let date = LocalDate(year: 2026, month: 11, day: 23)!
        let once = try ScheduleGenerator.schedule(of: school, on: date, seed: 42)
        #expect(try ScheduleGenerator.schedule(of: school, on: date, seed: 42) == once)
        #expect(try ScheduleGenerator.schedule(of: school, on: date, seed: 43) != once)
        #expect(try ScheduleGenerator.schedule(of: Self.school(name: "beta"), on: date, seed: 42).map(\.runs) != once.map(\.runs))
        #expect(try ScheduleGenerator.schedule(of: Self.school(delay: 60), on: date, seed: 42) != once)
        // Windows of the same school on different days differ.
        let tomorrow = try ScheduleGenerator.schedule(of: school, on: date.adding(days: 1), seed: 42)
        #expect(zip(once, tomorrow).allSatisfy { a, b in a.runs.map { $0.runAt + 86_400 } != b.runs.map(\.runAt) })
        // A label is not part of the schedule.
        var labelled = school
        labelled.probes[0].settings["label"] = "Library"
        #expect(try ScheduleGenerator.schedule(of: labelled, on: date, seed: 42) == once)
        // Without a seed, two draws differ.
        #expect(try ScheduleGenerator.schedule(of: school, on: date, seed: nil) != ScheduleGenerator.schedule(of: school, on: date, seed: nil))
    }

    @Test("a seeded schedule is fixed forever: the generator's algorithm is part of the interface")
    func goldenSchedule() throws {
        let window = try ScheduleGenerator.schedule(of: Self.school(), on: LocalDate(year: 2026, month: 11, day: 23)!, seed: 42)[0]
        #expect(RFC3339.format(window.bounds.start) == "2026-11-23T07:00:00Z")
        #expect(window.runs.map { "\($0.probe)@\(RFC3339.format($0.runAt))" } == Self.golden)
    }

    static let golden = [
        "p2@2026-11-23T07:39:52Z", "p1@2026-11-23T08:22:19Z", "p3@2026-11-23T08:27:55Z",
        "p1@2026-11-23T08:52:55Z", "p2@2026-11-23T09:10:20Z", "p3@2026-11-23T09:37:45Z",
    ]

    @Test("windows of a day, including the overnight one, in the school's zone")
    func windows() throws {
        let school = Self.school()
        let windows = SchoolClock.windows(of: school.timing, on: LocalDate(year: 2026, month: 7, day: 1)!, in: school.timeZone)
        // Berlin is UTC+2 in July.
        #expect(windows.map { "\(RFC3339.format($0.start))/\(RFC3339.format($0.end))" } == [
            "2026-07-01T06:00:00Z/2026-07-01T10:00:00Z",
            "2026-07-01T10:00:00Z/2026-07-01T14:00:00Z",
            "2026-07-01T14:00:00Z/2026-07-02T06:00:00Z",
        ])
        let daytime = Self.school(overnight: false)
        #expect(SchoolClock.windows(of: daytime.timing, on: LocalDate(year: 2026, month: 7, day: 1)!, in: daytime.timeZone).count == 2)
    }
}

@Suite("Daylight-saving days")
struct DaylightSavingTests {
    let newYork = TimeZone(identifier: "America/New_York")!

    func instant(_ time: String, _ date: LocalDate) -> String {
        RFC3339.format(SchoolClock.instant(of: TimeOfDay(parsing: time)!, on: date, in: newYork))
    }

    @Test("spring forward: a boundary in the skipped hour moves to the first instant after the gap")
    func springForward() throws {
        let day = LocalDate(year: 2026, month: 3, day: 8)!  // 02:00 EST becomes 03:00 EDT
        #expect(instant("0159", day) == "2026-03-08T06:59:00Z")
        #expect(instant("0200", day) == "2026-03-08T07:00:00Z")
        #expect(instant("0230", day) == "2026-03-08T07:00:00Z")
        #expect(instant("0300", day) == "2026-03-08T07:00:00Z")
        #expect(instant("0301", day) == "2026-03-08T07:01:00Z")

        let school = ScheduleGeneratorTests.school(zone: "America/New_York", boundaries: ["0000", "0230", "1200"], probes: ["a", "b"], runs: 3, delay: 60)
        let windows = try ScheduleGenerator.schedule(of: school, on: day, seed: 1)
        // 02:30 does not exist that day and becomes 03:00 EDT: 00:00 EST to it is
        // two real hours, 03:00 to 12:00 nine; the overnight window is a normal 12.
        let lengths: [Int64] = [7200, 9 * 3600, 12 * 3600]
        #expect(windows.map(\.bounds.seconds) == lengths)
        for window in windows {
            ScheduleGeneratorTests.verify(window.runs, probes: ["a", "b"], runsPerPeriod: 3, slot: 95, start: window.bounds.start, length: window.bounds.seconds)
        }
    }

    @Test("fall back: a boundary in the repeated hour is its first occurrence")
    func fallBack() throws {
        let day = LocalDate(year: 2026, month: 11, day: 1)!  // 02:00 EDT becomes 01:00 EST
        #expect(instant("0059", day) == "2026-11-01T04:59:00Z")
        #expect(instant("0130", day) == "2026-11-01T05:30:00Z")  // EDT, not the later EST 06:30Z
        #expect(instant("0200", day) == "2026-11-01T07:00:00Z")

        let school = ScheduleGeneratorTests.school(zone: "America/New_York", boundaries: ["0000", "0300"], probes: ["a"], runs: 2, delay: 60)
        let windows = try ScheduleGenerator.schedule(of: school, on: day, seed: 1)
        let lengths: [Int64] = [4 * 3600, 21 * 3600]
        #expect(windows.map(\.bounds.seconds) == lengths)
    }

    /// One rule for the dry run and the server: a boundary in the skipped hour moves
    /// to the first instant after it; a window the day makes too short for its tests
    /// is dropped that day, and the day keeps its other windows. The dry run used to
    /// show no window at all on such a day while the server stored the others.
    @Test("a daylight-saving day keeps every window that still holds its tests", arguments: [
        ("Europe/Berlin", ["0200", "0300", "0800", "1600"], LocalDate(year: 2027, month: 3, day: 28)!, ["01:00", "06:00", "14:00"]),
        ("America/Sao_Paulo", ["0000", "0030", "0800", "1600"], LocalDate(year: 2018, month: 11, day: 4)!, ["03:00", "10:00", "18:00"]),
    ] as [(String, [String], LocalDate, [String])])
    func daylightSavingDay(zone: String, boundaries: [String], date: LocalDate, startsUTC: [String]) throws {
        let school = ScheduleGeneratorTests.school(zone: zone, boundaries: boundaries, probes: ["a", "b"], runs: 1, delay: 60, overnight: true)
        let windows = try ScheduleGenerator.schedule(of: school, on: date, seed: 1)
        #expect(windows.map { String(RFC3339.format($0.bounds.start).dropFirst(11).prefix(5)) } == startsUTC)
        #expect(windows.allSatisfy { $0.runs.count == 2 })
        // The day before has all four.
        #expect(try ScheduleGenerator.schedule(of: school, on: date.adding(days: -1), seed: 1).count == 4)
    }

    @Test("the days a daylight-saving change shortens a window below its tests are warnings with the date and the numbers")
    func daylightSavingWarnings() {
        // 01:00–03:00 is two hours on most days and one hour on the spring-forward day.
        let school = ScheduleGeneratorTests.school(zone: "America/New_York", boundaries: ["0100", "0300"], probes: ["a", "b"], runs: 12, delay: 120, overnight: false)
        #expect(school.windows(on: LocalDate(year: 2026, month: 3, day: 7)!).count == 1)
        #expect(school.windows(on: LocalDate(year: 2026, month: 3, day: 8)!).isEmpty)
        let warnings = DaylightSavingCheck.warnings(for: [school], from: LocalDate(year: 2026, month: 1, day: 1)!, days: 366)
        #expect(warnings.count == 1, "\(warnings)")
        let text = warnings.first?.description ?? ""
        #expect(text.hasPrefix("alpha.cfg: warning:") && text.contains("2026-03-08") && text.contains("01:00") && text.contains("need 3720 s")
                    && text.contains("has 3600 s") && text.contains("skipped that day"), "\(text)")
    }

    @Test("dates", arguments: [(0, "1970-01-01"), (20_415, "2025-11-23"), (-1, "1969-12-31"), (11_016, "2000-02-29")])
    func dates(days: Int, text: String) {
        #expect(LocalDate(daysSinceEpoch: days).description == text)
        #expect(LocalDate(parsing: text)?.daysSinceEpoch == days)
    }

    @Test("RFC 3339 round trip and offsets")
    func rfc3339() {
        #expect(RFC3339.format(1_795_417_200) == "2026-11-23T07:00:00Z")
        #expect(RFC3339.parse("2026-11-23T07:00:00Z") == 1_795_417_200)
        #expect(RFC3339.parse("2026-11-23T08:00:00.123+01:00") == 1_795_417_200)
        #expect(RFC3339.parse("2026-11-23 07:00") == nil)
        #expect(RFC3339.parse("2026-11-23T07:00:00") == nil)
    }

    @Test("RFC 3339 with milliseconds: padded, before 1970 too, and read back to the millisecond")
    func rfc3339Milliseconds() {
        #expect(RFC3339.format(milliseconds: 1_795_417_200_004) == "2026-11-23T07:00:00.004Z")
        #expect(RFC3339.format(microseconds: 1_795_417_200_000_042) == "2026-11-23T07:00:00.000042Z")
        #expect(RFC3339.format(microseconds: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(RFC3339.parsePrecise("2026-11-23T07:00:00.000042Z").map { ($0 - 1_795_417_200) * 1_000_000 }.map { abs($0 - 42) < 0.5 } == true)
        #expect(RFC3339.format(milliseconds: 1_795_417_200_040) == "2026-11-23T07:00:00.040Z")
        #expect(RFC3339.format(milliseconds: 1_795_417_200_999) == "2026-11-23T07:00:00.999Z")
        #expect(RFC3339.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.format(milliseconds: 253_402_300_800_001) == "10000-01-01T00:00:00.001Z")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let instant = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)
            let text = RFC3339.format(milliseconds: instant)
            #expect(text.hasPrefix(String(RFC3339.format(LocalDate.floorDivide(instant, 1000)).dropLast())), "\(instant)")
            #expect(RFC3339.parsePrecise(text).map { Int64(($0 * 1000).rounded()) } == instant, "\(instant): \(text)")
        }
    }
}
