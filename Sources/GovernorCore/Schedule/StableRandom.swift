/// Random numbers that are the same on every platform and Swift version, so that a
/// seeded schedule printed today on a laptop is the one a server generates next week.
///
/// Swift's own `Int.random(in:using:)` and `shuffle(using:)` do not promise a fixed
/// algorithm, so the generator uses only the primitives below.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Expands `seed` into the 256-bit state with SplitMix64, as the xoshiro authors recommend.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// Takes its whole 256-bit state from another generator (the system's, for unseeded schedules).
    public init(drawingFrom source: inout some RandomNumberGenerator) {
        state = (source.next(), source.next(), source.next(), source.next())
        if state == (0, 0, 0, 0) { state.0 = 1 }  // the one state xoshiro cannot leave
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): seeds xoshiro and scrambles hashes.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// 64-bit FNV-1a over UTF-8: a stable hash (Swift's `Hasher` is seeded per process).
public enum StableHash {
    public static func fnv1a64(_ text: String, into hash: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var hash = hash
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}

extension RandomNumberGenerator {
    /// A uniform `Double` in `[0, 1)` from the top 53 bits: exact on every platform.
    mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's method).
    mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// Fisher–Yates with ``nextIndex(below:)``.
    mutating func shuffle<Element>(_ elements: inout [Element]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            let j = nextIndex(below: i + 1)
            if i != j { elements.swapAt(i, j) }
        }
    }
}
