#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a push-mode probe is reached: `[user@]host[:port]`, with an IPv6 host in
/// brackets when a port follows (`admin@[2001:db8::7]:2222`) and bare otherwise.
public struct ProbeAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public var user: String?
    /// An IPv4 or IPv6 address (without brackets) or a DNS host name.
    public var host: String
    public var port: Int?

    public init(user: String? = nil, host: String, port: Int? = nil) {
        self.user = user
        self.host = host
        self.port = port
    }

    /// Parses an address as written in `[Probes] addresses`; nil when it is not one.
    public init?(parsing text: String) {
        var rest = Substring(text)
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            let name = rest[..<at]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else { return nil }
            user = String(name)
            rest = rest[rest.index(after: at)...]
        }
        var host: Substring
        var port: Int?
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard Self.isIPv6(String(host)) else { return nil }
            if !after.isEmpty {
                guard after.first == ":", let number = Self.port(after.dropFirst()) else { return nil }
                port = number
            }
        } else if rest.filter({ $0 == ":" }).count >= 2 {
            host = rest
            guard Self.isIPv6(String(host)) else { return nil }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            guard let number = Self.port(rest[rest.index(after: colon)...]) else { return nil }
            port = number
        } else {
            host = rest
        }
        guard Self.isIPv4(String(host)) || Self.isIPv6(String(host)) || Self.isHostName(String(host)) else { return nil }
        self.init(user: user, host: String(host), port: port)
    }

    public var description: String {
        var text = user.map { "\($0)@" } ?? ""
        let bracketed = host.contains(":") && port != nil ? "[\(host)]" : host
        text += bracketed
        if let port { text += ":\(port)" }
        return text
    }

    private static func port(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), let number = Int(text),
              (1...65_535).contains(number) else { return nil }
        return number
    }

    static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCIIDigit) && Int(octet)! <= 255
                && !(octet.count > 1 && octet.first == "0")
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        var buffer = in6_addr()
        return text.withCString { inet_pton(AF_INET6, $0, &buffer) } == 1
    }

    /// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        // A name made only of digits and dots is a malformed IPv4 address, not a host name.
        guard !labels.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
