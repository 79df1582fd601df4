import Foundation
import GovernorCore
import ProbeClient

// Start lateness of the probe's test command: the moment it is spawned minus the
// scheduled instant (probe clock), and the command's own first timestamp minus the
// instant. The probe's wait (sleep to 2 ms before, then spin) beside a plain sleep
// to the instant, interleaved in one run.
//
//     swift run -c release governor-probe-bench [RUNS]

let runs = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func row(_ name: String, _ values: [Double]) {
    let ms = values.map { $0 * 1000 }
    print(String(format: "%-28@ p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms", name as NSString, percentile(ms, 0.5), percentile(ms, 0.99), ms.max() ?? .nan))
}

var spawnPrecise: [Double] = [], commandPrecise: [Double] = []
var spawnSleep: [Double] = [], commandSleep: [Double] = []
for index in 0..<(runs * 2) {
    // Off the whole second, 50 ms ahead.
    let instant = WallClock.now() + 0.05
    let precise = index % 2 == 0
    if !precise { Thread.sleep(forTimeInterval: max(0, instant - WallClock.now())) }
    let outcome = try CommandRunner.runBlocking("date +%s.%N", startAt: precise ? instant : nil, timeout: 10)
    let commandStart = Double(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
    if precise {
        spawnPrecise.append(outcome.startedAt - instant)
        commandPrecise.append(commandStart - instant)
    } else {
        spawnSleep.append(outcome.startedAt - instant)
        commandSleep.append(commandStart - instant)
    }
}
print("\(runs) runs each, interleaved")
row("spawn, sleep + spin", spawnPrecise)
row("spawn, plain sleep", spawnSleep)
row("command's date, sleep + spin", commandPrecise)
row("command's date, plain sleep", commandSleep)
