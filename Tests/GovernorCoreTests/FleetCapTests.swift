import Foundation
import GovernorTestSupport
import Testing

@testable import GovernorCore

@Suite("The fleet-wide cap on simultaneous tests")
struct FleetCapTests {
    /// `count` schools in UTC with the same two windows, 08:00–12:00 and 12:00–16:00:
    /// the worst case for a shared measurement server.
    static func schools(_ count: Int, probes: Int = 2, runs: Int = 2) -> [SchoolConfig] {
        let timing = Timing(boundaries: [TimeOfDay(parsing: "0800")!, TimeOfDay(parsing: "1200")!, TimeOfDay(parsing: "1600")!],
                            runsPerPeriod: runs, delaySeconds: 60, testDurationSeconds: 35, overnight: false)
        return (0..<count).map { index in
            SchoolConfig(name: String(format: "school-%04d", index), file: "s\(index).cfg", timeZone: TimeZone(identifier: "UTC")!, timing: timing,
                         probes: (0..<probes).map { ProbeConfig(name: "s\(index)-p\($0)", mode: .pull, line: 1) })
        }
    }

    /// Every school's windows of `date`, drawn in time order against the tests drawn
    /// before them, as the server and `governor schedule` do.
    static func generate(_ schools: [SchoolConfig], on date: LocalDate, cap: Int?, seed: UInt64) throws -> (load: FleetLoad, offsets: [Double]) {
        var drawing = CappedDrawing(seed: seed, cap: cap)
        var offsets: [Double] = []
        for (school, drawn) in drawing.drawInOrder(schools.flatMap { school in school.windows(on: date).map { (school, $0) } }) {
            let window = try drawn.get()
            for run in window.runs {
                offsets.append(Double(run.runAt - window.bounds.start) / Double(window.bounds.seconds - Int64(school.timing.testDurationSeconds)))
            }
        }
        return (drawing.load, offsets)
    }

    /// The Kolmogorov–Smirnov statistic of `samples` against the uniform distribution on [0, 1].
    static func ksStatistic(_ samples: [Double]) -> Double {
        let sorted = samples.sorted()
        let n = Double(sorted.count)
        return sorted.enumerated().map { index, x in max(Double(index + 1) / n - x, x - Double(index) / n) }.max() ?? 0
    }

    @Test("the load counts each test over [run_at, run_at + duration), across days, and forgets days that passed")
    func load() {
        var load = FleetLoad()
        load.add(runAt: 86_400 - 10, duration: 20)
        load.add(runAt: 86_400 - 5, duration: 10)
        #expect(load.count(at: 86_400 - 11) == 0 && load.count(at: 86_400 - 10) == 1 && load.count(at: 86_400 - 5) == 2)
        #expect(load.count(at: 86_400 + 4) == 2 && load.count(at: 86_400 + 5) == 1 && load.count(at: 86_400 + 10) == 0)
        #expect(load.peak(from: 0, to: 200_000) == 2)
        #expect(load.dailyPeaks().map(\.peak) == [2, 2])
        load.forget(before: 86_400)
        #expect(load.count(at: 86_400 - 5) == 0 && load.count(at: 86_400) == 2)
    }

    @Test("1,000 schools on the same windows: the cap is never exceeded, and the runs stay close to uniform", .timeLimit(.minutes(2)))
    func capHolds() throws {
        let schools = Self.schools(1000)
        let date = LocalDate(parsing: "2026-12-07")!
        let day = (start: SchoolClock.instant(of: TimeOfDay(parsing: "0000")!, on: date, in: TimeZone(identifier: "UTC")!), seconds: Int64(86_400))
        let free = try Self.generate(schools, on: date, cap: nil, seed: 11)
        // 1,000 schools × 4 tests of 35 s in each 4-hour window: 9.7 at once on average.
        let cap = 12
        let capped = try Self.generate(schools, on: date, cap: cap, seed: 11)
        let freePeak = free.load.peak(from: day.start, to: day.start + day.seconds)
        let cappedPeak = capped.load.peak(from: day.start, to: day.start + day.seconds)
        #expect(freePeak > cap, "without the cap the fleet bunches: \(freePeak) at once")
        #expect(cappedPeak <= cap, "with max_concurrent_tests = \(cap): \(cappedPeak) at once")
        #expect(capped.offsets.count == free.offsets.count, "every test is placed")
        let ksFree = Self.ksStatistic(free.offsets), ksCapped = Self.ksStatistic(capped.offsets)
        // Recorded for the README: the distance from uniform with and without the cap.
        print("fleet cap: 1000 schools, peak \(freePeak) → \(cappedPeak) (cap \(cap)); KS \(String(format: "%.4f", ksFree)) → \(String(format: "%.4f", ksCapped))")
        #expect(ksCapped < 0.05, "KS \(ksCapped) against uniform under the cap (\(ksFree) without)")
    }

    @Test("a cap the fleet cannot fit under is governor.cfg's error, with the numbers needed and available")
    func infeasible() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\nmax_concurrent_tests = 3\n")
        for index in 0..<50 {
            try directory.write("schools/s\(index).cfg", """
                [School]
                timezone = UTC
                [Timing]
                boundaries = 0800 0900
                runs_per_period = 4
                delay = 1
                test_duration = 60s
                overnight = no
                [Probes]
                ids = s\(index)-a s\(index)-b
                """)
        }
        // 50 schools × 8 tests × 60 s = 24,000 test-seconds in one hour; 3 at a time give 10,800.
        let problems = loadProblems(main)
        let error = try #require(problems.first { $0.isError }, "\(problems)")
        #expect(error.file == main && error.line == 4, "\(error)")
        #expect(error.message.contains("max_concurrent_tests = 3 cannot be met") && error.message.contains("400 test(s) of 24000 test-seconds")
                && error.message.contains("give 10800 test-seconds") && error.message.contains("at least 7"), "\(error.message)")
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\nmax_concurrent_tests = 7\n")
        #expect(try ConfigLoader.load(governorFile: main).isValid)
    }
}
