import Crypto
import Foundation

/// Probe and operator tokens: random secrets of which the governor keeps only the SHA-256.
public enum ProbeToken {
    /// A new random token: 32 bytes (256 bits) from the system's secure generator, as
    /// lowercase hex so it pastes cleanly into a config file or a shell.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in generator.next() }
            .map { word in (0..<8).map { String(format: "%02x", (word >> (8 * UInt64($0))) & 0xFF) }.joined() }
            .joined()
    }

    /// The SHA-256 of `token`'s UTF-8 bytes, as 64 lowercase hex digits.
    public static func sha256Hex(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 digest of `token`.
    static func digest(_ token: some StringProtocol) -> TokenDigest {
        let hash = token.utf8.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Array(token.utf8))
        return hash.withUnsafeBytes { TokenDigest(unchecked: $0) }
    }

    /// The digest that 64 hex digits stand for, or nil.
    static func digest(fromHex hex: String) -> TokenDigest? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes.withUnsafeBytes { TokenDigest(unchecked: $0) }
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// A token's SHA-256, held inline: the configuration keeps one per probe (an array
/// each was 8 MB at 100,000 probes) and every probe request computes one.
struct TokenDigest: Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// From exactly 32 bytes.
    fileprivate init(unchecked bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a SHA-256 digest is 32 bytes")
        words = (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Compares in time that does not depend on where the digests differ.
    func matches(_ other: TokenDigest) -> Bool {
        let difference = (words.0 ^ other.words.0) | (words.1 ^ other.words.1) | (words.2 ^ other.words.2) | (words.3 ^ other.words.3)
        return difference == 0
    }
}
