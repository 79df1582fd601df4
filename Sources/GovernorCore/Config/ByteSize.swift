/// Parses sizes such as `1MiB`, `512KiB`, `64k` or a bare number of bytes.
public enum ByteSize {
    public static func bytes(_ text: String) -> Int? {
        let trimmed = text.trimmingASCIIWhitespace()
        let digits = trimmed.prefix { $0.isASCIIDigit }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit: Int
        switch trimmed.dropFirst(digits.count).lowercased() {
        case "", "b": unit = 1
        case "k", "kb", "kib": unit = 1 << 10
        case "m", "mb", "mib": unit = 1 << 20
        case "g", "gb", "gib": unit = 1 << 30
        default: return nil
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }
}
