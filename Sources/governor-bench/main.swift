import Foundation
import GovernorCore

// Times schedule generation: one day for 1,000 schools × 10 probes × 16 windows ×
// 4 runs, and one school packed to 99% of its window, beside a naive generator that
// places tests by rejection sampling, measured in the same run.
//
//     swift run -c release governor-bench

/// The naive way: draw each test's start uniformly over the window and retry when
/// it overlaps a test already placed; start the window over when a test finds no
/// room in 1,000 tries. Gives up after `attemptLimit` draws.
struct RejectionSampler {
    var attemptLimit = 2_000_000

    func place<G: RandomNumberGenerator>(count: Int, slot: Int64, windowStart: Int64, windowSeconds: Int64,
                                         using generator: inout G) -> (runs: [Int64]?, attempts: Int) {
        var attempts = 0
        let latest = windowSeconds - slot
        guard latest >= 0 else { return (nil, 0) }
        while attempts < attemptLimit {
            var placed: [Int64] = []
            placed.reserveCapacity(count)
            restart: while placed.count < count {
                var tries = 0
                while tries < 1000 {
                    tries += 1
                    attempts += 1
                    let start = Int64.random(in: 0...latest, using: &generator)
                    if placed.allSatisfy({ abs($0 - start) >= slot }) {
                        placed.append(start)
                        continue restart
                    }
                }
                break restart
            }
            if placed.count == count { return (placed.sorted().map { windowStart + $0 }, attempts) }
        }
        return (nil, attempts)
    }
}

func measure(repetitions: Int, _ body: () -> Void) -> (median: Duration, best: Duration) {
    let clock = ContinuousClock()
    var samples: [Duration] = []
    for _ in 0..<repetitions {
        samples.append(clock.measure(body))
    }
    samples.sort()
    return (samples[samples.count / 2], samples[0])
}

func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.3f ms", Double(seconds) * 1e3 + Double(attoseconds) / 1e15)
}

func microseconds(_ duration: Duration, per count: Int) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.2f µs", (Double(seconds) * 1e6 + Double(attoseconds) / 1e12) / Double(count))
}

let date = LocalDate(year: 2026, month: 11, day: 23)!
// 16 windows of 90 minutes; 40 tests of 35 s + 60 s delay use 3,800 s of 5,400 (70%).
let boundaries = stride(from: 0, to: 86_400, by: 5400).map { TimeOfDay(secondsSinceMidnight: $0)! }
let schools = (0..<1000).map { index in
    SchoolConfig(
        name: "school-\(index)", file: "school-\(index).cfg", timeZone: TimeZone(identifier: "Europe/Berlin")!,
        timing: Timing(boundaries: boundaries, runsPerPeriod: 4, delaySeconds: 60, testDurationSeconds: 35),
        probes: (0..<10).map { ProbeConfig(name: "school-\(index)-probe-\($0)", mode: .pull, line: $0 + 1) })
}

print("governor-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString)")
print("")
print("1. One day for 1,000 schools × 10 probes × 16 windows × 4 runs (640,000 runs, windows 70% full)")
var checksum: Int64 = 0
for (label, seed) in [("seeded (governor schedule --seed)", UInt64?.some(42)), ("system random (server default)", nil)] {
    let result = measure(repetitions: 7) {
        for school in schools {
            let windows = try! ScheduleGenerator.schedule(of: school, on: date, seed: seed)
            checksum &+= windows.last!.runs.last!.runAt
        }
    }
    print("   governor, \(label): median \(milliseconds(result.median)), best \(milliseconds(result.best))")
}

// The naive generator on the same day: every window of every school.
do {
    var generator = Xoshiro256StarStar(seed: 1)
    let sampler = RejectionSampler()
    let windows = SchoolClock.windows(of: schools[0].timing, on: date, in: schools[0].timeZone)
    var attempts = 0, failures = 0
    let result = measure(repetitions: 1) {
        for _ in schools {
            for window in windows {
                let placed = sampler.place(count: 40, slot: 95, windowStart: window.start, windowSeconds: window.seconds, using: &generator)
                attempts += placed.attempts
                if placed.runs == nil { failures += 1 }
            }
        }
    }
    print("   naive rejection sampling: \(milliseconds(result.median)), \(attempts) draws, \(failures) of 16,000 windows given up")
}

print("")
print("2. One window per packing: 10 probes × 4 runs, slot 99 s (35 s test + 64 s delay)")
print("   packing   governor (per window)   naive rejection sampling (per window)")
for (label, windowSeconds) in [("50%", Int64(7920)), ("70%", Int64(5657)), ("90%", Int64(4400)), ("99%", Int64(4000))] {
    let school = SchoolConfig(
        name: "packed", file: "packed.cfg", timeZone: TimeZone(identifier: "UTC")!,
        timing: Timing(boundaries: [TimeOfDay(secondsSinceMidnight: 0)!], runsPerPeriod: 4, delaySeconds: 64, testDurationSeconds: 35),
        probes: (0..<10).map { ProbeConfig(name: "p\($0)", mode: .pull, line: $0 + 1) })
    let bounds = WindowBounds(start: 1_795_392_000, end: 1_795_392_000 + windowSeconds, localDate: date, startBoundary: TimeOfDay(secondsSinceMidnight: 0)!)
    let repetitions = 20_000
    let ours = measure(repetitions: 5) {
        for seed in 0..<repetitions {
            checksum &+= try! ScheduleGenerator.window(bounds, of: school, seed: UInt64(seed)).runs[0].runAt
        }
    }
    var generator = Xoshiro256StarStar(seed: 2)
    var naiveOutcome = ""
    let naiveRuns = 20
    var failures = 0, attempts = 0
    let naive = measure(repetitions: 1) {
        for _ in 0..<naiveRuns {
            let placed = RejectionSampler(attemptLimit: 200_000).place(count: 40, slot: 99, windowStart: bounds.start, windowSeconds: windowSeconds, using: &generator)
            attempts += placed.attempts
            if placed.runs == nil { failures += 1 }
        }
    }
    naiveOutcome = "\(microseconds(naive.median, per: naiveRuns)) (\(attempts / naiveRuns) draws"
        + (failures > 0 ? ", gave up on \(failures) of \(naiveRuns) after 200,000 draws)" : ")")
    print("   \(label.padding(toLength: 10, withPad: " ", startingAt: 0))\(microseconds(ours.median, per: repetitions).padding(toLength: 24, withPad: " ", startingAt: 0))\(naiveOutcome)")
}
print("")
print("(checksum \(checksum))")
