import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

@Suite("Configuration loading")
struct ConfigLoaderTests {
    static let timing = """
        [Timing]
        boundaries = 0800, 1200, 1600
        runs_per_period = 2
        delay = 2

        """

    /// Writes `governor.cfg` (pointing at `schools/`) and the given school files.
    func tree(_ schools: [String: String], governor: String = "[Governor]\nschools = schools\ntimezone = Europe/Berlin\nrequire_tokens = no\n") throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let main = try directory.write("governor.cfg", governor)
        try FileManager.default.createDirectory(atPath: directory.path + "/schools", withIntermediateDirectories: true)
        for (name, text) in schools { try directory.write("schools/\(name)", text) }
        return (directory, main)
    }

    @Test("the original Python governor's file loads unchanged as one school")
    func originalFile() throws {
        let configuration = try ConfigLoader.load(governorFile: Fixtures.path("original-governor.cfg"))
        // It loads and schedules; the one remark is that its push probe needs [SSH] to be dispatched.
        #expect(configuration.problems.map(\.severity) == [.warning], "\(configuration.problems)")
        #expect(configuration.problems.first?.line == 16)
        #expect(configuration.problems.first?.message.contains("push probe '165.117.251.182' has no SSH user: set 'user' in [SSH]") == true)
        let school = try #require(configuration.schools.first)
        #expect(configuration.schools.count == 1)
        #expect(school.name == "original-governor")
        #expect(school.timing.boundaries.map(\.description) == ["02:00", "05:30", "07:00", "08:00", "19:00", "20:00"])
        #expect(school.timing.runsPerPeriod == 4)
        #expect(school.timing.delaySeconds == 120)
        #expect(school.timing.testDurationSeconds == 35)
        #expect(school.timing.overnight)
        #expect(school.timing.nominalWindows.count == 6)
        #expect(school.probes == [ProbeConfig(name: "165.117.251.182", mode: .push, address: ProbeAddress(host: "165.117.251.182"), line: 16)])
    }

    @Test("schools load from the directory in name order, with defaults from [Governor]")
    func schoolsDirectory() throws {
        let (directory, main) = try tree([
            "b.cfg": Self.timing + "[Probes]\nids = b1 b2\n",
            "a.cfg": "[School]\nname = Alpha School\ntimezone = America/New_York\nalert_to = ops@example.org, it@example.org\n"
                + Self.timing + "test_duration = 1m\novernight = no\n[Probes]\nids = a1\naddresses = pi@10.1.2.3:2222, [2001:db8::7]:22, probe.example.net\n"
                + "[Probe a1]\nlabel = Library\ntoken_sha256 = \(String(repeating: "AB", count: 32))\n",
            "notes.txt": "ignored",
        ])
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        // Only the remark that the push probes cannot be dispatched without [SSH].
        #expect(configuration.problems.allSatisfy { !$0.isError && $0.message.hasPrefix("push probe '") }, "\(configuration.problems)")
        #expect(configuration.problems.count == 3)
        #expect(configuration.schools.map(\.name) == ["Alpha School", "b"])
        let alpha = configuration.schools[0]
        #expect(alpha.timeZoneName == "America/New_York")
        #expect(alpha.alertTo == ["ops@example.org", "it@example.org"])
        #expect(alpha.timing.testDurationSeconds == 60)
        #expect(alpha.timing.nominalWindows.count == 2)
        #expect(alpha.probes.map(\.mode) == [.pull, .push, .push, .push])
        #expect(alpha.probes[0].label == "Library")
        #expect(alpha.probes[0].tokenSHA256 == String(repeating: "ab", count: 32))
        #expect(alpha.probes[1].address == ProbeAddress(user: "pi", host: "10.1.2.3", port: 2222))
        #expect(alpha.probes[2].address == ProbeAddress(host: "2001:db8::7", port: 22))
        #expect(configuration.schools[1].timeZoneName == "Europe/Berlin")
        #expect(configuration.schools[1].timing.overnight)
    }

    @Test("school errors name the file and line", arguments: [
        ("[Timing]\nboundaries = 0800 2500\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n", 2, "boundary '2500' is not a time of day"),
        ("[Timing]\nboundaries = 0800\n  0700\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n", 3, "increasing order"),
        ("[Timing]\nboundaries = 08:00, 0800\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n", 2, "appears twice"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 0\ndelay = 1\n[Probes]\nids = p\n", 3, "expected a whole number from 1 to 1000"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = -2\ndelay = 1\n[Probes]\nids = p\n", 3, "expected a whole number from 1 to 1000"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = soon\n[Probes]\nids = p\n", 4, "whole number of minutes"),
        ("[School]\ntimezone = Mars/Olympus\n[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n", 2, "not a known time zone"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\n", 5, "lists no probe"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = bad/id\n", 6, "probe id 'bad/id' is not valid"),
        // Ids become URL path segments, file names and mail subjects: '.', '..' and '-' are refused.
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = ..\n", 6, "probe id '..' is not valid"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n  .\n", 7, "probe id '.' is not valid"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = -\n", 6, "probe id '-' is not valid"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = -rf\n", 6, "start with a letter or digit"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\naddresses = 300.1.1.1\n", 6, "probe address '300.1.1.1' is not valid"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n  p\n", 7, "listed twice"),
        ("[Timing]\nboundaries = 0800 0830\nruns_per_period = 4\ndelay = 10\n[Probes]\nids = p q\n", 2, "window 08:00–08:30 is too short"),
        ("[Timing]\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n", 1, "missing 'boundaries'"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p\n[Probe p]\ntoken_sha256 = 1234\n", 8, "64 hexadecimal digits"),
        ("[Timing]\nboundaries = 0800 0900\nruns_per_period = 1\n delay = 1\n[Probes]\nids = p\n", 3, "continues on line 4 because that line is indented"),
    ])
    func schoolErrors(text: String, line: Int, fragment: String) throws {
        let (directory, main) = try tree(["bad.cfg": text, "good.cfg": Self.timing + "[Probes]\nids = g1\n"])
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        // The good school still loads: one bad file does not stop the others.
        #expect(configuration.schools.map(\.name) == ["good"])
        let firstError = configuration.problems.first { $0.isError }
        let error = try #require(firstError, "no error for:\n\(text)")
        #expect(error.file.hasSuffix("schools/bad.cfg"))
        #expect(error.line == line, "\(error)")
        #expect(error.message.contains(fragment), "\(error)")
        #expect(!configuration.isValid)
    }

    @Test("a configuration file over the size limit is an error naming the file and the limit; the other schools load")
    func oversizedFile() throws {
        let filler = "# " + String(repeating: "x", count: 1022) + "\n"
        let big = Self.timing + "[Probes]\nids = b1\n" + String(repeating: filler, count: (INIParser.maxFileBytes >> 10) + 1)
        let (directory, main) = try tree(["big.cfg": big, "good.cfg": Self.timing + "[Probes]\nids = g1\n"])
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.schools.map(\.name) == ["good"])
        let error = try #require(configuration.problems.first { $0.isError })
        #expect(error.file.hasSuffix("schools/big.cfg") && error.message.contains("larger than 16 MiB"), "\(error)")
    }

    /// Values found by fuzzing that used to stop `check` and `serve` with SIGILL
    /// (arithmetic overflow), or passed `check` and crashed the server later.
    @Test("numbers out of range are errors naming the key, its range, the file and the line", arguments: [
        ("[Governor]\nschools = schools\ntest_duration = 2562047788015215h59m\n", "", 3, "'test_duration' is '2562047788015215h59m'", "from 1s to 1h"),
        ("[Governor]\nschools = schools\nmax_output = 2000000000000000000\n", "", 3, "'max_output' is '2000000000000000000'", "from 1 byte to 64MiB"),
        ("[Governor]\nschools = schools\n[Alerts]\ngrace = 9223372036854775807\n", "", 4, "'grace' is '9223372036854775807'", "from 0s to 24h"),
        ("[Governor]\nschools = schools\n[Alerts]\nmissed_runs = 0\n", "", 4, "'missed_runs' is '0'", "from 1 to 1000"),
        ("[Governor]\nschools = schools\n[Alerts]\nrepeat = 5s\n", "", 4, "'repeat' is '5s'", "from 1m to 720h"),
        ("[Governor]\nschools = schools\n[Alerts]\nheartbeat_url = http://hc.example.org/x\nheartbeat_interval = 2h\n", "", 5, "'heartbeat_interval' is '2h'", "from 1s to 1h"),
        ("[Governor]\nschools = schools\n[Alerts]\nheartbeat_url = http://hc.example.org/x\nheartbeat_fail_after = 0s\n", "", 5, "'heartbeat_fail_after' is '0s'", "from 1s to 168h"),
        ("[Governor]\nschools = schools\n[SSH]\nconnect_timeout = 9223372036854775807\n", "", 4, "'connect_timeout' is '9223372036854775807'", "from 1s to 10m"),
        ("[Governor]\nschools = schools\n[SSH]\ntimeout = 0\n", "", 4, "'timeout' is '0'", "from 1s to 24h"),
        ("", "[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 9223372036854775807s\n[Probes]\nids = p q\n", 4, "'delay' is '9223372036854775807s'", "from 0s to 24h"),
        ("", "[Timing]\nboundaries = 0800 1200\nruns_per_period = 4611686018427387904\ndelay = 1\n[Probes]\nids = p q\n", 3, "'runs_per_period' is '4611686018427387904'", "from 1 to 1000"),
        ("", "[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 1\ntest_duration = 2h\n[Probes]\nids = p\n", 5, "'test_duration' is '2h'", "from 1s to 1h"),
        ("", "[Timing]\nboundaries = 0800 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\naddresses = 10.0.0.5\n[Probe 10.0.0.5]\nconnect_timeout = 9223372036854775807\n",
         8, "'connect_timeout' of probe '10.0.0.5' is '9223372036854775807'", "from 1s to 10m"),
    ])
    func outOfRange(governor: String, school: String, line: Int, fragment: String, range: String) throws {
        let (directory, main) = try tree(school.isEmpty ? [:] : ["s.cfg": school],
                                         governor: governor.isEmpty ? "[Governor]\nschools = schools\nrequire_tokens = no\n" : governor + "\n")
        defer { directory.remove() }
        let problems = loadProblems(main)
        let error = try #require(problems.first { $0.isError && $0.message.contains(fragment) }, "\(problems)")
        #expect(error.line == line && error.message.contains(range), "\(error)")
        #expect(error.file.hasSuffix(school.isEmpty ? "governor.cfg" : "schools/s.cfg"))
    }

    @Test("heartbeat_url: http or https, with interval and fail_after; anything else is an error naming the line")
    func heartbeatSettings() throws {
        let (directory, main) = try tree([:], governor: """
            [Governor]
            schools = schools
            [Alerts]
            heartbeat_url = https://hc-ping.com/0f4e6c1a
            heartbeat_interval = 30s
            heartbeat_fail_after = 1h
            """)
        defer { directory.remove() }
        let settings = try ConfigLoader.load(governorFile: main).governor.alertSettings
        #expect(settings.heartbeatURL == "https://hc-ping.com/0f4e6c1a")
        #expect(settings.heartbeatIntervalSeconds == 30 && settings.heartbeatFailAfterSeconds == 3600)
        #expect(AlertSettings().heartbeatIntervalSeconds == 60 && AlertSettings().heartbeatFailAfterSeconds == 900, "once a minute; 15 minutes")

        for (value, line) in [("ftp://hc.example.org/x", 4), ("hc-ping.com/uuid", 4)] {
            let (bad, badMain) = try tree([:], governor: "[Governor]\nschools = schools\n[Alerts]\nheartbeat_url = \(value)\n")
            defer { bad.remove() }
            let problems = loadProblems(badMain)
            let error = try #require(problems.first { $0.isError }, "\(value): \(problems)")
            #expect(error.line == line && error.message.contains("'heartbeat_url' is '\(value)'"), "\(error)")
        }
        let (lone, loneMain) = try tree([:], governor: "[Governor]\nschools = schools\n[Alerts]\nheartbeat_interval = 5m\n")
        defer { lone.remove() }
        let warning = try #require(try ConfigLoader.load(governorFile: loneMain).problems.first)
        #expect(!warning.isError && warning.line == 4 && warning.message.contains("no effect without 'heartbeat_url'"), "\(warning)")
    }

    @Test("state = postgres://USER@HOST:PORT/DB selects PostgreSQL, with password_file, sslmode and ssl_ca_file beside it")
    func postgresState() throws {
        let (directory, main) = try tree([:], governor: """
            [Governor]
            schools = schools
            state = postgres://governor@db.example.net:6432/fleet
            password_file = secrets/pg-password
            sslmode = verify-full
            ssl_ca_file = /etc/ssl/fleet-ca.pem
            """)
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(!configuration.problems.contains { $0.isError }, "\(configuration.problems)")
        let location = try #require(configuration.governor.postgres)
        #expect(location.host == "db.example.net" && location.port == 6432 && location.user == "governor" && location.database == "fleet")
        #expect(location.passwordFile == directory.path + "/secrets/pg-password" && location.sslMode == .verifyFull)
        #expect(location.caFile == "/etc/ssl/fleet-ca.pem")
        #expect(configuration.governor.stateDescription == "postgres://governor@db.example.net:6432/fleet")
        // A path keeps SQLite, as before.
        let (other, plain) = try tree([:], governor: "[Governor]\nstate = state.sqlite\n")
        defer { other.remove() }
        let sqlite = try ConfigLoader.load(governorFile: plain)
        #expect(sqlite.governor.postgres == nil && sqlite.governor.statePath == other.path + "/state.sqlite")
    }

    @Test("a bad PostgreSQL state is an error naming the file, the line and what to write", arguments: [
        ("state = postgres://governor:secret@db/fleet", "password_file"),
        ("state = postgres://db.example.net/fleet", "names no user"),
        ("state = postgres://governor@db.example.net", "names no database"),
        ("state = postgres://governor@db.example.net/fleet?sslmode=require", "set 'sslmode'"),
        ("state = postgres://governor@db/fleet\nsslmode = sometimes", "expected one of disable, prefer, require, verify-full"),
        ("state = postgres://governor@db/fleet\nssl_ca_file = ca.pem", "verify-full only"),
        ("state = state.sqlite\npassword_file = pw", "applies to a PostgreSQL state only"),
    ])
    func badPostgresState(_ lines: String, _ fragment: String) throws {
        let (directory, main) = try tree([:], governor: "[Governor]\n" + lines + "\n")
        defer { directory.remove() }
        // Errors in governor.cfg stop the load: the governor cannot start without its state.
        let error = try #require(throws: ConfigurationError.self) { try ConfigLoader.load(governorFile: main) }
        let text = error.description
        #expect(text.contains(fragment) && text.contains("governor.cfg:"), "\(text)")
        #expect(!text.contains("secret"), "a password is never repeated in a message")
    }

    @Test("the infeasible-window error gives the numbers: needed against available")
    func infeasibleNumbers() throws {
        let (directory, main) = try tree(["tight.cfg": "[Timing]\nboundaries = 0800 0830\nruns_per_period = 4\ndelay = 10\n[Probes]\nids = p q\n"])
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        let error = try #require(configuration.problems.first)
        // 2 probes × 4 runs × (35 s + 600 s) = 5080 s against 1800 s.
        #expect(error.message.contains("need 5080 s"))
        #expect(error.message.contains("has 1800 s"))
        #expect(error.message.contains("school 'tight'"))
    }

    @Test("a probe configured in two schools is refused in the later one, naming both files")
    func duplicateProbeAcrossFiles() throws {
        let (directory, main) = try tree([
            "a.cfg": Self.timing + "[Probes]\nids = shared\naddresses = 10.0.0.1\n",
            "b.cfg": Self.timing + "[Probes]\nids = own\n  shared\n",
            "c.cfg": Self.timing + "[Probes]\naddresses = admin@10.0.0.1\n",
        ])
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.schools.map(\.name) == ["a"])
        let errors = configuration.problems.filter(\.isError)
        #expect(errors.count == 2)
        #expect(errors[0].file.hasSuffix("schools/b.cfg") && errors[0].line == 7)
        #expect(errors[0].message.contains("schools/a.cfg:6"))
        #expect(errors[1].file.hasSuffix("schools/c.cfg"))
        #expect(errors[1].message.contains("schools/a.cfg:7"))
    }

    @Test("result_format: the governor's for every school, a school's own overrides it; a value it does not know is an error with file and line")
    func resultFormat() throws {
        let (directory, main) = try tree([
            "a.cfg": Self.timing + "[Probes]\nids = pa\n",
            "b.cfg": "[School]\nresult_format = IPERF3\n" + Self.timing + "[Probes]\nids = pb\n",
            "c.cfg": "[School]\nresult_format = speedtest\n" + Self.timing + "[Probes]\nids = pc\n",
        ], governor: "[Governor]\nschools = schools\nrequire_tokens = no\nresult_format = ndt7\n")
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.governor.resultFormat == .ndt7)
        #expect(configuration.schools.map(\.name) == ["a", "b"])
        #expect(configuration.schools.map(\.resultFormat) == [.ndt7, .iperf3])
        let errors = configuration.problems.filter(\.isError).map(\.description)
        #expect(errors.count == 1 && errors[0].hasSuffix("schools/c.cfg:2: error: 'result_format' is 'speedtest'; expected one of auto, ndt7, iperf3, json, none"), "\(errors)")
    }

    @Test("unknown sections and keys are warnings with file and line, never silence")
    func warnings() throws {
        let (directory, main) = try tree(
            ["w.cfg": Self.timing + "colour = blue\n[Probes]\nids = p\n[timing]\nx = 1\n[Probe nobody]\nlabel = x\n"],
            governor: "[Governor]\nschools = schools\nlisten = 0.0.0.0:9000\nfrobnicate = yes\nrequire_tokens = no\n[Extra]\n")
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.isValid)
        #expect(configuration.schools.count == 1)
        let warnings = configuration.problems.map(\.description)
        #expect(warnings.contains { $0.hasSuffix("governor.cfg:4: warning: unknown key 'frobnicate' in [Governor] is ignored (known keys: schools, listen, state, timezone, test_duration, seed, require_tokens, admin_token_sha256, results_log, public_url, max_output, request_timeout, max_connections_per_client, max_connections, password_file, sslmode, ssl_ca_file, lease_horizon, max_concurrent_tests, result_format, target_download_mbps, mbps_per_student, poor_below_mbps, measurement_window, daily_tests_per_egress, trusted_proxies, labels)") })
        #expect(warnings.contains { $0.contains("governor.cfg:6: warning: unknown section [Extra]") })
        #expect(warnings.contains { $0.contains("governor.cfg:3: warning: 'listen' is 0.0.0.0:9000, reachable from other machines, and no 'admin_token_sha256' is set") })
        #expect(warnings.contains { $0.contains("w.cfg:5: warning: unknown key 'colour'") })
        #expect(warnings.contains { $0.contains("w.cfg:8: warning: unknown section [timing] is ignored; section names are case-sensitive: did you mean [Timing]?") })
        #expect(warnings.contains { $0.contains("w.cfg:10: warning: section [Probe nobody] names no probe") })
        #expect(configuration.governor.listen == ListenAddress(host: "0.0.0.0", port: 9000))
    }

    @Test("[Governor] values resolve against the file's directory, and bad ones stop the load")
    func governorSection() throws {
        let (directory, main) = try tree([:], governor: "[Governor]\nschools = schools\nstate = state/gov.sqlite\ntest_duration = 1m30s\nseed = 42\nmax_output = 64KiB\n")
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.governor.statePath == directory.path + "/state/gov.sqlite")
        #expect(configuration.governor.testDurationSeconds == 90)
        #expect(configuration.governor.seed == 42)
        #expect(configuration.governor.maxOutputBytes == 65_536)
        #expect(configuration.problems.map(\.severity) == [.warning])  // no school configured

        for (line, expected) in [("listen = nowhere", "expected ADDRESS:PORT"), ("seed = -1", "'seed' is '-1'"), ("timezone = Nowhere/City", "not a known time zone")] {
            let (bad, badMain) = try tree([:], governor: "[Governor]\n\(line)\n")
            defer { bad.remove() }
            #expect {
                try ConfigLoader.load(governorFile: badMain)
            } throws: { error in
                let problems = (error as! ConfigurationError).problems
                return problems.first?.line == 2 && problems.first?.message.contains(expected) == true
            }
        }
        let missing = try TemporaryDirectory()
        defer { missing.remove() }
        #expect(throws: ConfigurationError.self) { try ConfigLoader.load(governorFile: missing.path + "/none.cfg") }
    }

    @Test("a pull probe needs a token unless require_tokens = no; the plain token or its SHA-256 both count")
    func tokens() throws {
        let school = Self.timing + "[Probes]\nids = with-hash with-token without\n[Probe with-hash]\ntoken_sha256 = \(String(repeating: "0f", count: 32))\n[Probe with-token]\ntoken = s3cret\n"
        let (directory, main) = try tree(["t.cfg": school], governor: "[Governor]\nschools = schools\n")
        defer { directory.remove() }
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.schools.isEmpty)
        let errors = configuration.problems.filter(\.isError)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 6)
        #expect(errors.first?.message.contains("pull probe 'without' has no token: add a [Probe without] section with the token_sha256 line that 'governor token without' prints") == true)

        let (relaxed, relaxedMain) = try tree(["t.cfg": school], governor: "[Governor]\nschools = schools\nrequire_tokens = no\n")
        defer { relaxed.remove() }
        #expect(try ConfigLoader.load(governorFile: relaxedMain).schools.first?.probes.map(\.token) == [nil, "s3cret", nil])
    }

    @Test("a missing schools directory is an error on the 'schools' line")
    func missingSchoolsDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("governor.cfg", "[Governor]\n\nschools = nowhere\n")
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.problems.first?.line == 3)
        #expect(configuration.problems.first?.message.contains("does not exist") == true)
    }

    @Test("durations", arguments: [
        ("35", DurationValue.BareUnit.seconds, 35), ("02", .minutes, 120), ("90s", .seconds, 90), ("2m", .seconds, 120),
        ("1h", .minutes, 3600), ("1h30m", .seconds, 5400), ("0", .minutes, 0), ("7d", .seconds, 604_800), ("1d12h", .seconds, 129_600),
    ])
    func durations(text: String, unit: DurationValue.BareUnit, seconds: Int) {
        #expect(DurationValue.seconds(text, bareUnit: unit) == seconds)
    }

    @Test("not durations", arguments: ["", "m", "1.5m", "-3", "30m1h", "1m1m", "5 x", "99999999999999999999",
                                        "2562047788015215h59m", "106751991167300d16h", "153722867280912930m8s"])
    func notDurations(text: String) {
        #expect(DurationValue.seconds(text) == nil)
    }

    @Test("times of day", arguments: [("0530", 19_800), ("17:45", 63_900), ("7:05", 25_500), ("23:59:59", 86_399), ("0000", 0)])
    func timesOfDay(text: String, seconds: Int) {
        #expect(TimeOfDay(parsing: text)?.secondsSinceMidnight == seconds)
    }

    @Test("not times of day", arguments: ["2400", "530", "12:60", "12:00:60", "ab:cd", "12:5", "", "12::00"])
    func notTimesOfDay(text: String) {
        #expect(TimeOfDay(parsing: text) == nil)
    }

    @Test("probe addresses", arguments: [
        ("165.117.251.182", nil, "165.117.251.182", nil), ("pi@10.0.0.5:2222", "pi", "10.0.0.5", 2222),
        ("::1", nil, "::1", nil), ("[fe80::1]:22", nil, "fe80::1", 22), ("root@probe-7.school.example", "root", "probe-7.school.example", nil),
    ] as [(String, String?, String, Int?)])
    func addresses(text: String, user: String?, host: String, port: Int?) {
        #expect(ProbeAddress(parsing: text) == ProbeAddress(user: user, host: host, port: port))
    }

    @Test("not probe addresses", arguments: ["1.2.3", "1.2.3.4:0", "1.2.3.4:70000", "@host", "[::1", "host_name", "-bad.example", "01.2.3.4", "[1.2.3.4]:22"])
    func notAddresses(text: String) {
        #expect(ProbeAddress(parsing: text) == nil)
    }
}

