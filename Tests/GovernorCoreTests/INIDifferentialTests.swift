import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

/// Holds the INI reader to Python's `configparser` over a generated corpus.
@Suite("INI reader against Python's configparser")
struct INIDifferentialTests {
    @Test("reads the same sections, keys and values as RawConfigParser, or fails where it fails")
    func corpus() throws {
        let directory = try TemporaryDirectory("governor-ini-corpus")
        defer { directory.remove() }
        var generator = Xoshiro256StarStar(seed: 20_261_123)
        var files: [String] = []
        for index in 0..<400 {
            files.append(try directory.write(String(format: "case-%03d.cfg", index), CorpusFile.make(using: &generator)))
        }
        files.append(Fixtures.path("original-governor.cfg"))

        let output = try runProcess(python3(), [Fixtures.path("configparser_dump.py")] + files)
        #expect(output.status == 0, "\(output.stderr)")
        let python = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as! [String: [String: Any]]

        var failures = 0, valid = 0
        for file in files {
            let expected = try #require(python[file])
            let (document, problems) = try INIParser.read(contentsOf: file)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            if let error = expected["error"] as? String {
                #expect(!problems.isEmpty, "Python fails with \(error) on \(file) but the reader accepts it:\n\(text)")
                failures += 1
                continue
            }
            valid += 1
            #expect(problems.isEmpty, "the reader rejects \(file), which Python accepts: \(problems)")
            let sections = document.sections.map { section in
                [section.name, section.entries.map { [$0.key, $0.value] }] as [Any]
            }
            let ours = ["defaults": document.defaults.map { [$0.key, $0.value] }, "sections": sections] as [String: Any]
            #expect(NSDictionary(dictionary: ours).isEqual(to: expected),
                    "\(file) differs:\nours:   \(ours)\npython: \(expected)\ntext:\n\(text.debugDescription)")
        }
        // The corpus must exercise both paths, or the comparison proves little.
        #expect(valid > 250 && failures > 20, "valid \(valid), failing \(failures)")
    }
}

/// Generates INI files full of the details that trip readers up.
enum CorpusFile {
    static let sectionNames = ["Timing", "Probes", "School", "Governor", "Probe a-1", "DEFAULT", "with space", "x:y", "a=b", "]odd["]
    static let keys = ["boundaries", "Runs_Per_Period", "DELAY", "addresses", "ids", "key with spaces", "k", "Mixed.Case-Key", "token_sha256"]
    static let words = ["0200", "07:30", "165.117.251.182", "a;b", "x#y", "http://h:1/p", "v=w", "k: v", "two words", "\u{00E9}t\u{00E9}", "'quoted'", "[notsection]"]
    static let spaces = ["", " ", "  ", "\t", " \t"]
    static let indents = [" ", "  ", "\t", "\t\t", "    "]

    static func make<G: RandomNumberGenerator>(using g: inout G) -> String {
        var lines: [String] = []
        func pick<T>(_ items: [T]) -> T { items[g.nextIndex(below: items.count)] }
        func chance(_ percent: Int) -> Bool { g.nextIndex(below: 100) < percent }

        if chance(20) { lines.append(pick(["# leading comment", "; leading", "", "   "])) }
        if chance(4) { lines.append("orphan = before any section") }
        var usedSections: [String] = []
        for _ in 0..<(1 + g.nextIndex(below: 4)) {
            var name = pick(sectionNames)
            if usedSections.contains(name) && !chance(8) { name += "\(g.nextIndex(below: 1000))" }
            usedSections.append(name)
            lines.append(pick(spaces.prefix(2).map { $0 }) + "[\(name)]" + (chance(10) ? pick([" ; c", " # c", "  "]) : ""))
            var usedKeys: [String] = []
            for _ in 0..<g.nextIndex(below: 5) {
                var key = pick(keys)
                if usedKeys.contains(key.lowercased()) && !chance(8) { key += "\(g.nextIndex(below: 1000))" }
                usedKeys.append(key.lowercased())
                let delimiter = pick(["=", ":", "=", ":"])
                var first = chance(25) ? "" : pick(words)
                if chance(15) { first += pick([" ; inline", " # inline", "\t;tab", " #"]) }
                lines.append(key + pick(spaces) + delimiter + pick(spaces) + first + (chance(15) ? pick(spaces) : ""))
                for _ in 0..<(chance(40) ? g.nextIndex(below: 5) : 0) {
                    switch g.nextIndex(below: 7) {
                    case 0: lines.append("")
                    case 1: lines.append(pick(indents))
                    case 2: lines.append(pick(["", " ", "\t"]) + pick(["# commented", ";commented", "#\t0.0.0.0"]))
                    case 3: lines.append(pick(indents) + pick(words) + (chance(20) ? " ; c" : ""))
                    default: lines.append(pick(indents) + pick(words))
                    }
                }
                if chance(3) { lines.append("a line without a delimiter") }
                if chance(10) { lines.append(pick(["", "# between", "; between"])) }
            }
        }
        let ending = chance(15) ? "\r\n" : "\n"
        return lines.joined(separator: ending) + (chance(80) ? ending : "")
    }
}
