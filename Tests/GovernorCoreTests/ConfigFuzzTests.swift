import Foundation
import GovernorTestSupport
import Testing

@testable import GovernorCore

/// A seeded mutation fuzzer for the INI reader, the config loader and what the
/// governor computes from a loaded configuration (schedules, push targets, alert
/// timings, the `check` report).
///
/// Every mutant must load to a configuration or to errors with file and line, and
/// nothing downstream may trap. The corpus is `Fixtures/fuzz-corpus`; each file
/// in `Fixtures/fuzz-regressions` is a crash found once, kept for good. A crash
/// ends the test process: the mutant that caused it is the file `current.cfg` in
/// `$TMPDIR/governor-config-fuzz/`; add it to the regressions. Runs 600 mutants in a
/// few seconds; `GOVERNOR_FUZZ_ITERATIONS=N` runs more.
@Suite("Config fuzzing: no input can crash the loader or what follows it")
struct ConfigFuzzTests {
    static let interesting = [
        "0", "-1", "1", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "4611686018427387904",
        "2562047788015215h59m", "106751991167300d", "99999999999999999999s", "1e999", "NaN", "", " ", "0000", "2400", "23:59:60",
        "1h30m30m", "8EiB", "2000000000000000000", "64MiB", "65536", "yes", "🙂", String(repeating: "9", count: 400),
    ]
    static let keys = ConfigLoader.governorKeys + ConfigLoader.alertsKeys + ConfigLoader.sshKeys + ConfigLoader.schoolKeys
        + ConfigLoader.timingKeys + ConfigLoader.probesKeys

    /// What a configuration makes the governor compute, each step that could trap.
    static func exercise(_ configuration: Configuration) throws {
        let settings = configuration.governor.alertSettings
        _ = MissTracker(threshold: settings.missedRuns, graceSeconds: settings.graceSeconds, repeatSeconds: settings.repeatSeconds)
        _ = Duration.seconds(settings.retryMaxSeconds)
        _ = try JSONEncoder().encode(ConfigurationDocument(configuration))
        for school in configuration.schools {
            _ = SchoolSummary(school)
            _ = UnixTime(school.timing.testDurationSeconds) + UnixTime(settings.graceSeconds)
            for date in [LocalDate(parsing: "2026-11-23")!, LocalDate(parsing: "2026-03-29")!] {
                _ = try? ScheduleGenerator.schedule(of: school, on: date, seed: 7)
            }
            for probe in school.probes where probe.mode == .push {
                if let target = try? PushTarget.resolve(probe, of: school, governor: configuration.governor) {
                    _ = Duration.seconds(target.connectTimeoutSeconds) + Duration.seconds(target.timeoutSeconds)
                    _ = UnixTime(target.maxLatenessSeconds) + 1
                }
            }
        }
    }

    /// Loads `text` as the main file (when it has a `[Governor]` section) or as a
    /// school file, in `directory`, and exercises what loaded.
    static func load(_ text: String, in directory: TemporaryDirectory) throws {
        let isMain = text.contains("[Governor]")
        let main = directory.file("governor.cfg")
        try FileManager.default.createDirectory(atPath: directory.file("schools"), withIntermediateDirectories: true)
        if isMain {
            try Data(text.utf8).write(to: URL(fileURLWithPath: main))
            try directory.write("schools/fixed.cfg", "[Timing]\nboundaries = 0800 1200\nruns_per_period = 2\ndelay = 2\n[Probes]\nids = fixed-1\n")
        } else {
            try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\n[SSH]\nuser = probe\nidentity = key\ncommand = true\n")
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory.file("schools/fuzzed.cfg")))
        }
        do {
            let configuration = try ConfigLoader.load(governorFile: main)
            for problem in configuration.problems where problem.isError {
                #expect(problem.line != nil || !problem.message.isEmpty, "an error without a place: \(problem)")
            }
            try exercise(configuration)
        } catch let error as ConfigurationError {
            #expect(!error.problems.isEmpty)
        }
    }

    static func mutate(_ text: String, _ random: inout Xoshiro256StarStar) -> String {
        var lines = text.components(separatedBy: "\n")
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            guard !lines.isEmpty else { break }
            let index = Int.random(in: 0..<lines.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0, 1:  // a value replaced by an interesting one
                if let equals = lines[index].firstIndex(where: { $0 == "=" || $0 == ":" }) {
                    lines[index] = String(lines[index][...equals]) + " " + interesting.randomElement(using: &random)!
                }
            case 2:  // a key renamed to another known key
                lines[index] = keys.randomElement(using: &random)! + " = " + interesting.randomElement(using: &random)!
            case 3: lines.insert(lines[index], at: index)
            case 4: lines.remove(at: index)
            case 5: lines[index] = "  " + lines[index]
            case 6:  // bytes inserted: control characters, NUL, UTF-8, brackets
                let inserts = ["\u{0}", "\r", "\t", "[", "]", "=", ";", "#", "\u{FEFF}", "é", "%(x)s", "\\"]
                var line = Array(lines[index])
                line.insert(contentsOf: Array(inserts.randomElement(using: &random)!), at: Int.random(in: 0...line.count, using: &random))
                lines[index] = String(line)
            default:
                let other = Int.random(in: 0..<lines.count, using: &random)
                lines.swapAt(index, other)
            }
        }
        return lines.joined(separator: "\n")
    }

    @Test("every crash found once stays fixed", arguments: try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("fuzz-regressions")).sorted())
    func regressions(_ name: String) throws {
        let directory = try TemporaryDirectory("governor-fuzz")
        defer { directory.remove() }
        let text = try String(contentsOfFile: Fixtures.path("fuzz-regressions") + "/" + name, encoding: .utf8)
        try Self.load(text, in: directory)
    }

    @Test("seeded mutants of the corpus load or fail with errors, never crash")
    func mutants() async throws {
        try await offThePool { try Self.mutantsBody() }
    }

    static func mutantsBody() throws {
        let corpusDirectory = Fixtures.path("fuzz-corpus")
        let corpus = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory).sorted().map {
            try String(contentsOfFile: corpusDirectory + "/" + $0, encoding: .utf8)
        }
        let iterations = ProcessInfo.processInfo.environment["GOVERNOR_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 600
        let work = NSTemporaryDirectory() + "governor-config-fuzz"
        try? FileManager.default.removeItem(atPath: work)
        let directory = try TemporaryDirectory("governor-fuzz")
        defer { directory.remove() }
        var random = Xoshiro256StarStar(seed: 20_261_202)
        for _ in 0..<iterations {
            let mutant = mutate(corpus.randomElement(using: &random)!, &random)
            // Left behind if this mutant crashes the process: the reproducer.
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try Data(mutant.utf8).write(to: URL(fileURLWithPath: work + "/current.cfg"))
            try load(mutant, in: directory)
        }
        try? FileManager.default.removeItem(atPath: work)
    }
}
