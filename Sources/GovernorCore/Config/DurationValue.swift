/// Parses the durations of the configuration files into whole seconds.
///
/// Accepted: a bare whole number (its unit depends on the key: seconds almost
/// everywhere, minutes for `[Timing] delay` as in the original governor), or
/// whole numbers with `d`, `h`, `m` or `s`, optionally combined (`1h30m`, `2m30s`).
/// A value too large for the arithmetic is not a duration: nothing here can trap.
public enum DurationValue {
    public enum BareUnit: Int, Sendable {
        case seconds = 1
        case minutes = 60
        case days = 86_400

        var name: String {
            switch self {
            case .seconds: "seconds"
            case .minutes: "minutes"
            case .days: "days"
            }
        }
    }

    /// The number of seconds `text` means, or nil when it is not a duration.
    public static func seconds(_ text: String, bareUnit: BareUnit = .seconds) -> Int? {
        let trimmed = text.trimmingASCIIWhitespace().lowercased()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.allSatisfy(\.isASCIIDigit) {
            guard let number = Int(trimmed) else { return nil }
            return number.multipliedReportingOverflow(by: bareUnit.rawValue).overflow ? nil : number * bareUnit.rawValue
        }
        var total = 0
        var digits = ""
        var lastUnit = Int.max
        for character in trimmed {
            if character.isASCIIDigit {
                digits.append(character)
                continue
            }
            let unit: Int
            switch character {
            case "d": unit = 86_400
            case "h": unit = 3600
            case "m": unit = 60
            case "s": unit = 1
            default: return nil
            }
            // Units must come in decreasing order, each once: "1h30m", not "30m1h" or "1m1m".
            guard let number = Int(digits), unit < lastUnit else { return nil }
            let (part, overflow) = number.multipliedReportingOverflow(by: unit)
            let (sum, sumOverflow) = total.addingReportingOverflow(part)
            guard !overflow, !sumOverflow else { return nil }
            total = sum
            digits = ""
            lastUnit = unit
        }
        return digits.isEmpty ? total : nil
    }

    /// A short human form: `35s`, `2m`, `1h30m`, `1h0m5s`.
    public static func format(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        let hours = seconds / 3600, minutes = seconds % 3600 / 60, rest = seconds % 60
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 || (hours > 0 && rest > 0) { text += "\(minutes)m" }
        if rest > 0 { text += "\(rest)s" }
        return text
    }

    static func expectation(bareUnit: BareUnit) -> String {
        "expected a whole number of \(bareUnit.name) or a duration such as 90s, 2m or 1h"
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
