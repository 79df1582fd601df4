import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

@Suite("INI reader")
struct INIParserTests {
    @Test("the original governor's file reads byte for byte as configparser reads it")
    func originalFile() throws {
        let (document, problems) = try INIParser.read(contentsOf: Fixtures.path("original-governor.cfg"))
        #expect(problems.isEmpty)
        #expect(document.sections.map(\.name) == ["Timing", "Probes"])
        let timing = try #require(document.section("Timing"))
        #expect(timing["boundaries"]?.value == "\n0200\n0530\n0700\n0800\n1900\n2000")
        #expect(timing["boundaries"]?.pieces.map(\.line) == [3, 4, 5, 6, 7, 8])
        #expect(timing["runs_per_period"]?.value == "4")
        #expect(timing["runs_per_period"]?.line == 10)
        #expect(timing["delay"]?.value == "02")
        let probes = try #require(document.section("Probes"))
        // The commented-out addresses are skipped, as in Python.
        #expect(probes["addresses"]?.value == "\n165.117.251.182")
        #expect(probes["addresses"]?.pieces == [INIDocument.Piece(text: "165.117.251.182", line: 16)])
    }

    @Test("values", arguments: [
        ("[s]\nkey = value\n", "key", "value"),
        ("[s]\nkey: value\n", "key", "value"),
        ("[s]\nKeY=  spaced value  \n", "key", "spaced value"),
        ("[s]\nurl = http://host:8080/x\n", "url", "http://host:8080/x"),
        ("[s]\na: b = c\n", "a", "b = c"),
        ("[s]\na = b: c\n", "a", "b: c"),
        ("[s]\nempty =\n", "empty", ""),
        ("[s]\ninline = value ; comment\n", "inline", "value"),
        ("[s]\ninline = value # comment\n", "inline", "value"),
        ("[s]\nnot_inline = a;b#c\n", "not_inline", "a;b#c"),
        ("[s]\nmulti = one\n  two\n\n  three\n", "multi", "one\ntwo\n\nthree"),
        ("[s]\nmulti = one\n  # skipped\n  two\n", "multi", "one\ntwo"),
        ("[s]\nmulti = one\n\n\nnext = 2\n", "multi", "one"),
        ("[s]\r\nkey = crlf\r\n  more\r\n", "key", "crlf\nmore"),
        ("[s]\rkey = cr\r", "key", "cr"),
        ("[s]\nkey = a\n\t\tb\n", "key", "a\nb"),
    ])
    func values(text: String, key: String, expected: String) throws {
        let (document, problems) = INIParser.parse(text, file: "t.cfg")
        #expect(problems.isEmpty)
        #expect(document.section("s")?[key]?.value == expected)
    }

    @Test("errors name the file and line", arguments: [
        ("key = value\n", 1, "section header"),
        ("[s]\njust words\n", 2, "expected 'key = value'"),
        ("[s]\n= value\n", 2, "missing key"),
        ("[s]\na = 1\n[s]\n", 3, "appears twice"),
        ("[s]\na = 1\nA = 2\n", 3, "appears twice"),
    ])
    func errors(text: String, line: Int, fragment: String) {
        let (_, problems) = INIParser.parse(text, file: "bad.cfg")
        let first = problems.first
        #expect(first?.file == "bad.cfg")
        #expect(first?.line == line)
        #expect(first?.message.contains(fragment) == true, "\(String(describing: first))")
        #expect(first?.description.hasPrefix("bad.cfg:\(line): error: ") == true)
    }

    @Test("[DEFAULT] entries show through in every section unless overridden")
    func defaults() {
        let (document, problems) = INIParser.parse("[DEFAULT]\nx = 1\ny = 2\n[a]\ny = 3\n", file: "d.cfg")
        #expect(problems.isEmpty)
        let a = document.section("a")!
        #expect(document.resolvedEntries(of: a).map { "\($0.key)=\($0.value)" } == ["y=3", "x=1"])
    }

    @Test("a missing file and a non-UTF-8 file are reported with the path")
    func unreadable() throws {
        #expect(throws: ConfigProblem.self) { try INIParser.read(contentsOf: "/nonexistent/governor.cfg") }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = (directory.path as NSString).appendingPathComponent("latin1.cfg")
        try Data([0x5B, 0x73, 0x5D, 0x0A, 0x61, 0x3D, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try INIParser.read(contentsOf: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == path)
            #expect(error.message.contains("UTF-8"))
        }
    }
}

@Suite("INI reader: work per key")
struct INIParserWorkTests {
    /// A school file with `keys` keys, half in one section and half spread over
    /// `[Probe …]` sections, the two shapes a large file takes.
    static func file(keys: Int) -> String {
        var text = "[Timing]\n"
        for index in 0..<(keys / 2) { text += "k\(index) = \(index)\n" }
        for index in 0..<(keys / 2) { text += "[Probe p\(index)]\nlabel = \(index)\n" }
        return text
    }

    /// Quadratic parsing turned 100,000 keys into 15 s of `governor check`; the test
    /// counts the parser's lookups instead of timing it, so a slow machine cannot
    /// hide the shape and a fast one cannot fail it.
    @Test("the reader does a bounded amount of work per key, whatever the file's size")
    func linearWork() {
        var perKey: [Double] = []
        for keys in [2_000, 8_000] {
            let (document, problems, work) = INIParser.parseCountingWork(Self.file(keys: keys), file: "big.cfg")
            #expect(problems.isEmpty)
            #expect(document.sections.count == 1 + keys / 2)
            perKey.append(Double(work) / Double(keys))
        }
        #expect(perKey.allSatisfy { $0 <= 4 }, "lookups per key: \(perKey)")
    }

    @Test("a duplicate key or section is still found, with the first one's line")
    func duplicatesStillFound() {
        let (_, keyProblems) = INIParser.parse("[s]\na = 1\nb = 2\nA = 3\n", file: "d.cfg")
        #expect(keyProblems.map(\.description) == ["d.cfg:4: error: key 'a' appears twice in [s] (first at line 2)"])
        let (_, sectionProblems) = INIParser.parse("[s]\na = 1\n[t]\n[s]\n", file: "d.cfg")
        #expect(sectionProblems.map(\.description) == ["d.cfg:4: error: section [s] appears twice (first at line 1)"])
    }
}
