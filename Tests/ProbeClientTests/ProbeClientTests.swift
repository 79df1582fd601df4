import Foundation
import GovernorTestSupport
import GovernorWire
import ProbeClient
import Testing

@Suite("Probe client pieces")
struct ProbeClientTests {
    @Test("the clock offset follows the shortest round trip and is smoothed")
    func clockOffset() {
        var estimator = ClockOffsetEstimator(window: 4, smoothing: 0.5)
        // Server 0.2 s ahead; a 10 ms round trip.
        estimator.add(sentAt: 100.000, receivedAt: 100.010, serverTime: 100.205)
        #expect(abs((estimator.offset ?? 0) - 0.200) < 1e-9)
        // A slow exchange (2 s round trip) with a skewed midpoint does not move the estimate.
        estimator.add(sentAt: 200.000, receivedAt: 202.000, serverTime: 201.900)
        #expect(abs((estimator.offset ?? 0) - 0.200) < 1e-9)
        // A better sample pulls it halfway.
        estimator.add(sentAt: 300.000, receivedAt: 300.002, serverTime: 300.101)
        #expect(abs((estimator.offset ?? 0) - 0.150) < 1e-9)
        #expect(abs((estimator.probeMinusServerMs ?? 0) + 150) < 1e-6)
    }

    @Test("the queue keeps results across instances, oldest first, and removes delivered ones")
    func queue() throws {
        let directory = try TemporaryDirectory("governor-queue")
        defer { directory.remove() }
        let queue = try ResultQueue(directory: directory.path)
        let reports = (0..<3).map { ResultReport(runAt: "2026-11-23T07:0\($0):00Z", startedAt: "s", finishedAt: "f", exitCode: $0, output: "o\($0)", clockOffsetMs: nil, startLatenessMs: 0.01) }
        for report in reports { try queue.enqueue(report) }
        let reopened = try ResultQueue(directory: directory.path)
        #expect(reopened.pending().map(\.report) == reports)
        reopened.remove(reopened.pending()[0].name)
        #expect(reopened.pending().map(\.report.exitCode) == [1, 2])
        // A half-written temporary file is never taken for a result.
        try directory.write(".partial.json.tmp", "{")
        #expect(reopened.pending().count == 2)
    }

