import GovernorCore
import Testing

@testable import GovernorServer

@Suite("Probe credentials")
struct ProbeCredentialsTests {
    static let entry = ProbeEntry(probe: ProbeConfig(name: "p1", mode: .pull, line: 1), school: "alpha",
                                  tokenDigest: ProbeToken.digest("right"))

    /// An unknown id used to be answered without hashing the token, 2–4 µs sooner
    /// than a wrong token: enough to tell which ids exist. The test counts the
    /// digests instead of timing the answers.
    @Test("an unknown id and a wrong token cost the same work: one digest each")
    func sameWork() {
        for (entry, token, expected) in [(nil, "guess", AuthFailureLimiter.Reason.unknownProbe), (Self.entry, "guess", .wrongToken)] as [(ProbeEntry?, String, AuthFailureLimiter.Reason)] {
            var digests = 0
            let failure = ProbeCredentials.failure(of: entry, token: token) { token in
                digests += 1
                return ProbeToken.digest(token)
            }
            #expect(failure == expected)
            #expect(digests == 1, "\(expected): \(digests) digests")
        }
    }

    @Test("the right token passes; a missing one is said to be missing")
    func verdicts() {
        #expect(ProbeCredentials.failure(of: Self.entry, token: "right") == nil)
        #expect(ProbeCredentials.failure(of: Self.entry, token: String?.none) == .missingToken)
        #expect(ProbeCredentials.failure(of: nil, token: String?.none) == .missingToken)
    }

    @Test("a digest matches its token's alone, in each of its 32 bytes; token_sha256 reads the same digest")
    func digests() {
        let right = ProbeToken.digest("right")
        #expect(right.matches(ProbeToken.digest("right")))
        #expect(right.matches(ProbeToken.digest("right"[...])))
        #expect(!right.matches(ProbeToken.digest("wrong")))
        let hex = ProbeToken.sha256Hex("right")
        #expect(ProbeToken.digest(fromHex: hex)?.matches(right) == true)
        #expect(ProbeToken.digest(fromHex: hex.uppercased())?.matches(right) == true)
        // A difference in any one byte is seen.
        for index in 0..<32 {
            var digits = Array(hex.utf8)
            digits[index * 2] = digits[index * 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            #expect(ProbeToken.digest(fromHex: String(decoding: digits, as: UTF8.self))?.matches(right) == false, "byte \(index)")
        }
        #expect(ProbeToken.digest(fromHex: String(hex.dropLast())) == nil)
        #expect(ProbeToken.digest(fromHex: String(hex.dropLast()) + "g") == nil)
    }
}