/// `[SSH]` defaults, `[Probe ADDRESS]` overrides and the address's own user and port.
@Suite("Push probe settings")
struct PushTargetTests {
    @Test("the address wins over [Probe], which wins over [SSH]; paths resolve against their file")
    func precedence() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("governor.cfg", """
            [Governor]
            schools = schools
            state = state/governor.sqlite
            [SSH]
            user = probe
            port = 2200
            identity = keys/id_ed25519
            command = web100clt -n ndt.example.net --disablesfw --disablemid # {probe} {school} {run_at}
            timeout = 2m
            max_lateness = 30s
            """)
        try directory.write("schools/s.cfg", """
            [Timing]
            boundaries = 0600 1800
            runs_per_period = 1
            delay = 1m
            [Probes]
            addresses = admin@10.0.0.1:2222, 10.0.0.2
            [Probe 10.0.0.2]
            user = other
            identity = special_key
            host_key_check = accept-new
            connect_timeout = 3s
            """)
        let configuration = try ConfigLoader.load(governorFile: main)
        #expect(configuration.problems.isEmpty, "\(configuration.problems)")
        let school = try #require(configuration.schools.first)
        let first = try PushTarget.resolve(school.probes[0], of: school, governor: configuration.governor)
        #expect(first.user == "admin" && first.port == 2222 && first.host == "10.0.0.1")
        #expect(first.identity == directory.file("keys/id_ed25519"))
        #expect(first.knownHosts == directory.file("state/known_hosts"))
        #expect(first.hostKeyCheck == .strict)
        #expect(first.timeoutSeconds == 120 && first.connectTimeoutSeconds == 10 && first.maxLatenessSeconds == 30)
        #expect(first.expandedCommand(runAt: 1_795_000_000) == "web100clt -n ndt.example.net --disablesfw --disablemid")
        let second = try PushTarget.resolve(school.probes[1], of: school, governor: configuration.governor)
        #expect(second.user == "other" && second.port == 2200)
        #expect(second.identity == directory.file("schools/special_key"))
        #expect(second.hostKeyCheck == .acceptNew && second.connectTimeoutSeconds == 3)
    }

    @Test("placeholders expand; other braces stay")
    func placeholders() {
        let target = PushTarget(probe: "10.0.0.1", school: "north", host: "10.0.0.1", port: 22, user: "u", identity: "k", identityPassphraseFile: nil,
                                knownHosts: "kh", hostKeyCheck: .strict, command: "run --id {probe} --school {school} --at {run_at} | awk '{print $1}' ${HOME}",
                                timeoutSeconds: 1, connectTimeoutSeconds: 1, maxLatenessSeconds: 1)
        #expect(target.expandedCommand(runAt: 1_795_000_000) == "run --id 10.0.0.1 --school north --at 2026-11-18T11:06:40Z | awk '{print $1}' ${HOME}")
    }

    @Test("bad [SSH] values are errors with their line")
    func badValues() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("governor.cfg", "[SSH]\nport = 70000\nhost_key_check = yes\ntimeout = soon\n")
        let problems = loadProblems(main)
        #expect(problems.contains { $0.line == 2 && $0.message.contains("'port' is '70000'") })
        #expect(problems.contains { $0.line == 3 && $0.message.contains("expected strict or accept-new") })
        #expect(problems.contains { $0.line == 4 && $0.message.contains("'timeout' is 'soon'") })
    }
}
