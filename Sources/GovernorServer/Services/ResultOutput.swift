/// A test's output as stored: whole or cut, never cut silently.
enum ResultOutput {
    /// NUL shows as ␀ (U+2400): SQLite hands text back up to its first NUL, so a NUL
    /// stored as is would cut what follows it without a trace.
    static let nulSymbol: Character = "\u{2400}"

    /// `text` with NUL made visible, cut to at most `limit` UTF-8 bytes at a
    /// character boundary, and whether it was cut.
    static func storable(_ text: String, limit: Int) -> (String, truncated: Bool) {
        var text = text
        if text.utf8.contains(0) {
            text = String(text.map { $0 == "\u{0}" ? nulSymbol : $0 })
        }
        guard text.utf8.count > limit else { return (text, false) }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: max(0, limit))
        // Step back over UTF-8 continuation bytes (10xxxxxx) to a scalar's first byte.
        while end > text.startIndex && text.utf8[end] & 0xC0 == 0x80 {
            end = text.utf8.index(before: end)
        }
        return (String(text[..<end]), true)
    }
}
