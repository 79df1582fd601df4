import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// The `governor` executable, run as a process the way an operator runs it.
@Suite("governor check and governor schedule")
struct GovernorCLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let schoolFile = """
        [School]
        name = riverside
        timezone = America/New_York

        [Timing]
        boundaries = 0000 0230 0700 1200 1730
        runs_per_period = 3
        delay = 90s

        [Probes]
        ids = r1 r2
        addresses = 127.0.0.1

        """

    func governor(_ arguments: String...) throws -> ProcessResult {
        try runProcess(Executables.built("governor"), arguments)
    }

    @Test("the shipped governor.cfg is valid")
    func shippedConfiguration() throws {
        let result = try governor("check", "--config", Self.packageRoot + "/governor.cfg")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("demo: UTC, 2 pull + 0 push probe(s), 4 window(s)/day, 32 test(s)/day"))
        #expect(result.stderr.isEmpty)
    }

    @Test("check reports every problem as FILE:LINE and exits 1, still listing the good schools")
    func checkErrors() throws {
        let tree = try TemporaryDirectory()
        defer { tree.remove() }
        let main = try tree.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\ntarget_download_mbps = 20\n")
        try tree.write("schools/good.cfg", Self.schoolFile)
        try tree.write("schools/bad.cfg", "[Timing]\nboundaries = 0800 0730\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = x\n")
        let result = try governor("check", "--config", main)
        #expect(result.status == 1)
        #expect(result.stdout.contains("riverside: America/New_York, 2 pull + 1 push probe(s), 5 window(s)/day, 45 test(s)/day"))
        #expect(result.stderr.contains("\(tree.path)/schools/bad.cfg:2: error: boundary 07:30 comes after 08:00"))
        #expect(result.stdout.contains("riverside: America/New_York, 2 pull + 1 push probe(s), 5 window(s)/day, 45 test(s)/day, tightest window spare")
            && result.stdout.contains(")\n  target: 20 Mbit/s download, from the national benchmark (target_download_mbps = 20)\n"), "\(result.stdout)")

        let json = try governor("check", "--config", main, "--json")
        #expect(json.status == 1)
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        #expect(document["valid"] as? Bool == false)
        let school = (document["schools"] as! [[String: Any]])[0]
        let timing = school["timing"] as! [String: Any]
        #expect(timing["delay_s"] as? Int == 90 && timing["slot_s"] as? Int == 125 && timing["runs_per_period"] as? Int == 3)
        #expect((school["probes"] as! [[String: Any]]).map { $0["mode"] as! String } == ["pull", "pull", "push"])
        let target = school["target"] as? [String: Any]
        #expect(target?["download_mbps"] as? Double == 20 && target?["source"] as? String == "benchmark", "\(school)")
        #expect((document["problems"] as! [[String: Any]]).first?["line"] as? Int == 2)
    }

    /// `governor schedule` showed no window at all on a daylight-saving day whose
    /// boundary fell in the skipped hour, while the server stored the others.
    @Test("a boundary in the skipped hour: check warns of the day ahead, schedule shows the day's other windows")
    func daylightSavingDay() throws {
        let directory = try TemporaryDirectory("governor-cli-dst")
        defer { directory.remove() }
        let config = try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\nseed = 7\n")
        try directory.write("schools/berlin.cfg", "[School]\ntimezone = Europe/Berlin\n[Timing]\nboundaries = 0200, 0300, 0800, 1600\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p1\n")
        let check = try governor("check", "--config", config)
        #expect(check.status == 0, "\(check.stderr)")
        // Berlin springs forward every March: within the year ahead, whatever today is.
        #expect(check.stderr.contains("schools/berlin.cfg: warning: school 'berlin': window 02:00 on ") && check.stderr.contains("it is skipped that day"),
                "\(check.stderr)")
        let schedule = try governor("schedule", "--config", config, "--date", "2027-03-28", "--json")
        #expect(schedule.status == 0, "\(schedule.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(schedule.stdout.utf8)) as? [String: Any]
        let windows = ((document?["schools"] as? [[String: Any]])?.first?["windows"] as? [[String: Any]]) ?? []
        #expect(windows.compactMap { $0["start"] as? String } == ["2027-03-28T01:00:00Z", "2027-03-28T06:00:00Z", "2027-03-28T14:00:00Z"], "\(schedule.stdout)")
    }

    @Test("an unreadable main file is one clear error")
    func missingMainFile() throws {
        let result = try governor("check", "--config", "/nonexistent/governor.cfg")
        #expect(result.status == 1)
        #expect(result.stderr == "/nonexistent/governor.cfg: error: the file does not exist\n")
    }

    @Test("schedule --json obeys every rule, over several days including a DST change, and a seed reproduces it")
    func scheduleJSON() throws {
        let tree = try TemporaryDirectory()
        defer { tree.remove() }
        let main = try tree.write("governor.cfg", "[Governor]\nschools = schools\ntest_duration = 35s\nrequire_tokens = no\n")
        try tree.write("schools/riverside.cfg", Self.schoolFile)
        let arguments = ["schedule", "--config", main, "--date", "2026-03-07", "--days", "3", "--seed", "11", "--json"]
        let result = try runProcess(Executables.built("governor"), arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try runProcess(Executables.built("governor"), arguments).stdout == result.stdout)

        let document = try JSONDecoder().decode(ScheduleDocument.self, from: Data(result.stdout.utf8))
        #expect(document.schools.count == 1)
        let school = try #require(document.schools.first)
        #expect(school.school == "riverside" && school.timezone == "America/New_York")
        #expect(school.testDurationSeconds == 35 && school.delaySeconds == 90)
        #expect(school.windows.count == 15)

        let zone = TimeZone(identifier: "America/New_York")!
        let dates = ["2026-03-07", "2026-03-08", "2026-03-09"].map { LocalDate(parsing: $0)! }
        var previousEnd: UnixTime = .min
        var previousRun: UnixTime = 0
        for (index, window) in school.windows.enumerated() {
            let start = try #require(RFC3339.parse(window.start)), end = try #require(RFC3339.parse(window.end))
            // Windows in time order, each starting on its requested local date.
            #expect(start >= previousEnd && end > start)
            #expect(LocalDate(containing: start, in: zone) == dates[index / 5])
            previousEnd = end
            let runs = try window.runs.map { try #require(RFC3339.parse($0.runAt)) }
            for (probe, run) in zip(window.runs.map(\.probe), runs) {
                // Inside the window, and never within 125 s (35 s test + 90 s delay) of the school's previous test.
                #expect(run >= start && run + 125 <= end, "\(probe) at \(run) outside \(window.start)–\(window.end)")
                #expect(run - previousRun >= 125)
                previousRun = run
            }
            for probe in ["r1", "r2", "127.0.0.1"] {
                #expect(window.runs.filter { $0.probe == probe }.count == 3)
            }
            for round in 0..<3 {
                #expect(Set(window.runs[(round * 3)..<(round * 3 + 3)].map(\.probe)) == ["r1", "r2", "127.0.0.1"])
            }
        }
        // The 02:30 boundary does not exist on 2026-03-08 and moves to 03:00 EDT (07:00Z).
        #expect(school.windows[6].start == "2026-03-08T07:00:00Z")

        // The library gives the same schedule: the server will serve what this prints.
        let configuration = try ConfigLoader.load(governorFile: main)
        let expected = try dates.flatMap { try ScheduleGenerator.schedule(of: configuration.schools[0], on: $0, seed: 11) }
        #expect(ScheduleDocument.School(configuration.schools[0], windows: expected) == school)
    }

    @Test("schedule prints a readable table per window; unknown schools and bad dates are clear errors")
    func scheduleText() throws {
        let result = try governor("schedule", "--config", Self.packageRoot + "/governor.cfg", "--date", "2026-11-23", "--seed", "1")
        #expect(result.status == 0)
        #expect(result.stdout.contains("School demo (UTC): 2 probe(s), 4 run(s) per window, test 35s, delay 2m"))
        #expect(result.stdout.contains("2026-11-23 18:00:00–00:00:00 (2026-11-23T18:00:00Z to 2026-11-24T00:00:00Z), 8 run(s), 5h39m20s spare"))
        #expect(result.stdout.components(separatedBy: "demo-probe-1").count - 1 == 16)

        let unknown = try governor("schedule", "--config", Self.packageRoot + "/governor.cfg", "--school", "nowhere")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no school is named 'nowhere' (loaded: demo)"))
        let badDate = try governor("schedule", "--config", Self.packageRoot + "/governor.cfg", "--date", "23.11.2026")
        #expect(badDate.status != 0)
        #expect(badDate.stderr.contains("--date '23.11.2026' is not a date; expected YYYY-MM-DD"))
    }
}

