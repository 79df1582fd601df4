import Foundation

/// Reads INI text the way Python's `configparser.RawConfigParser()` does with its
/// defaults, plus `inline_comment_prefixes=('#', ';')`.
///
/// That means: `key = value` and `key: value` (the first `=` or `:` splits); keys
/// lowercased, section names case-sensitive; a value continues on following lines
/// indented deeper than its key, blank lines included; full-line comments start with
/// `#` or `;` (after optional whitespace) and may stand inside a multi-line value;
/// `#` or `;` at the start of a line or after whitespace begins an inline comment;
/// duplicate sections and duplicate keys in a section are errors (`strict=True`).
/// A differential test holds this reader to Python's over a generated corpus.
public enum INIParser {
    /// Parses `text`; `file` names the source in every problem.
    ///
    /// - Returns: the document and every problem found (all are errors). The
    ///   document holds whatever was readable, but callers should not use it when
    ///   there are problems: Python refuses such a file outright.
    public static func parse(_ text: String, file: String) -> (document: INIDocument, problems: [ConfigProblem]) {
        let (document, problems, _) = parseCountingWork(text, file: file)
        return (document, problems)
    }

    /// ``parse(_:file:)``, also counting the lookups of keys and sections it made:
    /// the tests hold the reader to a bounded number per key.
    static func parseCountingWork(_ text: String, file: String) -> (document: INIDocument, problems: [ConfigProblem], work: Int) {
        var parser = State(file: file)
        var lineNumber = 0
        for line in splitLines(text) {
            lineNumber += 1
            parser.consume(line, number: lineNumber)
            if parser.stopped { break }
        }
        return (parser.finish(), parser.problems, parser.work)
    }

    /// The largest configuration file read: far above any real one, small enough that
    /// a runaway file cannot stall `governor check` or a reload.
    public static let maxFileBytes = 16 << 20

    /// Reads and parses the file at `path`.
    ///
    /// - Throws: a ``ConfigProblem`` naming the file when it cannot be read or is not UTF-8.
    public static func read(contentsOf path: String) throws(ConfigProblem) -> (document: INIDocument, problems: [ConfigProblem]) {
        parse(try text(contentsOf: path), file: path)
    }

