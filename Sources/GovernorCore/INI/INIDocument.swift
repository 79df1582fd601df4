/// A parsed INI file: its sections in file order, each with its entries in file order.
///
/// The dialect is Python's `configparser.RawConfigParser` with its defaults plus
/// inline comments (see ``INIParser``), so files written for the original Python
/// governor read the same here.
public struct INIDocument: Sendable, Equatable {
    /// One `key = value` (or `key: value`) entry, with where it came from.
    public struct Entry: Sendable, Equatable {
        /// The key, lowercased as `configparser` does (`optionxform`).
        public var key: String
        /// The value: the first line's text and any continuation lines joined by
        /// newlines, with trailing empty lines removed.
        public var value: String
        /// The line the key stands on (1-based).
        public var line: Int
        /// Every non-empty piece of the value with its own line, so that an error in
        /// one item of a multi-line value (a boundary, an address) names its line.
        public var pieces: [Piece]

        public init(key: String, value: String, line: Int, pieces: [Piece]) {
            self.key = key
            self.value = value
            self.line = line
            self.pieces = pieces
        }
    }

    /// One line's worth of a (possibly multi-line) value.
    public struct Piece: Sendable, Equatable {
        public var text: String
        public var line: Int

        public init(text: String, line: Int) {
            self.text = text
            self.line = line
        }
    }

    /// A `[name]` section.
    public struct Section: Sendable, Equatable {
        /// The name between the brackets, case preserved (section names are case-sensitive).
        public var name: String
        /// The line of the header (1-based).
        public var line: Int
        /// Entries in file order; keys are unique within a section.
        public var entries: [Entry]

        public init(name: String, line: Int, entries: [Entry] = []) {
            self.name = name
            self.line = line
            self.entries = entries
        }

        /// The entry for `key` (matched case-insensitively), if present.
        public subscript(key: String) -> Entry? {
            let wanted = key.lowercased()
            return entries.first { $0.key == wanted }
        }
    }

    /// The path the document was read from, used in every diagnostic.
    public var file: String
    /// Entries of the `[DEFAULT]` section, which `configparser` offers in every section.
    public var defaults: [Entry]
    /// The named sections in file order (without `[DEFAULT]`).
    public var sections: [Section]

    public init(file: String, defaults: [Entry] = [], sections: [Section] = []) {
        self.file = file
        self.defaults = defaults
        self.sections = sections
    }

    /// The section called exactly `name`, if present.
    public func section(_ name: String) -> Section? {
        sections.first { $0.name == name }
    }

    /// A section's entries with `[DEFAULT]` entries it does not override, like
    /// `RawConfigParser.items(section)`: the section's own first, then defaults.
    public func resolvedEntries(of section: Section) -> [Entry] {
        let own = Set(section.entries.map(\.key))
        return section.entries + defaults.filter { !own.contains($0.key) }
    }
}
