import Foundation
import GovernorCore
import GovernorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Missed-run alerts end to end: `governor serve` as a process, a real SMTP server
/// (aiosmtpd) on 127.0.0.1, messages checked with Python's `email` package.
@Suite("missed-run alerts by email", .serialized, .timeLimit(.minutes(3)))
struct AlertProcessTests {
    let http = HTTPTestClient()

    static func governorFile(smtp: String) -> String {
        """
        [Governor]
        schools = schools
        state = state.sqlite
        public_url = http://governor.example.org/
        [Alerts]
        smtp = \(smtp)
        from = Governor <governor@example.org>
        to = ops@example.org
        grace = 1s

        """
    }

    /// Windows of 5 s from `start` s on, one run per probe, 1 s tests.
    static func school(_ name: String, probes: [String], start: Int, windows: Int, zone: String, offset: Int) -> String {
        let boundaries = (0...windows).map { ServeProcessTests.localTime(inSeconds: start + 5 * $0, offset: offset) }
        return ServeProcessTests.school(name: name, zone: zone, boundaries: boundaries, probes: probes)
            .replacing("[School]\n", with: "[School]\nalert_to = \(name)-it@example.org\n")
    }

    /// Each message parsed by Python's email package: its headers and body, or a failure.
    static func parsed(_ raw: String) throws -> [String: String] {
        let script = """
            import email, email.policy, json, sys
            m = email.message_from_string(sys.stdin.read(), policy=email.policy.default)
            assert m.defects == [], m.defects
            print(json.dumps({k: str(m[k]) for k in ["Date", "Message-ID", "From", "To", "Subject", "Content-Type"]} | {"body": m.get_content(), "date_ok": str(m["Date"].datetime is not None)}))
            """
        let directory = try TemporaryDirectory("governor-mail")
        defer { directory.remove() }
        let input = try directory.write("message.eml", raw)
        let program = try directory.write("parse.py", "import sys\nsys.stdin = open(sys.argv[1])\n" + script)
        let result = try runProcess(try Executables.python3(), [program, input])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String] else {
            throw TestFailure("Python's email package rejects the message: \(result.stderr)\n\(raw)")
        }
        return object
    }

    @Test("one DOWN email after the third miss and none after the fourth; one recovery; one school-level email for a silent school")
    func downAndRecovery() async throws {
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-alerts")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", Self.governorFile(smtp: smtp.url))
        try directory.write("schools/solo.cfg", Self.school("solo", probes: ["s1"], start: 3, windows: 5, zone: zone, offset: offset))
        try directory.write("schools/pair.cfg", Self.school("pair", probes: ["p1", "p2"], start: 3, windows: 5, zone: zone, offset: offset))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        // The runs of the third window are judged by 3 + 15 + 1 (test) + 1 (grace) s.
        try await Task.sleep(for: .seconds(18))
        for _ in 0..<40 where smtp.messages().count < 2 { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(1))
        var messages = smtp.messages()
        #expect(messages.count == 2, "\(messages)\n\(server.log)")
        let parsed = try messages.map(Self.parsed)
        let solo = try #require(parsed.first { $0["Subject"]?.contains("probe s1 of school solo") == true })
        #expect(solo["Subject"] == "[governor] DOWN: probe s1 of school solo")
        #expect(solo["To"] == "ops@example.org, solo-it@example.org")
        #expect(solo["From"] == "Governor <governor@example.org>")
        #expect(solo["Content-Type"] == "text/plain; charset=\"utf-8\"")
        #expect(solo["date_ok"] == "True")
        #expect(solo["Message-ID"]?.hasPrefix("<") == true)
        let body = solo["body"] ?? ""
        #expect(body.contains("Missed runs:") && body.contains("Last contact: never") && body.contains("Mode:         pull"))
        #expect(body.contains("Dashboard: http://governor.example.org/schools/solo"))
        #expect(body.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains("Z)") }.count == 3, "\(body)")
        let pair = try #require(parsed.first { $0["Subject"]?.contains("school pair") == true })
        #expect(pair["Subject"] == "[governor] DOWN: all 2 probes of school pair")
        #expect(pair["body"]?.contains("Probe:        p1") == true && pair["body"]?.contains("Probe:        p2") == true)

        let status = try await http.get("\(server.baseURL)/v1/probes/s1").json()
        #expect(status["status"] as? String == "DOWN")
        #expect((status["consecutive_missed"] as? Int ?? 0) >= 3)

        // The fourth window's runs pass: nothing more.
        try await Task.sleep(for: .seconds(5))
        #expect(smtp.messages().count == 2)
        // s1 calls again: one recovery email.
        #expect(try await http.get("\(server.baseURL)/v1/probes/s1/next", token: "s1-token").status == 200)
        for _ in 0..<20 where smtp.messages().count < 3 { try await Task.sleep(for: .milliseconds(250)) }
        messages = smtp.messages()
        #expect(messages.count == 3)
        let recovery = try Self.parsed(try #require(messages.first { $0.contains("UP: probe s1") }))
        #expect(recovery["Subject"] == "[governor] UP: probe s1 of school solo is back")
        #expect(recovery["body"]?.contains("Was DOWN:") == true && recovery["body"]?.contains("Runs missed:") == true)
        #expect(try await http.get("\(server.baseURL)/v1/probes/s1").json()["status"] as? String == "UP")
    }

    @Test("an alert queued while SMTP is down survives kill -9 and is delivered once when the server comes")
    func durableOutbox() async throws {
        let smtp = try TestSMTPServer(startNow: false)
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-alerts")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", Self.governorFile(smtp: smtp.url).replacing("grace = 1s", with: "grace = 1s\nmissed_runs = 1"))
        try directory.write("schools/solo.cfg", Self.school("solo", probes: ["s1"], start: 3, windows: 1, zone: zone, offset: offset))
        let first = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        for _ in 0..<60 where !first.log.contains("alert not delivered") {
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(first.log.contains("alert not delivered, retrying in 5 s"), "\(first.log)")
        first.stop(signal: SIGKILL)

        try smtp.start()
        let second = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { second.stop() }
        for _ in 0..<80 where smtp.messages().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(3))
        let messages = smtp.messages()
        #expect(messages.count == 1, "\(messages)\n\(second.log)")
        #expect(try Self.parsed(try #require(messages.first))["Subject"] == "[governor] DOWN: probe s1 of school solo")
    }

    @Test("governor test-alert sends through SMTP, and names the failure when the server is gone")
    func testAlert() throws {
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-alerts")
        defer { directory.remove() }
        try directory.write("governor.cfg", Self.governorFile(smtp: smtp.url))
        let governor = try Executables.built("governor")
        let sent = try runProcess(governor, ["test-alert", "--config", directory.file("governor.cfg")])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(smtp.messages().count == 1)
        #expect(try Self.parsed(smtp.messages()[0])["Subject"]?.hasPrefix("[governor] test alert") == true)
        smtp.stop()
        let failed = try runProcess(governor, ["test-alert", "--config", directory.file("governor.cfg")])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("not sent: smtp://127.0.0.1:\(smtp.port)"), "\(failed.stderr)")
    }

    @Test("a school closed today has no runs and sends no email while its probe is off; the open school beside it does; check and schedule say closed")
    func closedSchool() async throws {
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-closed")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        let today = LocalDate(containing: UnixTime(Date().timeIntervalSince1970), in: TimeZone(identifier: zone)!)
        try directory.write("governor.cfg", Self.governorFile(smtp: smtp.url).replacing("grace = 1s", with: "grace = 1s\nmissed_runs = 1"))
        try directory.write("schools/calendars/district.cfg", "[Closed]\nteacher training = \(today)\n")
        try directory.write("schools/shut.cfg", Self.school("shut", probes: ["s1"], start: 3, windows: 2, zone: zone, offset: offset)
            .replacing("[School]\n", with: "[School]\ncalendar = calendars/district.cfg\n"))
        try directory.write("schools/open.cfg", Self.school("open", probes: ["o1"], start: 3, windows: 2, zone: zone, offset: offset))
        let governor = try Executables.built("governor")
        let check = try runProcess(governor, ["check", "--config", directory.file("governor.cfg")])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("  closed in the next 30 days: \(today) (teacher training)"), "\(check.stdout)")
        let schedule = try runProcess(governor, ["schedule", "--config", directory.file("governor.cfg"), "--school", "shut"])
        #expect(schedule.stdout.contains("\(today) closed: teacher training") && !schedule.stdout.contains("run(s),"), "\(schedule.stdout)")

        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        // Both schools' windows would be over by 3 + 10 s and their runs judged a second later.
        for _ in 0..<80 where smtp.messages().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(3))
        let subjects = try smtp.messages().map { try Self.parsed($0)["Subject"] ?? "" }
        #expect(subjects == ["[governor] DOWN: probe o1 of school open"], "\(server.log)")
        let shut = try await http.get("\(server.baseURL)/v1/probes/s1").json()
        #expect(shut["status"] as? String == "NEVER SEEN" && shut["consecutive_missed"] as? Int == 0, "\(shut)")
        let next = try await http.get("\(server.baseURL)/v1/probes/s1/next", token: "s1-token").json()
        let runAt = try #require(next["run_at_unix"] as? Int, "\(next)")
        #expect(LocalDate(containing: UnixTime(runAt), in: TimeZone(identifier: zone)!) > today, "the first run after the closure")
        let schoolSchedule = try await http.get("\(server.baseURL)/v1/schools/shut/schedule").json()
        #expect((schoolSchedule["closed_days"] as? [[String: String]]) == [["date": today.description, "label": "teacher training"]])
    }

    @Test("the heartbeat URL is called while all is well, switches to URL/fail with the SMTP error when alert email cannot be delivered, and back")
    func heartbeat() async throws {
        let receiver = try TestHTTPReceiver()
        defer { receiver.remove() }
        let smtp = try TestSMTPServer(startNow: false)
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-heartbeat")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", Self.governorFile(smtp: smtp.url) + """
            missed_runs = 1
            heartbeat_url = \(receiver.url)/ping/check-1
            heartbeat_interval = 1s
            heartbeat_fail_after = 3s

            """)
        try directory.write("schools/solo.cfg", Self.school("solo", probes: ["s1"], start: 3, windows: 2, zone: zone, offset: offset))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }

        func waitFor(_ what: String, seconds: Int, _ condition: ([TestHTTPReceiver.Request]) -> Bool) async throws {
            for _ in 0..<(seconds * 4) where !condition(receiver.requests()) { try await Task.sleep(for: .milliseconds(250)) }
            #expect(condition(receiver.requests()), "\(what): \(receiver.requests())\n\(server.log)")
        }
        try await waitFor("a healthy call", seconds: 20) { $0.contains(TestHTTPReceiver.Request(method: "GET", path: "/ping/check-1", body: "")) }
        #expect(!server.log.contains("heartbeat withheld"), "a start is not a stuck loop:\n\(server.log)")
        // s1 misses its run; its DOWN email fails (nothing listens) for 3 s: the governor says so.
        try await waitFor("a failure call", seconds: 60) { $0.contains { $0.method == "POST" && $0.path == "/ping/check-1/fail" } }
        let failure = try #require(receiver.requests().first { $0.path == "/ping/check-1/fail" })
        #expect(failure.body.contains("alert email has not been delivered for") && failure.body.contains("127.0.0.1:\(smtp.port)"), "\(failure.body)")
        // Mail is back: the email goes out, and the heartbeat is healthy again.
        try smtp.start()
        try await waitFor("the DOWN email delivered, then a healthy call", seconds: 90) { requests in
            guard let lastFailure = requests.lastIndex(where: { $0.path.hasSuffix("/fail") }) else { return false }
            return !smtp.messages().isEmpty && requests[(lastFailure + 1)...].contains { $0.method == "GET" && $0.path == "/ping/check-1" }
        }
    }
}