    @Test("settings: the file, then flags; errors name the file and line")
    func settings() throws {
        let directory = try TemporaryDirectory("governor-probe-settings")
        defer { directory.remove() }
        let token = try directory.write("token", "secret\n")
        let file = try directory.write("probe.cfg", "[Probe]\nid = school-1\nserver = http://governor.example:8080/\ncommand = ndt7-client -format json\ntimeout = 2m\nmax_clock_offset = 0.5\n")
        let loaded = try ProbeSettings.load(path: file, overrides: .init(tokenFile: token))
        #expect(loaded == ProbeSettings(id: "school-1", token: "secret", server: "http://governor.example:8080", command: "ndt7-client -format json",
                                        timeoutSeconds: 120, maxClockOffsetSeconds: 0.5))
        let overridden = try ProbeSettings.load(path: file, overrides: .init(id: "school-2", command: "true"))
        #expect(overridden.id == "school-2" && overridden.command == "true")
        let bad = try directory.write("bad.cfg", "[Probe]\nid = a b\nserver = http://x\ncommand = true\n")
        #expect { try ProbeSettings.load(path: bad, overrides: .init()) } throws: { error in
            (error as? ProbeError)?.message.hasPrefix("\(bad):2: 'id'") == true
        }
        let typo = try directory.write("typo.cfg", "[Probe]\nid = a\nsever = http://x\n")
        #expect { try ProbeSettings.load(path: typo, overrides: .init()) } throws: { error in
            (error as? ProbeError)?.message.contains("\(typo):3: unknown key 'sever'") == true
        }
    }

    @Test("lease: 24 h by default, 0 to ask before each run; the file sits beside the queue; a bad value names the line")
    func leaseSettings() throws {
        let directory = try TemporaryDirectory("governor-probe-lease")
        defer { directory.remove() }
        let plain = try directory.write("plain.cfg", "[Probe]\nid = a\nserver = http://x\ncommand = true\nqueue = /var/lib/probe/queue\n")
        let loaded = try ProbeSettings.load(path: plain, overrides: .init())
        #expect(loaded.leaseSeconds == 86_400 && loaded.leasePath == "/var/lib/probe/lease.json")
        let off = try directory.write("off.cfg", "[Probe]\nid = a\nserver = http://x\ncommand = true\nlease = 0\n")
        #expect(try ProbeSettings.load(path: off, overrides: .init()).leaseSeconds == 0)
        let bad = try directory.write("bad.cfg", "[Probe]\nid = a\nserver = http://x\ncommand = true\nlease = 30d\n")
        #expect { try ProbeSettings.load(path: bad, overrides: .init()) } throws: { error in
            (error as? ProbeError)?.message.hasPrefix("\(bad):5: 'lease' is '30d'") == true
        }
    }

    @Test("a refreshed lease: the answer is the truth up to its end; runs held beyond it stay unless cancelled; on disk atomically")
    func leaseRefresh() throws {
        let held = ProbeLease(leaseUntil: 1_000, runs: [100, 400, 700, 900])
        let answer = GovernorAPI.Lease(runs: [450, 500], leaseUntil: 600, cancelled: [400, 900])
        let refreshed = held.refreshed(by: answer)
        #expect(refreshed == ProbeLease(leaseUntil: 1_000, runs: [450, 500, 700]))
        #expect(refreshed.next(after: 450) == 500 && refreshed.next(after: 700) == nil && refreshed.hasRunOut(at: 700))

        let directory = try TemporaryDirectory("governor-probe-lease-file")
        defer { directory.remove() }
        let path = directory.file("lease.json")
        #expect(ProbeLease.load(from: path) == nil)
        try refreshed.save(to: path)
        #expect(ProbeLease.load(from: path) == refreshed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["lease.json"], "no temporary file left")

        // Group runs stay marked through a refresh and on disk; a lease of an earlier probe has none.
        let grouped = ProbeLease(leaseUntil: 1_000, runs: [700, 900], grouped: [900])
            .refreshed(by: GovernorAPI.Lease(runs: [450, 500], leaseUntil: 600, cancelled: [], grouped: [500]))
        #expect(grouped.grouped == [500, 900] && grouped.isGrouped(500) && !grouped.isGrouped(700))
        try grouped.save(to: path)
        #expect(ProbeLease.load(from: path) == grouped)
        try Data(#"{"lease_until":1000,"runs":[700]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(ProbeLease.load(from: path) == ProbeLease(leaseUntil: 1_000, runs: [700]) && ProbeLease.load(from: path)?.isGrouped(700) == false)
    }

    @Test("a command that outlives its timeout is stopped with its whole process group")
    func timeout() throws {
        let directory = try TemporaryDirectory("governor-probe-run")
        defer { directory.remove() }
        let pidFile = directory.file("child.pid")
        let outcome = try CommandRunner.runBlocking("sleep 30 & echo $! > \(pidFile); wait", startAt: nil, timeout: 0.5)
        #expect(outcome.timedOut)
        #expect(outcome.exitCode == 128 + 15)
        let child = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        Thread.sleep(forTimeInterval: 0.2)
        // Gone, or a zombie waiting for whoever adopted it to reap it.
        let state = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
        #expect(state == nil || state == "Z", "the background child survived (state \(state ?? "?"))")
    }

    @Test("run times the probe refuses: unrepresentable, too far past, beyond the look-ahead, already run", arguments: [
        (1e30, Int64.min, "not a run time"),
        (Double.nan, Int64.min, "not a run time"),
        (1_000_000.5, Int64.min, "not a run time"),
        (999_990, Int64.min, "10 s past"),
        (1_000_000 + 401 * 86_400, Int64.min, "beyond the governor's look-ahead"),
        (1_000_060, 1_000_060, "already ran"),
        (1_000_030, 1_000_060, "which is later"),
    ] as [(Double, Int64, String)])
    func refusals(runAt: Double, lastRun: Int64, fragment: String) {
        let reason = ProbeLoop.refusal(of: runAt, now: 1_000_000, lastRun: lastRun)
        #expect(reason?.contains(fragment) == true, "\(String(describing: reason))")
    }

    @Test("run times the probe takes: now, a little late, a year ahead")
    func acceptedRunTimes() {
        for runAt: Double in [1_000_000, 999_996, 1_000_000 + 365 * 86_400] {
            #expect(ProbeLoop.refusal(of: runAt, now: 1_000_000, lastRun: 999_000) == nil)
        }
    }
}
