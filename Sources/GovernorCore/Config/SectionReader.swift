import Foundation

/// Reads typed values out of one INI section, collecting a ``ConfigProblem`` (with
/// file and line) for every value that does not parse and a warning for every key
/// the section does not know.
struct SectionReader {
    let file: String
    let section: INIDocument.Section
    private let entries: [INIDocument.Entry]
    private(set) var problems: [ConfigProblem] = []

    init(_ section: INIDocument.Section, in document: INIDocument, knownKeys: [String]) {
        self.file = document.file
        self.section = section
        self.entries = document.resolvedEntries(of: section)
        for entry in section.entries where !knownKeys.contains(entry.key) {
            problems.append(.warning(file, line: entry.line,
                "unknown key '\(entry.key)' in [\(section.name)] is ignored (known keys: \(knownKeys.joined(separator: ", ")))"))
        }
    }

    func entry(_ key: String) -> INIDocument.Entry? {
        entries.first { $0.key == key }
    }

    mutating func error(_ message: String, line: Int?) {
        problems.append(.error(file, line: line, message))
    }

    /// Problems found elsewhere on this section's behalf (a file it names).
    mutating func add(_ found: [ConfigProblem]) {
        problems += found
    }

    mutating func warning(_ message: String, line: Int?) {
        problems.append(.warning(file, line: line, message))
    }

    /// The value of `key`, nil when absent; an empty value is an error.
    mutating func string(_ key: String) -> String? {
        guard let entry = entry(key) else { return nil }
        guard !entry.value.isEmpty else {
            error("'\(key)' in [\(section.name)] is empty", line: entry.line)
            return nil
        }
        return entry.value
    }

    /// A one-line value. An indented line after a key continues its value (the INI
    /// rule), which is easy to do by accident, so that case gets its own message.
    mutating func singleLine(_ key: String) -> String? {
        guard let entry = entry(key), let text = string(key) else { return nil }
        if entry.pieces.count > 1 {
            error("'\(key)' continues on line \(entry.pieces[1].line) because that line is indented; "
                + "remove its indentation to make it a key of its own", line: entry.line)
            return nil
        }
        return text
    }

    /// A duration within `range` (seconds); anything else is an error naming the key and the range.
    mutating func duration(_ key: String, in range: ClosedRange<Int>, bareUnit: DurationValue.BareUnit = .seconds) -> Int? {
        guard let entry = entry(key), let text = singleLine(key) else { return nil }
        guard let seconds = DurationValue.seconds(text, bareUnit: bareUnit) else {
            error("'\(key)' is '\(text)'; \(DurationValue.expectation(bareUnit: bareUnit)), \(ConfigLimits.describe(seconds: range))", line: entry.line)
            return nil
        }
        guard range.contains(seconds) else {
            error("'\(key)' is '\(text)'; expected \(ConfigLimits.describe(seconds: range))", line: entry.line)
            return nil
        }
        return seconds
    }

    /// A whole number within `range`; anything else is an error naming the key and the range.
    mutating func integer(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let entry = entry(key), let text = singleLine(key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            error("'\(key)' is '\(text)'; expected a whole number from \(range.lowerBound) to \(range.upperBound)", line: entry.line)
            return nil
        }
        return number
    }

    /// A decimal number (`100`, `2.5`) within `range`; anything else is an error naming the key and the range.
    mutating func decimal(_ key: String, in range: ClosedRange<Double>) -> Double? {
        guard let entry = entry(key), let text = singleLine(key) else { return nil }
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(text), number.isFinite, range.contains(number) else {
            error("'\(key)' is '\(text)'; expected a number from \(SchoolTarget.format(range.lowerBound)) to \(SchoolTarget.format(range.upperBound)) (such as 20 or 2.5)",
                  line: entry.line)
            return nil
        }
        return number
    }

    /// `yes/no`, `true/false`, `on/off`, `1/0`, as `configparser.getboolean` accepts.
    mutating func bool(_ key: String) -> Bool? {
        guard let entry = entry(key), let text = singleLine(key) else { return nil }
        switch text.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off": return false
        default:
            error("'\(key)' is '\(text)'; expected yes or no", line: entry.line)
            return nil
        }
    }

    /// One of `T`'s cases, by its raw value (case-insensitive); anything else is an
    /// error that lists them.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) -> T? where T.RawValue == String {
        guard let entry = entry(key), let text = singleLine(key) else { return nil }
        guard let value = T(rawValue: text.lowercased()) else {
            error("'\(key)' is '\(text)'; expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", line: entry.line)
            return nil
        }
        return value
    }

    mutating func timeZone(_ key: String) -> (zone: TimeZone, name: String)? {
        guard let entry = entry(key), let text = singleLine(key) else { return nil }
        guard let zone = TimeZone(identifier: text) else {
            error("'\(key)' is '\(text)', which is not a known time zone; expected an IANA name such as Europe/Berlin or America/New_York (see /usr/share/zoneinfo)", line: entry.line)
            return nil
        }
        return (zone, text)
    }

    /// The items of a list value, split on newlines, spaces and commas, each with its line.
    func list(_ key: String) -> [INIDocument.Piece] {
        guard let entry = entry(key) else { return [] }
        return entry.pieces.flatMap { piece in
            piece.text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
                .map { INIDocument.Piece(text: String($0), line: piece.line) }
        }
    }
}