    /// The text of the file at `path`, without a byte-order mark.
    ///
    /// - Throws: a ``ConfigProblem`` naming the file when it cannot be read or is not UTF-8.
    public static func text(contentsOf path: String) throws(ConfigProblem) -> String {
        let data: Data
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoPermission) }
            defer { try? handle.close() }
            // nil at the end of the file: an empty file.
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
            throw .error(path, "the file \(reason)")
        }
        guard data.count <= maxFileBytes else {
            throw .error(path, "the file is larger than \(maxFileBytes >> 20) MiB, the most a configuration file may be (a school of 1,000 probes with their tokens takes about 100 KB); is it the right file?")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw .error(path, "the file is not valid UTF-8 text")
        }
        if text.unicodeScalars.first == "\u{FEFF}" {
            text.unicodeScalars.removeFirst()
        }
        return text
    }

    /// Splits on `\n`, `\r\n` and `\r`, like Python's universal-newline text mode.
    static func splitLines(_ text: String) -> [[Unicode.Scalar]] {
        var lines: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if previousWasCR {
                    previousWasCR = false
                    continue
                }
                lines.append(current)
                current = []
            } else if scalar == "\r" {
                lines.append(current)
                current = []
                previousWasCR = true
                continue
            } else {
                current.append(scalar)
            }
            previousWasCR = false
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The line-by-line state machine of `RawConfigParser._read`.
    private struct State {
        let file: String
        var problems: [ConfigProblem] = []
        var stopped = false
        /// Lookups of keys and sections so far.
        var work = 0

        var defaults: [INIDocument.Entry] = []
        var sections: [INIDocument.Section] = []
        /// Index into `sections`, or `-1` for `[DEFAULT]`, or nil before the first header.
        var currentSection: Int?
        /// Index of the entry receiving continuation lines, in the current section.
        var currentEntry: Int?
        var indentLevel = 0
        /// Raw value lines (with empty strings for blank lines) per open entry, joined at the end.
        var valueLines: [EntryKey: [String]] = [:]
        /// Each section's index by name, and each section's keys with their lines
        /// (index -1: `[DEFAULT]`): one lookup per key, so a file of 100,000 keys reads
        /// in time proportional to its size.
        var sectionIndex: [String: Int] = [:]
        var keyLines: [Int: [String: Int]] = [:]

        struct EntryKey: Hashable {
            var section: Int
            var entry: Int
        }

        init(file: String) {
            self.file = file
        }

        mutating func consume(_ line: [Unicode.Scalar], number: Int) {
            let commentStart = Self.commentStart(in: line)
            let value = Array(line[..<(commentStart ?? line.count)]).strippingPythonWhitespace()

            if value.isEmpty {
                // A blank line belongs to an open multi-line value; a comment line does not.
                if commentStart == nil, let key = openEntryKey {
                    valueLines[key, default: []].append("")
                }
                return
            }

            let indent = line.firstIndex(where: { !PythonWhitespace.contains($0) }) ?? 0
            if let key = openEntryKey, indent > indentLevel {
                valueLines[key, default: []].append(value.string)
                appendPiece(value.string, line: number, to: key)
                return
            }

            indentLevel = indent
            if value.first == "[", let close = value.lastIndex(of: "]"), close > value.startIndex + 1 {
                openSection(value[(value.startIndex + 1)..<close].string, line: number)
                return
            }
            guard currentSection != nil else {
                problems.append(.error(file, line: number, "expected a section header such as [Timing] before the first key"))
                stopped = true
                return
            }
            guard let delimiter = value.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                // Like Python, keep going (and keep the open value) to report every bad line.
                problems.append(.error(file, line: number, "expected 'key = value', 'key: value' or a [section] header, found '\(value.string)'"))
                return
            }
            let key = value[value.startIndex..<delimiter].droppingTrailingPythonWhitespace().string.lowercased()
            let text = Array(value[(delimiter + 1)...]).strippingPythonWhitespace().string
            if key.isEmpty {
                problems.append(.error(file, line: number, "missing key before '\(Character(value[delimiter]))'"))
            }
            addEntry(key: key, value: text, line: number)
        }

        var openEntryKey: EntryKey? {
            guard let section = currentSection, let entry = currentEntry else { return nil }
            return EntryKey(section: section, entry: entry)
        }

        /// Where a comment starts: 0 for a full-line comment, else the first `#` or `;`
        /// at the line's start or after whitespace; nil when there is none.
        static func commentStart(in line: [Unicode.Scalar]) -> Int? {
            if let first = line.first(where: { !PythonWhitespace.contains($0) }), first == "#" || first == ";" {
                return 0
            }
            for (index, scalar) in line.enumerated() where scalar == "#" || scalar == ";" {
                if index == 0 || PythonWhitespace.contains(line[index - 1]) {
                    return index
                }
            }
            return nil
        }

        mutating func openSection(_ name: String, line: Int) {
            currentEntry = nil
            if name == "DEFAULT" {
                currentSection = -1
                return
            }
            work += 1
            if let existing = sectionIndex[name] {
                problems.append(.error(file, line: line, "section [\(name)] appears twice (first at line \(sections[existing].line))"))
                stopped = true
                return
            }
            sections.append(INIDocument.Section(name: name, line: line))
            currentSection = sections.count - 1
            sectionIndex[name] = sections.count - 1
        }

        mutating func addEntry(key: String, value: String, line: Int) {
            guard let section = currentSection else { return }
            work += 1
            if let first = keyLines[section]?[key] {
                let sectionName = section == -1 ? "DEFAULT" : sections[section].name
                problems.append(.error(file, line: line, "key '\(key)' appears twice in [\(sectionName)] (first at line \(first))"))
                stopped = true
                return
            }
            keyLines[section, default: [:]][key] = line
            let pieces = value.isEmpty ? [] : [INIDocument.Piece(text: value, line: line)]
            let entry = INIDocument.Entry(key: key, value: value, line: line, pieces: pieces)
            if section == -1 {
                defaults.append(entry)
                currentEntry = defaults.count - 1
            } else {
                sections[section].entries.append(entry)
                currentEntry = sections[section].entries.count - 1
            }
            valueLines[EntryKey(section: section, entry: currentEntry!)] = [value]
        }

        mutating func appendPiece(_ text: String, line: Int, to key: EntryKey) {
            let piece = INIDocument.Piece(text: text, line: line)
            if key.section == -1 {
                defaults[key.entry].pieces.append(piece)
            } else {
                sections[key.section].entries[key.entry].pieces.append(piece)
            }
        }

        /// Joins multi-line values like `_join_multiline_values`: `'\n'.join(lines).rstrip()`.
        func finish() -> INIDocument {
            var document = INIDocument(file: file, defaults: defaults, sections: sections)
            for (key, lines) in valueLines {
                var joined = Array(lines.joined(separator: "\n").unicodeScalars)[...]
                joined = joined.droppingTrailingPythonWhitespace()
                if key.section == -1 {
                    document.defaults[key.entry].value = joined.string
                } else {
                    document.sections[key.section].entries[key.entry].value = joined.string
                }
            }
            return document
        }
    }
}
