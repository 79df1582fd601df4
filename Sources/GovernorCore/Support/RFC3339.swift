/// RFC 3339 timestamps in UTC with a `Z`, as the JSON interfaces use them.
public enum RFC3339 {
    /// `2026-11-23T07:00:00Z`.
    ///
    /// Writes the digits straight into 20 bytes: the server formats several of these
    /// for every "next run" answer.
    public static func format(_ time: UnixTime) -> String {
        let (date, seconds) = split(time)
        guard (0...9999).contains(date.year) else { return wideYear(date, seconds) + "Z" }
        return String(unsafeUninitializedCapacity: 20) { buffer in
            put(date, seconds, into: buffer)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to whole seconds (fraction dropped).
    public static func parse(_ text: String) -> UnixTime? {
        parseWithFraction(text)?.seconds
    }

    /// Parses like ``parse(_:)`` and keeps the fraction, as seconds since 1970 (UTC).
    public static func parsePrecise(_ text: String) -> Double? {
        parseWithFraction(text).map { Double($0.seconds) + $0.fraction }
    }

    /// `2026-11-23T07:00:00.123Z`: milliseconds, for measured instants such as test
    /// starts, and the server's clock in every "next run" answer.
    public static func format(milliseconds: Int64) -> String {
        let whole = LocalDate.floorDivide(milliseconds, 1000)
        let rest = Int(milliseconds - whole * 1000)
        let (date, seconds) = split(whole)
        guard (0...9999).contains(date.year) else { return wideYear(date, seconds) + "." + rest.threeDigits + "Z" }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            put(date, seconds, into: buffer)
            buffer[19] = UInt8(ascii: ".")
            put(rest, 3, at: 20, into: buffer)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// `2026-11-23T07:00:00.123456Z`: microseconds, for the server's clock in every
    /// answer to a probe, which a group run's start is corrected by.
    public static func format(microseconds: Int64) -> String {
        let whole = LocalDate.floorDivide(microseconds, 1_000_000)
        let rest = Int(microseconds - whole * 1_000_000)
        let (date, seconds) = split(whole)
        let digits = String(rest + 1_000_000).dropFirst()
        guard (0...9999).contains(date.year) else { return wideYear(date, seconds) + "." + digits + "Z" }
        return format(whole).dropLast() + "." + digits + "Z"
    }

    /// The day and the second of the day.
    private static func split(_ time: UnixTime) -> (LocalDate, Int) {
        let days = LocalDate.floorDivide(time, 86_400)
        return (LocalDate(daysSinceEpoch: Int(days)), Int(time - days * 86_400))
    }

    /// `YYYY-MM-DDTHH:MM:SS` of a year beyond four digits, without the zone.
    private static func wideYear(_ date: LocalDate, _ seconds: Int) -> String {
        "\(date)T\((seconds / 3600).twoDigits):\((seconds % 3600 / 60).twoDigits):\((seconds % 60).twoDigits)"
    }

    /// Writes `YYYY-MM-DDTHH:MM:SS` into the first 19 bytes: straight digits, no
    /// intermediate strings (the server formats several per "next run" answer).
    private static func put(_ date: LocalDate, _ seconds: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        put(date.year, 4, at: 0, into: buffer)
        buffer[4] = UInt8(ascii: "-")
        put(date.month, 2, at: 5, into: buffer)
        buffer[7] = UInt8(ascii: "-")
        put(date.day, 2, at: 8, into: buffer)
        buffer[10] = UInt8(ascii: "T")
        put(seconds / 3600, 2, at: 11, into: buffer)
        buffer[13] = UInt8(ascii: ":")
        put(seconds % 3600 / 60, 2, at: 14, into: buffer)
        buffer[16] = UInt8(ascii: ":")
        put(seconds % 60, 2, at: 17, into: buffer)
    }

    /// Writes `value` as `width` decimal digits, zero-padded, at `offset`.
    private static func put(_ value: Int, _ width: Int, at offset: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        var value = value
        for index in stride(from: offset + width - 1, through: offset, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
    }

    private static func parseWithFraction(_ text: String) -> (seconds: UnixTime, fraction: Double)? {
        let characters = Array(text.utf8)
        guard characters.count >= 20, characters[10] == UInt8(ascii: "T") || characters[10] == UInt8(ascii: "t") || characters[10] == UInt8(ascii: " "),
              let date = LocalDate(parsing: String(decoding: characters[0..<10], as: UTF8.self)),
              characters[13] == UInt8(ascii: ":"), characters[16] == UInt8(ascii: ":"),
              let hour = number(characters[11..<13]), let minute = number(characters[14..<16]),
              let second = number(characters[17..<19]), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if characters[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            var scale = 0.1
            while index < characters.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(characters[index]) {
                fraction += Double(characters[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > fractionStart else { return nil }
        }
        guard index < characters.count else { return nil }
        var offset: Int64 = 0
        switch characters[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == characters.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard characters.count == index + 6, characters[index + 3] == UInt8(ascii: ":"),
                  let hours = number(characters[(index + 1)..<(index + 3)]),
                  let minutes = number(characters[(index + 4)..<(index + 6)]), hours < 24, minutes < 60 else { return nil }
            offset = Int64(hours * 3600 + minutes * 60) * (characters[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        let local = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59))
        return (local - offset, fraction)
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }
}
