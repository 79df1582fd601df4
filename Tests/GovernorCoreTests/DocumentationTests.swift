import Foundation
import Testing

/// The README and `docs/` as a reader follows them: every relative link names a file
/// that exists and, into a Markdown file, a heading it has; every document is
/// reachable from the README; the README stays a five-minute read.
@Suite("The documentation's links hold")
struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func documents() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
        return ["README.md"] + docs
    }

    /// The lines outside fenced code blocks, with inline code spans blanked.
    static func prose(of text: String) -> [String] {
        var inFence = false
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inFence.toggle()
                continue
            }
            guard !inFence else { continue }
            lines.append(String(line).replacingOccurrences(of: #"`[^`]*`"#, with: "``", options: .regularExpression))
        }
        return lines
    }

    /// GitHub's anchors of a Markdown text: each heading lowercased, punctuation
    /// dropped, spaces as hyphens; a repeated one gets `-1`, `-2`…
    static func anchors(of text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var anchors: Set<String> = []
        var inFence = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inFence.toggle() }
            guard !inFence, let match = line.firstMatch(of: /^#{1,6} (.+)$/) else { continue }
            let slug = String(match.1).lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == " " }
                .replacingOccurrences(of: " ", with: "-")
            let count = seen[slug, default: 0]
            seen[slug] = count + 1
            anchors.insert(count == 0 ? slug : "\(slug)-\(count)")
        }
        return anchors
    }

    /// `docs/../README.md` as `README.md`: Foundation leaves `..` in a relative path.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    /// Every relative link of `document`: (its line, the file it names, the anchor).
    static func links(in document: String, text: String) -> [(line: String, file: String, anchor: String?)] {
        var found: [(String, String, String?)] = []
        for line in prose(of: text) {
            for match in line.matches(of: /\]\(([^)\s]+)\)/) {
                let target = String(match.1)
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let directory = (document as NSString).deletingLastPathComponent
                let file = parts[0].isEmpty ? document : normalized((directory as NSString).appendingPathComponent(parts[0]))
                found.append((line, file, parts.count > 1 ? parts[1] : nil))
            }
        }
        return found
    }

    @Test("every relative link names a file that exists, and a heading it has")
    func linksResolve() throws {
        var anchorsOf: [String: Set<String>] = [:]
        var broken: [String] = []
        var total = 0
        for document in try Self.documents() {
            let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
            for link in Self.links(in: document, text: text) {
                total += 1
                let path = Self.root.appendingPathComponent(link.file).path
                guard FileManager.default.fileExists(atPath: path) else {
                    broken.append("\(document): no file \(link.file)")
                    continue
                }
                guard let anchor = link.anchor, link.file.hasSuffix(".md") else { continue }
                if anchorsOf[link.file] == nil {
                    anchorsOf[link.file] = Self.anchors(of: try String(contentsOfFile: path, encoding: .utf8))
                }
                if anchorsOf[link.file]?.contains(anchor) != true { broken.append("\(document): no heading #\(anchor) in \(link.file)") }
            }
        }
        #expect(total > 30, "the links were not read")
        #expect(broken == [], "\(broken.joined(separator: "\n"))")
    }

    @Test("every document in docs/ is reachable from the README, and the README stays short")
    func everyDocumentReachable() throws {
        var reached: Set<String> = ["README.md"]
        var queue = ["README.md"]
        while let document = queue.popLast() {
            let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
            for link in Self.links(in: document, text: text) where link.file.hasSuffix(".md") && reached.insert(link.file).inserted {
                queue.append(link.file)
            }
        }
        let all = Set(try Self.documents())
        #expect(all.subtracting(reached).sorted() == [], "documents no link leads to")
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.split(separator: "\n", omittingEmptySubsequences: false).count < 300)
    }
}
