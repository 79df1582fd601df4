import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// `governor serve` as a real process on a loopback port, with real files and a real
/// SQLite database, stopped by its PID at the end of each test.
@Suite("governor serve as a process", .serialized)
struct ServeProcessTests {
    let http = HTTPTestClient()

    /// A fixed-offset zone where it is between 06:00 and 18:00 now, so that
    /// boundaries a few seconds from now never wrap past midnight.
    static func daytimeZone() -> (name: String, offset: Int) {
        let utcHour = Int(Date().timeIntervalSince1970) % 86_400 / 3600
        let shift = (12 - utcHour + 24) % 24  // local hour 12 ± 1
        let hours = shift > 12 ? shift - 24 : shift
        // POSIX-style Etc zones have inverted signs: Etc/GMT-3 is UTC+3.
        return (hours == 0 ? "UTC" : "Etc/GMT\(hours > 0 ? "-" : "+")\(abs(hours))", hours * 3600)
    }

    /// `HH:MM:SS` local time, `seconds` from now, in a zone `offset` seconds east of UTC.
    static func localTime(inSeconds seconds: Int, offset: Int) -> String {
        let local = (Int(Date().timeIntervalSince1970) + seconds + offset) % 86_400
        return String(format: "%02d:%02d:%02d", local / 3600, local % 3600 / 60, local % 60)
    }

    static func school(name: String, zone: String, boundaries: [String], probes: [String], runs: Int = 1,
                       testDuration: String = "1s", delay: String = "1s", overnight: Bool = false) -> String {
        var text = """
            [School]
            name = \(name)
            timezone = \(zone)
            [Timing]
            boundaries = \(boundaries.joined(separator: ", "))
            runs_per_period = \(runs)
            delay = \(delay)
            test_duration = \(testDuration)
            overnight = \(overnight ? "yes" : "no")
            [Probes]
            ids = \(probes.joined(separator: " "))

            """
        for probe in probes { text += "[Probe \(probe)]\ntoken = \(probe)-token\n" }
        return text
    }

    func start(_ directory: TemporaryDirectory, environment: [String: String] = [:]) throws -> ServerProcess {
        try ServerProcess(config: directory.file("governor.cfg"), environment: environment, logPath: directory.file("governor.log"))
    }

