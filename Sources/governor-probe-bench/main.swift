import Foundation
import GovernorCore
import ProbeClient

// Start lateness of the probe's test command: the moment it is spawned minus the
// scheduled instant (probe clock), and the command's own first timestamp minus the
// instant. Three waits, interleaved in one run: the probe's (a sleep to the instant
// at real-time priority when the probe may have it, as root here), the spin it falls
// back to (a sleep to 2 ms before, then spinning), and a plain sleep to the instant.
//
//     swift run -c release governor-probe-bench [RUNS]

let runs = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func row(_ name: String, _ values: [Double]) {
    let ms = values.map { $0 * 1000 }
    print(name.padding(toLength: 34, withPad: " ", startingAt: 0)
          + String(format: " p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms", percentile(ms, 0.5), percentile(ms, 0.99), ms.max() ?? .nan))
}

enum Wait: CaseIterable { case probe, spin, sleep }
var spawn: [Wait: [Double]] = [:], command: [Wait: [Double]] = [:]
var realtime = false
for index in 0..<(runs * Wait.allCases.count) {
    // Off the whole second, 50 ms ahead.
    let instant = WallClock.now() + 0.05
    let wait = Wait.allCases[index % Wait.allCases.count]
    if wait == .sleep { Thread.sleep(forTimeInterval: max(0, instant - WallClock.now())) }
    let outcome = try CommandRunner.runBlocking("date +%s.%N", startAt: wait == .sleep ? nil : instant, timeout: 10,
                                                startPolicy: wait == .spin ? .spin : .realtimeWhenAllowed)
    if wait == .probe { realtime = outcome.startedRealtime ?? false }
    let commandStart = Double(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
    spawn[wait, default: []].append(outcome.startedAt - instant)
    command[wait, default: []].append(commandStart - instant)
}
print("\(runs) runs each, interleaved; the probe's wait \(realtime ? "was at real-time priority" : "could not have real-time priority (spun)")")
let names: [Wait: String] = [.probe: "the probe's wait", .spin: "sleep + spin", .sleep: "plain sleep"]
for wait in Wait.allCases { row("spawn, \(names[wait]!)", spawn[wait] ?? []) }
for wait in Wait.allCases { row("command's date, \(names[wait]!)", command[wait] ?? []) }
