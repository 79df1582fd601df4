import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `governor serve` on a PostgreSQL state: real processes on loopback, a real
/// PostgreSQL server the test starts (initdb, postgres, stopped by its PID).
@Suite("governor serve on PostgreSQL", .serialized)
struct PostgresStateProcessTests {
    let http = HTTPTestClient()

    /// A governor.cfg naming a fresh database on `server`, and one school of three
    /// probes with four windows a day.
    static func configure(_ directory: TemporaryDirectory, server: TestPostgres, database: String) throws {
        try directory.write("governor.cfg", """
            [Governor]
            schools = schools
            state = postgres://\(server.user)@127.0.0.1:\(server.port)/\(database)
            sslmode = disable
            """)
        try directory.write("schools/a.cfg", ServeProcessTests.school(
            name: "a", zone: "UTC", boundaries: ["0000", "0600", "1200", "1800"], probes: ["a1", "a2", "a3"],
            runs: 4, testDuration: "35s", delay: "2m", overnight: true))
    }

    /// A result of a test that ran a minute ago, re-sent safely under `key`.
    static func result(_ output: String, key: String) -> String {
        let ranAt = UnixTime(Date().timeIntervalSince1970) - 60
        return "{\"run_at\":\"\(RFC3339.format(ranAt))\",\"started_at\":\"\(RFC3339.format(ranAt))\",\"finished_at\":\"\(RFC3339.format(ranAt + 30))\","
            + "\"exit_code\":0,\"output\":\"\(output)\",\"idempotency_key\":\"\(key)\"}"
    }

