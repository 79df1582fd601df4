/// Whitespace exactly as Python's `str.isspace()` and `str.strip()` define it.
///
/// `configparser` strips lines and measures indentation with Python's notion of
/// whitespace, which includes the ASCII separators 0x1C–0x1F and several Unicode
/// spaces that `Character.isWhitespace` treats differently. Matching it exactly keeps
/// continuation lines and values identical to the original governor's reading.
enum PythonWhitespace {
    static func contains(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A,
             0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}

extension Array where Element == Unicode.Scalar {
    /// `str.strip()`.
    func strippingPythonWhitespace() -> ArraySlice<Unicode.Scalar> {
        guard let first = firstIndex(where: { !PythonWhitespace.contains($0) }),
              let last = lastIndex(where: { !PythonWhitespace.contains($0) })
        else { return [] }
        return self[first...last]
    }
}

extension ArraySlice where Element == Unicode.Scalar {
    /// `str.rstrip()`.
    func droppingTrailingPythonWhitespace() -> ArraySlice<Unicode.Scalar> {
        guard let last = lastIndex(where: { !PythonWhitespace.contains($0) }) else { return [] }
        return self[startIndex...last]
    }

    /// The scalars as a `String`, by way of their UTF-8 bytes: appending scalars to a
    /// `String.UnicodeScalarView` one at a time was a tenth of a large fleet's start-up.
    var string: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for scalar in self {
            if scalar.isASCII {
                bytes.append(UInt8(truncatingIfNeeded: scalar.value))
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