@Suite("governor token")
struct TokenCommandTests {
    @Test("schedule --json with max_concurrent_tests: 1,000 school files drawn together never exceed the cap; check refuses a cap they cannot meet")
    func fleetCap() throws {
        let directory = try TemporaryDirectory("governor-cap")
        defer { directory.remove() }
        for index in 0..<1000 {
            try directory.write(String(format: "schools/s%04d.cfg", index), """
                [School]
                timezone = UTC
                [Timing]
                boundaries = 0800 1200 1600
                runs_per_period = 2
                delay = 1m
                test_duration = 35s
                overnight = no
                [Probes]
                ids = s\(index)-a s\(index)-b
                """)
        }
        func config(_ cap: Int) throws -> String {
            try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\nmax_concurrent_tests = \(cap)\n")
        }
        // 140,000 test-seconds in each 4-hour window: 9.7 at once on average.
        let result = try runProcess(try Executables.built("governor"), ["schedule", "--json", "--config", try config(12), "--date", "2026-12-07", "--seed", "5"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try JSONDecoder().decode(ScheduleDocument.self, from: Data(result.stdout.utf8))
        #expect(document.schools.count == 1000)
        var load = FleetLoad()
        var runs = 0
        for school in document.schools {
            for window in school.windows {
                for run in window.runs {
                    load.add(runAt: try #require(RFC3339.parse(run.runAt)), duration: school.testDurationSeconds)
                    runs += 1
                }
            }
        }
        #expect(runs == 1000 * 2 * 4, "every test placed")
        #expect(load.dailyPeaks().map(\.peak).max() ?? 0 <= 12, "\(load.dailyPeaks())")

        let check = try runProcess(try Executables.built("governor"), ["check", "--config", try config(5)])
        #expect(check.status == 1)
        #expect(check.stderr.contains("governor.cfg:4: error: max_concurrent_tests = 5 cannot be met") && check.stderr.contains("at least 10"), "\(check.stderr)")
    }

    @Test("governor and governor-probe print the one release version")
    func versions() throws {
        for executable in ["governor", "governor-probe"] {
            let result = try runProcess(try Executables.built(executable), ["--version"])
            #expect(result.status == 0 && result.stdout == GovernorVersion.current + "\n", "\(executable): \(result.stdout)\(result.stderr)")
        }
    }

    @Test("governor-probe check: the package's unconfigured probe.cfg fails with the file, line and setting; a complete one passes; run exits 78 on it")
    func probeCheck() throws {
        let directory = try TemporaryDirectory("governor-probe-check")
        defer { directory.remove() }
        let probe = try Executables.built("governor-probe")
        let shipped = try String(contentsOfFile: SystemdUnitTests.packageRoot + "/packaging/governor-probe/probe.cfg", encoding: .utf8)
        let unconfigured = try directory.write("probe.cfg", shipped)
        let check = try runProcess(probe, ["check", "--config", unconfigured])
        #expect(check.status == 1)
        #expect(check.stderr.contains("\(unconfigured): 'id' is missing"), "\(check.stderr)")
        // Under systemd the line carries the error priority journald reads.
        let journal = try runProcess(probe, ["check", "--config", unconfigured],
                                     environment: ProcessInfo.processInfo.environment.merging(["JOURNAL_STREAM": "8:1"]) { $1 })
        #expect(journal.stderr.hasPrefix("<3>\(unconfigured): 'id' is missing"), "\(journal.stderr)")
        let run = try runProcess(probe, ["run", "--config", unconfigured])
        #expect(run.status == 78, "EX_CONFIG, which the unit's RestartPreventExitStatus= names: \(run.status) \(run.stderr)")

        let broken = try directory.write("broken.cfg", "[Probe]\nid = p1\nserver = http://127.0.0.1:9\ncommand = true\ntimeout = soon\n")
        let invalid = try runProcess(probe, ["check", "--config", broken])
        #expect(invalid.status == 1 && invalid.stderr.contains("\(broken):5: 'timeout' is 'soon'"), "\(invalid.stderr)")

        let configured = try directory.write("configured.cfg", shipped
            .replacingOccurrences(of: "# id = riverside-1", with: "id = riverside-1")
            .replacingOccurrences(of: "# server = http://governor.example.org:8080", with: "server = http://governor.example.org:8080")
            + "token = abc\n")
        let ok = try runProcess(probe, ["check", "--config", configured])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("probe riverside-1: server http://governor.example.org:8080"), "\(ok.stdout)")
        // Without --config, GOVERNOR_PROBE_CONFIG names the file; --config wins over it.
        let environment = ProcessInfo.processInfo.environment.merging(["GOVERNOR_PROBE_CONFIG": configured]) { $1 }
        let byEnvironment = try runProcess(probe, ["check"], environment: environment)
        #expect(byEnvironment.status == 0 && byEnvironment.stdout.contains("probe riverside-1:"), "\(byEnvironment.stderr)")
        let flagWins = try runProcess(probe, ["check", "--config", broken], environment: environment)
        #expect(flagWins.status == 1 && flagWins.stderr.contains("\(broken):5:"), "\(flagWins.stderr)")
    }

    @Test("prints a 256-bit token and the token_sha256 line that matches it")
    func token() throws {
        let result = try runProcess(Executables.built("governor"), ["token", "school-7"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let token = try #require(lines.first?.replacingOccurrences(of: "token: ", with: ""))
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        #expect(lines.contains("[Probe school-7]"))
        let hashLine = try #require(lines.first { $0.hasPrefix("token_sha256 = ") })
        let sha = try runProcess(Executables.python3(), ["-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", token])
        #expect(hashLine == "token_sha256 = " + sha.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try runProcess(Executables.built("governor"), ["token", "school-7"]).stdout != result.stdout)
        #expect(try runProcess(Executables.built("governor"), ["token", "admin"]).stdout.contains("admin_token_sha256 = "))
        #expect(try runProcess(Executables.built("governor"), ["token", "bad id"]).status != 0)
    }
}