/// The sendmail transport, with a stand-in MTA that keeps what it is given.
@Suite("alerts through sendmail")
struct SendmailAlertTests {
    @Test("test-alert pipes an RFC 5322 message to sendmail -t -oi")
    func sendmail() throws {
        let directory = try TemporaryDirectory("governor-sendmail")
        defer { directory.remove() }
        let captured = directory.file("captured")
        let script = try directory.write("sendmail", "#!/bin/sh\necho \"$@\" > \(captured).args\ncat > \(captured).eml\n")
        chmod(script, 0o755)
        try directory.write("governor.cfg", "[Governor]\nstate = state.sqlite\n[Alerts]\nsendmail = \(script)\nfrom = governor@example.org\nto = ops@example.org\n")
        let result = try runProcess(try Executables.built("governor"), ["test-alert", "--config", directory.file("governor.cfg")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: captured + ".args", encoding: .utf8) == "-t -oi -f governor@example.org\n")
        let message = try AlertProcessTests.parsed(try String(contentsOfFile: captured + ".eml", encoding: .utf8))
        #expect(message["To"] == "ops@example.org")
        #expect(message["Subject"]?.hasPrefix("[governor] test alert") == true)
    }
}

extension AlertProcessTests {
    @Test("a silenced school's probe misses its runs, shown silenced, and no email is sent; when the silence ends, one email says it is still DOWN; the CLI and governor check --silences say a closed school needs no silence")
    func silence() async throws {
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-silence")
        defer { directory.remove() }
        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", Self.governorFile(smtp: smtp.url).replacing("grace = 1s", with: "grace = 1s\nmissed_runs = 1"))
        try directory.write("schools/quiet.cfg", Self.school("quiet", probes: ["q1"], start: 3, windows: 1, zone: zone, offset: offset))
        let today = LocalDate(containing: UnixTime(Date().timeIntervalSince1970), in: TimeZone(identifier: zone)!)
        try directory.write("schools/shut.cfg", Self.school("shut", probes: ["s1"], start: 3, windows: 1, zone: zone, offset: offset)
            .replacing("[School]\n", with: "[School]\nclosed = \(today), \(today.adding(days: 1))\n"))
        let server = try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
        defer { server.stop() }
        let governor = try Executables.built("governor")
        func cli(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(governor, ["silence"] + arguments + ["--config", directory.file("governor.cfg"), "--server", server.baseURL])
        }

        let added = try cli(["add", "--school", "quiet", "--for", "25s", "--reason", "power cut at quiet"])
        #expect(added.status == 0 && added.stdout.hasPrefix("silence 1: school quiet until "), "\(added.stdout)\(added.stderr)")
        let closed = try cli(["add", "--school", "shut", "--for", "1h", "--reason", "holiday"])
        #expect(closed.stdout.contains("note: school shut is closed (calendar) for the whole silence"), "\(closed.stdout)\(closed.stderr)")
        let checked = try runProcess(governor, ["check", "--silences", "--config", directory.file("governor.cfg"), "--server", server.baseURL])
        #expect(checked.status == 0 && checked.stdout.contains("silence 2 (school shut): school shut is closed (calendar) for the whole silence")
                    && checked.stdout.contains("2 silence(s) in force or to come, 1 unnecessary for a closed school"), "\(checked.stdout)\(checked.stderr)")
        #expect(try cli(["remove", "2"]).stdout == "silence 2 removed\n")
        let unknown = try cli(["add", "--school", "nowhere", "--for", "1h", "--reason", "x"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no school is named 'nowhere'"), "\(unknown.stderr)")
        let listed = try cli(["list"])
        #expect(listed.stdout.contains("1  school quiet  until ") && listed.stdout.contains("in force  by ") && listed.stdout.contains(": power cut at quiet"),
                "\(listed.stdout)")
        #expect(listed.stdout.contains("2  school shut  until ") && listed.stdout.contains("removed "))

        // q1 misses its run: DOWN, silenced, no email.
        var row: [String: Any]?
        for _ in 0..<60 {
            row = try await http.get("\(server.baseURL)/v1/probes/q1").json()
            if row?["status"] as? String == "DOWN" { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(row?["status"] as? String == "DOWN" && (row?["silenced"] as? [String: Any])?["reason"] as? String == "power cut at quiet", "\(String(describing: row))")
        #expect(server.log.contains("no alert email: the probe is silenced"), "\(server.log.suffix(2000))")
        try await Task.sleep(for: .seconds(2))
        #expect(smtp.messages().isEmpty, "\(smtp.messages())")

        // The silence ends 25 s after it began: one email, with q1 still DOWN.
        for _ in 0..<120 where smtp.messages().isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(3))
        let messages = smtp.messages()
        #expect(messages.count == 1, "\(messages)\n\(server.log.suffix(2000))")
        let parsed = try Self.parsed(try #require(messages.first))
        #expect(parsed["Subject"] == "[governor] silence ended: 1 probe(s) of school quiet still DOWN", "\(parsed)")
        #expect(parsed["body"]?.contains("probe q1 of school quiet: DOWN since ") == true && parsed["body"]?.contains("(power cut at quiet; by ") == true,
                "\(parsed)")
        #expect(server.stop() == 0)
    }
}