    @Test("next-run answers lie in the stored schedule and increase strictly for a probe that runs and reports",
          .timeLimit(.minutes(2)))
    func pullLoop() async throws {
        let directory = try TemporaryDirectory("governor-serve")
        defer { directory.remove() }
        let (zone, offset) = Self.daytimeZone()
        // Six windows of 6 s, starting 5 s from now; two probes, one 2 s slot each. Three
        // rounds need three of them: a round that a loaded machine makes late takes the
        // next window's run instead of tomorrow's (one fresh-clone run fell behind three).
        let boundaries = [5, 11, 17, 23, 29, 35, 41].map { Self.localTime(inSeconds: $0, offset: offset) }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/quick.cfg", Self.school(name: "quick", zone: zone, boundaries: boundaries, probes: ["q1", "q2"]))
        let server = try start(directory)
        defer { server.stop() }

        var previous = 0
        for round in 0..<3 {
            let answer = try await http.get("\(server.baseURL)/v1/probes/q1/next", token: "q1-token")
            #expect(answer.status == 200, "\(answer.body)")
            let runAt = try #require(try answer.json()["run_at_unix"] as? Int)
            #expect(runAt > previous, "round \(round)")
            #expect(Double(runAt) > Date().timeIntervalSince1970 - 1)
            previous = runAt

            // The answer is in the stored schedule.
            let date = String(RFC3339.format(UnixTime(runAt + offset)).prefix(10))
            let schedule = try await http.get("\(server.baseURL)/v1/schools/quick/schedule?date=\(date)").json()
            let stored = (schedule["windows"] as! [[String: Any]]).filter { $0["stored"] as? Bool == true }
                .flatMap { $0["runs"] as! [[String: String]] }
            #expect(stored.contains { $0["probe"] == "q1" && $0["run_at"] == RFC3339.format(UnixTime(runAt)) })

            // Wait for the run, "run" it, report it. A loaded machine can be late for
            // today's windows; the answer is then tomorrow's, which this test does not wait for.
            let wait = Double(runAt) - Date().timeIntervalSince1970
            try #require(wait < 60, "round \(round): the next run is \(Int(wait)) s away; the test fell behind its windows")
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 50)) }
            let started = RFC3339.format(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            let body = "{\"run_at\":\"\(RFC3339.format(UnixTime(runAt)))\",\"started_at\":\"\(started)\",\"finished_at\":\"\(started)\",\"exit_code\":0,\"output\":\"round \(round)\"}"
            #expect(try await http.post("\(server.baseURL)/v1/probes/q1/results", token: "q1-token", body: body).status == 201)
        }
        let results = try await http.get("\(server.baseURL)/v1/probes/q1/results").json()["results"] as? [[String: Any]]
        #expect(results?.map { $0["output"] as! String } == ["round 2", "round 1", "round 0"])
        #expect(server.stop() == 0)
    }

    @Test("kill -9 and a restart keep every announced run time", .timeLimit(.minutes(2)))
    func crashKeepsRunTimes() async throws {
        let directory = try TemporaryDirectory("governor-serve")
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/a.cfg", Self.school(name: "a", zone: "UTC", boundaries: ["0000", "0600", "1200", "1800"],
                                                         probes: ["a1", "a2", "a3"], runs: 4, testDuration: "35s", delay: "2m", overnight: true))
        var announced: [String: Int] = [:]
        let first = try start(directory)
        for probe in ["a1", "a2", "a3"] {
            announced[probe] = try await http.get("\(first.baseURL)/v1/probes/\(probe)/next", token: "\(probe)-token").json()["run_at_unix"] as? Int
        }
        first.stop(signal: SIGKILL)
        #expect(first.process.terminationSignal == SIGKILL)

        let second = try start(directory)
        defer { second.stop() }
        for probe in ["a1", "a2", "a3"] {
            let again = try await http.get("\(second.baseURL)/v1/probes/\(probe)/next", token: "\(probe)-token").json()["run_at_unix"] as? Int
            // Unless the run has passed meanwhile, the very same time is announced.
            if let time = announced[probe], Double(time) > Date().timeIntervalSince1970 {
                #expect(again == time, "\(probe)")
            }
        }
    }

    /// A closure typo fixed by reload used to leave the school without runs until the
    /// old end of the closure: no runs, no misses, no alert, and nobody told.
    @Test("SIGHUP that removes a closure: the probe's next run is today again, and the run announced before stays stored",
          .timeLimit(.minutes(2)))
    func reloadReopensSchool() async throws {
        let directory = try TemporaryDirectory("governor-serve")
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        let day = 86_400.0
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let now = Date()
        let closure = "closed = \(formatter.string(from: now))..\(formatter.string(from: now.addingTimeInterval(10 * day)))"
        let open = Self.school(name: "alpha", zone: "UTC", boundaries: ["0000", "0600", "1200", "1800"], probes: ["a1"], overnight: true)
        try directory.write("schools/alpha.cfg", open.replacingOccurrences(of: "timezone = UTC", with: "timezone = UTC\n\(closure)"))
        let server = try start(directory)
        defer { server.stop() }
        let announced = try #require(try await http.get("\(server.baseURL)/v1/probes/a1/next", token: "a1-token").json()["run_at_unix"] as? Int)
        #expect(Double(announced) > now.timeIntervalSince1970 + 9 * day, "asked during the closure: the first run after it")

        try directory.write("schools/alpha.cfg", open)
        server.send(SIGHUP)
        for _ in 0..<100 where !server.log.contains("configuration reloaded") { try await Task.sleep(for: .milliseconds(100)) }
        let next = try #require(try await http.get("\(server.baseURL)/v1/probes/a1/next", token: "a1-token").json()["run_at_unix"] as? Int)
        // Windows of six hours with a run each: the next run is within about twelve hours.
        #expect(Double(next) < Date().timeIntervalSince1970 + 13 * 3600, "next run after the reload: \(next), announced \(announced)\n\(server.log)")
        let schedule = try await http.get("\(server.baseURL)/v1/schools/alpha/schedule?date=\(RFC3339.format(UnixTime(announced)).prefix(10))").json()
        let runs = ((schedule["windows"] as? [[String: Any]]) ?? []).flatMap { ($0["runs"] as? [[String: Any]]) ?? [] }
        #expect(runs.contains { ($0["run_at"] as? String) == RFC3339.format(UnixTime(announced)) }, "the announced run stays: \(schedule)")
        #expect(server.log.contains("gave the reopened days of a school their windows"), "\(server.log)")
    }

    @Test("SIGHUP: a school whose file broke keeps serving its old configuration; the other applies its change",
          .timeLimit(.minutes(2)))
    func reloadOnHangup() async throws {
        let directory = try TemporaryDirectory("governor-serve")
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        let allDay = ["0000", "1200"]
        try directory.write("schools/alpha.cfg", Self.school(name: "alpha", zone: "UTC", boundaries: allDay, probes: ["a1"], overnight: true))
        try directory.write("schools/beta.cfg", Self.school(name: "beta", zone: "UTC", boundaries: allDay, probes: ["b1"], overnight: true))
        let server = try start(directory)
        defer { server.stop() }
        let before = try await http.get("\(server.baseURL)/v1/probes/a1/next", token: "a1-token").json()["run_at_unix"] as? Int
        #expect(before != nil)
        #expect(try await http.get("\(server.baseURL)/v1/probes/b2/next", token: "b2-token").status == 401)  // not configured yet: the same answer as a wrong token

        try directory.write("schools/alpha.cfg", "[Timing]\nboundaries = 0000 1200\nruns_per_period = many\ndelay = 1\n[Probes]\nids = a1\n")
        try directory.write("schools/beta.cfg", Self.school(name: "beta", zone: "UTC", boundaries: allDay, probes: ["b1", "b2"], overnight: true))
        server.send(SIGHUP)

        var applied = false
        for _ in 0..<100 where !applied {
            applied = try await http.get("\(server.baseURL)/v1/probes/b2/next", token: "b2-token").status == 200
            if !applied { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(applied, "beta's new probe is not served after SIGHUP:\n\(server.log)")
        let after = try await http.get("\(server.baseURL)/v1/probes/a1/next", token: "a1-token")
        #expect(after.status == 200)
        #expect(try after.json()["run_at_unix"] as? Int == before)
        #expect(server.log.contains("schools/alpha.cfg:3: error: 'runs_per_period' is 'many'"))
        #expect(server.log.contains("school 'alpha' keeps its last good configuration"))
        #expect(server.stop() == 0)
    }

    @Test("systemd's notify socket hears READY, RELOADING, WATCHDOG and STOPPING; SIGTERM exits 0", .timeLimit(.minutes(2)))
    func systemdNotify() async throws {
        let directory = try TemporaryDirectory("governor-serve")
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/a.cfg", Self.school(name: "a", zone: "UTC", boundaries: ["0000", "1200"], probes: ["a1"], overnight: true))
        let socket = try NotifySocket(path: directory.file("notify.sock"))
        let server = try start(directory, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"])
        defer { server.stop() }

        #expect(socket.wait(for: "READY=1", timeout: 10) != nil)
        #expect(socket.wait(for: "WATCHDOG=1", timeout: 5) != nil)
        server.send(SIGHUP)
        let reloading = socket.wait(for: "RELOADING=1", timeout: 10)
        #expect(reloading?.contains("MONOTONIC_USEC=") == true)
        #expect(socket.wait(for: "READY=1", timeout: 10) != nil)
        server.send(SIGTERM)
        #expect(socket.wait(for: "STOPPING=1", timeout: 10) != nil)
        #expect(server.stop() == 0)
        #expect(server.log.contains("governor stopped"))
    }

    @Test("a broken governor.cfg or an unusable state path stops serve with the reason, exit 1")
    func startupFailures() throws {
        let directory = try TemporaryDirectory("governor-serve")
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nlisten = nowhere\n")
        var result = try runProcess(Executables.built("governor"), ["serve", "--config", directory.file("governor.cfg")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("governor.cfg:2: error: 'listen' is 'nowhere'"))

        try directory.write("blocker", "a file, not a directory")
        try directory.write("governor.cfg", "[Governor]\nstate = blocker/state.sqlite\n")
        result = try runProcess(Executables.built("governor"), ["serve", "--config", directory.file("governor.cfg"), "--listen", "127.0.0.1:0"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot open the state database \(directory.path)/blocker/state.sqlite"))
    }
}