    func start(_ directory: TemporaryDirectory, log: String = "governor.log") throws -> ServerProcess {
        try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file(log))
    }

    @Test("runs, results and restarts on PostgreSQL; a lost database is a 503, and the governor reconnects by itself",
          .timeLimit(.minutes(3)))
    func servesFromPostgres() async throws {
        let server = try TestPostgres()
        defer { server.remove() }
        let directory = try TemporaryDirectory("governor-postgres-serve")
        defer { directory.remove() }
        try Self.configure(directory, server: server, database: server.database)

        let first = try start(directory)
        var announced: [String: Int] = [:]
        for probe in ["a1", "a2", "a3"] {
            let answer = try await http.get("\(first.baseURL)/v1/probes/\(probe)/next", token: "\(probe)-token")
            #expect(answer.status == 200, "\(answer.body)")
            announced[probe] = try answer.json()["run_at_unix"] as? Int
        }
        let body = Self.result("stored in PostgreSQL", key: "k1")
        let posted = try await http.post("\(first.baseURL)/v1/probes/a1/results", token: "a1-token", body: body)
        #expect(posted.status == 201, "\(posted.body)")
        #expect(try server.psql("SELECT output FROM results") == "stored in PostgreSQL")
        #expect(try await http.get("\(first.baseURL)/healthz").status == 200)
        first.stop(signal: SIGKILL)

        // A restart on the same database announces the same runs and knows the result.
        let second = try start(directory, log: "second.log")
        defer { second.stop() }
        for probe in ["a1", "a2", "a3"] {
            let again = try await http.get("\(second.baseURL)/v1/probes/\(probe)/next", token: "\(probe)-token").json()["run_at_unix"] as? Int
            if let time = announced[probe], Double(time) > Date().timeIntervalSince1970 {
                #expect(again == time, "\(probe)")
            }
        }
        let results = try await http.get("\(second.baseURL)/v1/probes/a1/results").json()["results"] as? [[String: Any]]
        #expect(results?.compactMap { $0["output"] as? String } == ["stored in PostgreSQL"])

        // Results keep coming while the database goes away and comes back: each is
        // answered 201 (stored) or 503 (not stored: the probe keeps it and sends it
        // again), never anything else, and every one acknowledged is stored.
        let base = second.baseURL
        let load = Task { () -> [String: Int] in
            var answers: [String: Int] = [:]
            for index in 0..<400 where !Task.isCancelled {
                let key = "load-\(index)"
                let reply = try? await HTTPTestClient().post("\(base)/v1/probes/a3/results", token: "a3-token", body: Self.result("under load", key: key))
                answers[key] = reply?.status ?? 0
                try? await Task.sleep(for: .milliseconds(20))
            }
            return answers
        }
        try await Task.sleep(for: .milliseconds(500))

        // The database goes away: health says so (never a wrong 200), and it comes back by itself.
        server.stop()
        var sawDown = false
        for _ in 0..<40 where !sawDown {
            sawDown = try await http.get("\(second.baseURL)/healthz").status == 503
            if !sawDown { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(sawDown, "/healthz while PostgreSQL is stopped")
        let refused = try await http.post("\(second.baseURL)/v1/probes/a3/results", token: "a3-token", body: Self.result("during the gap", key: "k3"))
        #expect(refused.status == 503 && refused.headers.contains { $0.0.lowercased() == "retry-after" && $0.1 == "5" }, "\(refused.status) \(refused.body)")
        try server.start()
        var back = false
        for _ in 0..<80 where !back {
            back = try await http.get("\(second.baseURL)/healthz").status == 200
            if !back { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(back, "/healthz after PostgreSQL returned, without restarting the governor")
        try await Task.sleep(for: .seconds(1))
        load.cancel()
        let answers = await load.value
        let acknowledged = Set(answers.filter { $0.value == 201 }.keys)
        // 0: no answer within the test client's 10 s (seen only with the whole suite
        // loading the machine); a probe treats it as it treats a 503, and sends again.
        #expect(answers.values.allSatisfy { [0, 201, 503].contains($0) }, "only stored, unavailable or unanswered: \(Set(answers.values))")
        #expect(answers.values.contains(503) && !acknowledged.isEmpty, "the load spanned the gap: \(answers.count) requests")
        let stored = Set(try server.psql("SELECT idempotency_key FROM results WHERE output = 'under load'").split(separator: "\n").map { String($0.dropFirst(4)) })
        #expect(acknowledged.isSubset(of: stored), "acknowledged but lost: \(acknowledged.subtracting(stored).sorted())")
        let after = try await http.post("\(second.baseURL)/v1/probes/a2/results", token: "a2-token",
                                        body: body.replacingOccurrences(of: "k1", with: "k2"))
        #expect(after.status == 201, "\(after.body)")
        #expect(second.stop() == 0, "\(second.log.suffix(4000))")
    }

    /// During a PostgreSQL outage /healthz hung for more than 3 s, past a load
    /// balancer's patience; it has a deadline of its own (2 s).
    @Test("/healthz answers 503 within its own deadline when PostgreSQL accepts connections and answers nothing",
          .timeLimit(.minutes(2)))
    func healthDeadline() async throws {
        let server = try TestPostgres()
        defer { server.remove() }
        let directory = try TemporaryDirectory("governor-postgres-health")
        defer { directory.remove() }
        try Self.configure(directory, server: server, database: server.database)
        let governor = try start(directory)
        defer { governor.stop() }
        #expect(try await http.get("\(governor.baseURL)/healthz").status == 200)
        server.send(SIGSTOP)
        defer { server.send(SIGCONT) }
        // Past the health cache (2 s), so that the next answer is a new check.
        try await Task.sleep(for: .seconds(2.5))
        let asked = Date()
        let answer = try await http.get("\(governor.baseURL)/healthz")
        let took = Date().timeIntervalSince(asked)
        #expect(answer.status == 503, "\(answer.status) \(answer.body)")
        #expect(took < 4, "/healthz took \(took) s")
        server.send(SIGCONT)
        var back = false
        for _ in 0..<60 where !back {
            back = try await http.get("\(governor.baseURL)/healthz").status == 200
            if !back { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(back)
    }

    @Test("three governors on one database: the same announced runs whichever a probe asks; results and measurements seen by all, each once",
          .timeLimit(.minutes(3)))
    func threeGovernorsAgree() async throws {
        let server = try TestPostgres.shared()
        let database = TestPostgres.uniqueName("two")
        _ = try server.freshDatabase(database)
        let directory = try TemporaryDirectory("governor-postgres-two")
        defer { directory.remove() }
        try Self.configure(directory, server: server, database: database)
        // Started together: all migrate (in turns) and all store the current window (one version).
        let a = try start(directory, log: "a.log")
        defer { a.stop() }
        let b = try start(directory, log: "b.log")
        defer { b.stop() }
        let c = try start(directory, log: "c.log")
        defer { c.stop() }
        for probe in ["a1", "a2", "a3"] {
            var answers: [Int?] = []
            for governor in [a, b, c, b, a] {
                answers.append(try await http.get("\(governor.baseURL)/v1/probes/\(probe)/next", token: "\(probe)-token").json()["run_at_unix"] as? Int)
            }
            #expect(answers.first! != nil && Set(answers).count == 1, "\(probe): \(answers)")
        }
        let body = Self.result("to a", key: "once")
        #expect(try await http.post("\(a.baseURL)/v1/probes/a3/results", token: "a3-token", body: body).status == 201)
        // The same result re-sent to the other governor is the same result.
        #expect(try await http.post("\(b.baseURL)/v1/probes/a3/results", token: "a3-token", body: body).status == 200)
        for governor in [b, c] {
            let seen = try await http.get("\(governor.baseURL)/v1/probes/a3/results").json()["results"] as? [[String: Any]]
            #expect(seen?.compactMap { $0["output"] as? String } == ["to a"])
        }
        // The status every view shows, on another governor: a3's latest result and its contact.
        var latest: String?
        for _ in 0..<20 where latest == nil {
            let status = try await http.get("\(c.baseURL)/v1/probes/a3").json()
            latest = ((status["last_result"] as? [String: Any]).flatMap { $0["id"] }).map { "\($0)" }
            if latest == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(latest != nil, "c shows the result a stored")

        // A measured result stored by a: every governor's standing and egress count it, once.
        let measured = Self.result(#"{\"download_mbps\": 7, \"client_ip\": \"203.0.113.5\"}"#, key: "measured")
        #expect(try await http.post("\(a.baseURL)/v1/probes/a2/results", token: "a2-token", body: measured).status == 201)
        func counted(_ governor: ServerProcess) async throws -> (Int?, Int?) {
            let status = try await http.get("\(governor.baseURL)/v1/status").json()
            let school = (status["schools"] as? [[String: Any]])?.first
            let egress = (school?["probes"] as? [[String: Any]])?.first { $0["probe"] as? String == "a2" }?["egress"] as? [String: Any]
            return ((school?["measurement"] as? [String: Any])?["measurements"] as? Int, egress?["tests_last_24h"] as? Int)
        }
        for governor in [b, c] {
            var seen: (Int?, Int?) = (nil, nil)
            for _ in 0..<20 where seen.0 != 1 {
                seen = try await counted(governor)
                if seen.0 != 1 { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(seen.0 == 1 && seen.1 == 1, "\(seen)")
        }
        // The followers read back 30 s every second: three more reads count nothing twice.
        try await Task.sleep(for: .seconds(3))
        for governor in [a, b, c] {
            let seen = try await counted(governor)
            #expect(seen.0 == 1 && seen.1 == 1, "\(seen)")
        }
    }

    /// Two governors used to take the rows of `school_sources` in the orders of their
    /// own dictionaries: SIGHUP to both at once deadlocked 5 reloads in 60, and the
    /// loser kept the old configuration while the other ran the new one.
    @Test("two governors reloaded together 30 times: every reload of both applies, no deadlock reaches the operator",
          .timeLimit(.minutes(4)))
    func reloadStorm() async throws {
        let server = try TestPostgres.shared()
        let database = TestPostgres.uniqueName("storm")
        _ = try server.freshDatabase(database)
        let directory = try TemporaryDirectory("governor-postgres-storm")
        defer { directory.remove() }
        try Self.configure(directory, server: server, database: database)
        let names = (0..<40).map { "s\($0)" }
        func writeSchools(round: Int) throws {
            for name in names {
                try directory.write("schools/\(name).cfg", "# round \(round)\n" + ServeProcessTests.school(
                    name: name, zone: "UTC", boundaries: ["0000", "1200"], probes: ["\(name)-p"], runs: 1, overnight: true))
            }
        }
        try writeSchools(round: 0)
        let a = try start(directory, log: "a.log")
        defer { a.stop() }
        let b = try start(directory, log: "b.log")
        defer { b.stop() }
        func count(_ text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }
        let rounds = 30
        for round in 1...rounds {
            try writeSchools(round: round)
            a.send(SIGHUP)
            b.send(SIGHUP)
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let done = [a, b].allSatisfy { count("configuration reloaded", in: $0.log) + count("reload failed", in: $0.log) >= round }
                if done { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        for (name, governor) in [("a", a), ("b", b)] {
            let log = governor.log
            #expect(count("configuration reloaded", in: log) == rounds, "\(name):\n\(log.suffix(3000))")
            #expect(count("reload failed", in: log) == 0 && !log.contains("deadlock"), "\(name):\n\(log.suffix(3000))")
            #expect(governor.process.isRunning)
        }
        // Both serve the new schools.
        for governor in [a, b] {
            let schools = try await http.get("\(governor.baseURL)/v1/schools?limit=100").json()["schools"] as? [[String: Any]]
            #expect(schools?.count == names.count + 1)
        }
    }

    @Test("a silent probe: one DOWN email across two governors; SMTP down, the governor that tried killed, SMTP back: delivered once",
          .timeLimit(.minutes(3)))
    func oneAlertAcrossGovernors() async throws {
        let server = try TestPostgres.shared()
        let database = TestPostgres.uniqueName("alerts")
        _ = try server.freshDatabase(database)
        let smtp = try TestSMTPServer(startNow: false)
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-postgres-alerts")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", AlertProcessTests.governorFile(smtp: smtp.url)
            .replacing("state = state.sqlite", with: "state = postgres://\(server.user)@127.0.0.1:\(server.port)/\(database)\nsslmode = disable")
            .replacing("grace = 1s", with: "grace = 1s\nmissed_runs = 1"))
        try directory.write("schools/solo.cfg", AlertProcessTests.school("solo", probes: ["s1"], start: 3, windows: 1, zone: zone, offset: offset))
        var governors = [try start(directory, log: "a.log"), try start(directory, log: "b.log")]
        defer { governors.forEach { $0.stop() } }

        var tried: Int?
        for _ in 0..<80 where tried == nil {
            tried = governors.firstIndex { $0.log.contains("alert not delivered") }
            if tried == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        let index = try #require(tried, "no governor tried to send:\n\(governors[0].log)\n\(governors[1].log)")
        // Both show the judged state: the judge's own, and the other's followed change.
        for governor in governors {
            var status: String?
            for _ in 0..<40 where status != "DOWN" {
                status = try await http.get("\(governor.baseURL)/v1/probes/s1").json()["status"] as? String
                if status != "DOWN" { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(status == "DOWN", "\(governor.log)")
        }
        governors[index].stop(signal: SIGKILL)
        let survivor = governors[1 - index]
        governors = [survivor]

        try smtp.start()
        for _ in 0..<80 where smtp.messages().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        // Room for a second message, were one queued or sent twice.
        try await Task.sleep(for: .seconds(7))
        let messages = smtp.messages()
        #expect(messages.count == 1, "\(messages)\n\(survivor.log)")
        #expect(try AlertProcessTests.parsed(try #require(messages.first))["Subject"] == "[governor] DOWN: probe s1 of school solo")
        #expect(try server.psql("SELECT count(*) FROM outbox", database: database) == "1", "one DOWN queued across the governors")
    }

    @Test("an email whose sender is killed in the middle of the send is taken over by the survivor when its presence runs out, not after the claim",
          .timeLimit(.minutes(3)))
    func emailTakenOverFromAKilledSender() async throws {
        let server = try TestPostgres.shared()
        let database = TestPostgres.uniqueName("midsend")
        _ = try server.freshDatabase(database)
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        // An SMTP server that takes the connection and never greets: a send in progress.
        let hanging = try SilentListener()
        defer { hanging.close() }
        let directory = try TemporaryDirectory("governor-postgres-midsend")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        func governorFile(smtp url: String) -> String {
            AlertProcessTests.governorFile(smtp: url)
                .replacing("state = state.sqlite", with: "state = postgres://\(server.user)@127.0.0.1:\(server.port)/\(database)\nsslmode = disable")
                .replacing("grace = 1s", with: "grace = 1s\nmissed_runs = 1")
        }
        try directory.write("governor.cfg", governorFile(smtp: "smtp://127.0.0.1:\(hanging.port)"))
        try directory.write("schools/solo.cfg", AlertProcessTests.school("solo", probes: ["s1"], start: 3, windows: 1, zone: zone, offset: offset))
        let governors = [try start(directory, log: "a.log"), try start(directory, log: "b.log")]
        defer { governors.forEach { $0.stop() } }

        // The DOWN email is claimed by one governor, whose send hangs (libcurl gives up after 20 s).
        var holder: String?
        for _ in 0..<100 where holder == nil {
            let claimedBy = try server.psql("SELECT claimed_by FROM outbox WHERE claimed_by IS NOT NULL", database: database)
            holder = claimedBy.isEmpty ? nil : claimedBy
            if holder == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let claimer = try #require(holder, "no governor claimed the DOWN email:\n\(governors[0].log)\n\(governors[1].log)")
        let pid = claimer.split(separator: "/").dropFirst().first.map(String.init)
        let index = try #require(governors.firstIndex { pid == String($0.pid) }, "\(claimer)")
        governors[index].stop(signal: SIGKILL)
        let survivor = governors[1 - index]
        _ = try directory.write("governor.cfg", governorFile(smtp: smtp.url))
        survivor.send(SIGHUP)

        // The claim runs for 300 s; the killed governor's presence for 10 s.
        for _ in 0..<200 where smtp.messages().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        let messages = smtp.messages()
        #expect(messages.count == 1, "\(survivor.log)")
        #expect(try AlertProcessTests.parsed(try #require(messages.first))["Subject"] == "[governor] DOWN: probe s1 of school solo")
        #expect(try server.psql("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL", database: database) == "1")
    }

    @Test("push runs on two governors: each executed once; kill -9 of the one holding a claim mid-run: interrupted, later runs taken over",
          .timeLimit(.minutes(3)))
    func pushAcrossGovernors() async throws {
        let server = try TestPostgres.shared()
        let database = TestPostgres.uniqueName("push")
        _ = try server.freshDatabase(database)
        let sshd = try TestSSHServer()
        defer { sshd.stop() }
        let directory = try TemporaryDirectory("governor-postgres-push")
        defer { directory.remove() }
        let starts = directory.file("starts")
        let (zone, offset) = ServeProcessTests.daytimeZone()
        // Four windows of 8 s from 3 s on, one run each; every test takes 3 s.
        let boundaries = [3, 11, 19, 27, 35].map { ServeProcessTests.localTime(inSeconds: $0, offset: offset) }
        try directory.write("governor.cfg", PushDispatchTests.governorFile(sshd, starts: starts, command: "echo {run_at} >> \(starts); sleep 3; echo ran {run_at}")
            .replacing("state = state.sqlite", with: "state = postgres://\(server.user)@127.0.0.1:\(server.port)/\(database)\nsslmode = disable"))
        try directory.write("schools/pushy.cfg", PushDispatchTests.pushSchool(sshd, boundaries: boundaries, zone: zone)
            .replacing("test_duration = 1s", with: "test_duration = 4s"))
        let governors = [try start(directory, log: "a.log"), try start(directory, log: "b.log")]
        defer { governors.forEach { $0.stop() } }

        // The first run in flight: kill -9 the governor whose claim it is.
        var holder: String?
        for _ in 0..<120 where holder == nil {
            let claimed = try server.psql("SELECT claimed_by FROM dispatches WHERE state = 'started'", database: database)
            if !claimed.isEmpty && FileManager.default.fileExists(atPath: starts) { holder = claimed }
            if holder == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        let claimedBy = try #require(holder, "no run was claimed:\n\(governors[0].log)\n\(governors[1].log)")
        let pid = try #require(claimedBy.split(separator: "/").dropFirst().first.flatMap { Int32($0) })
        let victim = try #require(governors.first { $0.pid == pid }, "\(claimedBy) is not one of the governors")
        victim.stop(signal: SIGKILL)
        let survivor = try #require(governors.first { $0.pid != pid })

        // Every run of the four windows settled: the one in flight interrupted (by the
        // survivor, once its lease ran out), the others done by the survivor.
        var states: [String] = []
        for _ in 0..<200 {
            states = try server.psql("SELECT state FROM dispatches ORDER BY run_at", database: database).split(separator: "\n").map(String.init)
            if states.count == 4 && !states.contains("started") { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(states == ["interrupted", "done", "done", "done"], "\(states)\n\(survivor.log)")
        let ran = ((try? String(contentsOfFile: starts, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(ran.count == 4 && Set(ran).count == 4, "each run started once, none again: \(ran)")
        #expect(survivor.log.contains("recorded as interrupted"), "\(survivor.log)")
        let results = try await http.get("\(survivor.baseURL)/v1/probes/127.0.0.1:\(sshd.port)/results").json()["results"] as? [[String: Any]]
        #expect(results?.count == 4, "\(String(describing: results))")
    }

    @Test("governor migrate-state moves a served SQLite state into PostgreSQL: the same announced runs and results after the move; twice is once",
          .timeLimit(.minutes(2)))
    func migrateState() async throws {
        let server = try TestPostgres.shared()
        let database = TestPostgres.uniqueName("migrate")
        _ = try server.freshDatabase(database)
        let directory = try TemporaryDirectory("governor-migrate")
        defer { directory.remove() }
        try Self.configure(directory, server: server, database: database)
        let onPostgres = try String(contentsOfFile: directory.file("governor.cfg"), encoding: .utf8)
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")

        let before = try start(directory, log: "sqlite.log")
        let announced = try await http.get("\(before.baseURL)/v1/probes/a1/next", token: "a1-token").json()["run_at_unix"] as? Int
        #expect(try await http.post("\(before.baseURL)/v1/probes/a1/results", token: "a1-token", body: Self.result("before the move", key: "m1")).status == 201)
        #expect(before.stop() == 0)

        let governor = try Executables.built("governor")
        let url = "postgres://\(server.user)@127.0.0.1:\(server.port)/\(database)"
        for round in 0..<2 {
            let copied = try runProcess(governor, ["migrate-state", "--from", directory.file("state.sqlite"), "--to", url, "--sslmode", "disable"])
            #expect(copied.status == 0 && copied.stdout.contains("copied") && copied.stdout.contains("1 result(s)"), "round \(round): \(copied.stdout)\(copied.stderr)")
        }
        #expect(try server.psql("SELECT count(*) FROM results", database: database) == "1", "twice is once")
        let refused = try runProcess(governor, ["migrate-state", "--from", directory.file("state.sqlite"), "--to", "postgres://nobody:pw@127.0.0.1/x"])
        #expect(refused.status == 1 && refused.stderr.contains("password_file"), "\(refused.stderr)")

        try directory.write("governor.cfg", onPostgres)
        let after = try start(directory, log: "postgres.log")
        defer { after.stop() }
        let again = try await http.get("\(after.baseURL)/v1/probes/a1/next", token: "a1-token").json()["run_at_unix"] as? Int
        if let announced, Double(announced) > Date().timeIntervalSince1970 {
            #expect(again == announced, "the announced run survives the move")
        }
        let results = try await http.get("\(after.baseURL)/v1/probes/a1/results").json()["results"] as? [[String: Any]]
        #expect(results?.compactMap { $0["output"] as? String } == ["before the move"])
    }
}
