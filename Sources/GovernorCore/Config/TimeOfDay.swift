/// A wall-clock time of day, as a window boundary: seconds since local midnight.
public struct TimeOfDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let secondsSinceMidnight: Int

    public init?(secondsSinceMidnight: Int) {
        guard (0..<86_400).contains(secondsSinceMidnight) else { return nil }
        self.secondsSinceMidnight = secondsSinceMidnight
    }

    public init?(hour: Int, minute: Int, second: Int = 0) {
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second) else { return nil }
        self.secondsSinceMidnight = hour * 3600 + minute * 60 + second
    }

    /// Parses `HHMM` (the original governor's form, e.g. `0530`), `HH:MM` or `HH:MM:SS`.
    /// `H:MM` with a one-digit hour is accepted too.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        switch parts.count {
        case 1 where parts[0].count == 4:
            let digits = parts[0]
            self.init(hour: Int(digits.prefix(2))!, minute: Int(digits.suffix(2))!)
        case 2 where (1...2).contains(parts[0].count) && parts[1].count == 2:
            self.init(hour: Int(parts[0])!, minute: Int(parts[1])!)
        case 3 where (1...2).contains(parts[0].count) && parts[1].count == 2 && parts[2].count == 2:
            self.init(hour: Int(parts[0])!, minute: Int(parts[1])!, second: Int(parts[2])!)
        default:
            return nil
        }
    }

    public var hour: Int { secondsSinceMidnight / 3600 }
    public var minute: Int { secondsSinceMidnight % 3600 / 60 }
    public var second: Int { secondsSinceMidnight % 60 }

    /// `HH:MM:SS`, always with the seconds.
    public var clockText: String { "\(hour.twoDigits):\(minute.twoDigits):\(second.twoDigits)" }

    /// `HH:MM`, or `HH:MM:SS` when the seconds are not zero.
    public var description: String {
        let hhmm = "\(hour.twoDigits):\(minute.twoDigits)"
        return second == 0 ? hhmm : "\(hhmm):\(second.twoDigits)"
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool {
        lhs.secondsSinceMidnight < rhs.secondsSinceMidnight
    }
}

extension Int {
    var twoDigits: String { self < 10 && self >= 0 ? "0\(self)" : "\(self)" }
    var threeDigits: String { self < 100 && self >= 0 ? (self < 10 ? "00\(self)" : "0\(self)") : "\(self)" }
}
