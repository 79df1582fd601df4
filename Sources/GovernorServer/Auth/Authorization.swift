import Foundation
import Hummingbird

/// Who may read the operator endpoints.
enum Authorization {
    /// True when no admin token is configured, or the request carries it: as a bearer
    /// token (scripts, Prometheus) or as the password of HTTP basic authentication
    /// (a browser's login prompt; the user name is not checked).
    static func isOperator(_ request: Request, snapshot: LiveConfiguration.Snapshot) -> Bool {
        guard let expected = snapshot.governor.adminTokenSHA256.flatMap(ProbeToken.digest(fromHex:)) else { return true }
        guard let token = request.bearerToken.map(String.init) ?? request.basicPassword else { return false }
        return ProbeToken.digest(token).matches(expected)
    }
}

extension Request {
    /// The password of an `Authorization: Basic BASE64(user:password)` header.
    var basicPassword: String? {
        guard let value = headers[.authorization], value.count > 6, value.prefix(6).lowercased() == "basic " else { return nil }
        guard let decoded = Data(base64Encoded: String(value.dropFirst(6).trimmingCharacters(in: .whitespaces))),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        return String(text[text.index(after: colon)...])
    }

    /// The token of an `Authorization: Bearer TOKEN` header.
    var bearerToken: Substring? {
        // The one Authorization field, read in place: `headers[.authorization]` joins
        // every value into a new string, on every probe request. Two are refused.
        var found: String?
        for field in headers where field.name == .authorization {
            guard found == nil else { return nil }
            found = field.value
        }
        guard let value = found else { return nil }
        // "Bearer" is case-insensitive (RFC 7235); compare bytes, allocate nothing.
        let scheme = value.utf8.prefix(7)
        guard scheme.count == 7, zip(scheme, "bearer ".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let token = value.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : token
    }
}
