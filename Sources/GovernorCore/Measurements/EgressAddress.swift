#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address as the governor compares egresses: one value per address whatever
/// its spelling (`::ffff:192.0.2.1` is `192.0.2.1`, `2001:DB8::1` is `2001:db8::1`),
/// so that two probes behind one NAT are seen on the same egress however each source
/// wrote it.
public struct EgressAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Family: String, Sendable, Codable {
        case ipv4, ipv6
    }

    public let family: Family
    /// The address's 16 bytes in network order; an IPv4 address fills the last four.
    private let high: UInt64
    private let low: UInt64

    /// Parses a textual IPv4 or IPv6 address; nil for anything else (a host name, a
    /// port suffix, a zone index).
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(ipv4: UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        // An IPv4-mapped address is the IPv4 address a dual-stack socket saw.
        if high == 0, low >> 32 == 0xFFFF {
            self.init(ipv4: UInt32(truncatingIfNeeded: low))
            return
        }
        self.init(family: .ipv6, high: high, low: low)
    }

    public init(ipv4: UInt32) {
        self.init(family: .ipv4, high: 0, low: UInt64(ipv4))
    }

    private init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    /// The canonical text: dotted quad, or RFC 5952's compressed IPv6.
    public var description: String {
        switch family {
        case .ipv4:
            let value = UInt32(truncatingIfNeeded: low)
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .ipv6:
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<8 {
                    raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
                    raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
                }
            }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The address's first `bits` bits, for matching a range.
    fileprivate func prefix(_ bits: Int) -> (high: UInt64, low: UInt64) {
        let width = family == .ipv4 ? 32 : 128
        let keep = max(0, min(bits, width))
        if family == .ipv4 {
            let mask: UInt64 = keep == 0 ? 0 : (UInt64(0xFFFF_FFFF) << (32 - keep)) & 0xFFFF_FFFF
            return (0, low & mask)
        }
        let highMask: UInt64 = keep >= 64 ? .max : (keep == 0 ? 0 : .max << (64 - keep))
        let lowMask: UInt64 = keep <= 64 ? 0 : (keep == 128 ? .max : .max << (128 - keep))
        return (high & highMask, low & lowMask)
    }

    public static func < (lhs: EgressAddress, rhs: EgressAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .ipv4 }
        return (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// An address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`): one entry
/// of `[Governor] trusted_proxies`.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    public let network: EgressAddress
    public let prefixLength: Int

    /// Parses `ADDRESS` or `ADDRESS/BITS`; nil when either part is wrong.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = EgressAddress(parts[0]) else { return nil }
        let width = address.family == .ipv4 ? 32 : 128
        var bits = width
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isASCII), let value = Int(parts[1]), (0...width).contains(value) else { return nil }
            bits = value
        }
        network = address
        prefixLength = bits
    }

    public func contains(_ address: EgressAddress) -> Bool {
        address.family == network.family && address.prefix(prefixLength) == network.prefix(prefixLength)
    }

    public var description: String {
        prefixLength == (network.family == .ipv4 ? 32 : 128) ? network.description : "\(network)/\(prefixLength)"
    }
}

/// The address a request comes from: its peer's, unless the peer is one of the
/// operator's reverse proxies, whose `X-Forwarded-For` then names it.
public enum ForwardedClient {
    /// Walks `X-Forwarded-For` from the right (each proxy appends the address it saw)
    /// past the trusted proxies; the first address that is not one is the client. An
    /// entry that is not an address stops the walk at the last trusted hop, since
    /// whatever lies left of it is the client's own word.
    /// - Parameters:
    ///   - peer: the connection's address.
    ///   - forwardedFor: the `X-Forwarded-For` values, in the order received.
    ///   - trusted: `[Governor] trusted_proxies`.
    public static func address(peer: EgressAddress, forwardedFor: [String], trusted: [AddressRange]) -> EgressAddress {
        guard !forwardedFor.isEmpty, trusted.contains(where: { $0.contains(peer) }) else { return peer }
        var current = peer
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
        for hop in hops.reversed() {
            guard let address = EgressAddress(hop.trimmingSpaces) else { return current }
            current = address
            if !trusted.contains(where: { $0.contains(address) }) { return address }
        }
        return current
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
