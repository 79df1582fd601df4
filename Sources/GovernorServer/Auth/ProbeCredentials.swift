/// The check of a probe's id and bearer token, apart from HTTP.
enum ProbeCredentials {
    /// Compared with the token's digest when no probe has the id, so that an unknown
    /// id costs the same work as a wrong token and answers in the same time: ids
    /// cannot be found by timing the answers.
    private static let decoy = ProbeToken.digest("no probe has this id")

    /// Checks `token` against the probe `entry` (nil: no probe has the id).
    /// - Parameter digest: the token's SHA-256; a parameter so that the tests can
    ///   count how often it is computed.
    /// - Returns: nil when the credentials are good, else why they are not.
    static func failure<Token: StringProtocol>(of entry: ProbeEntry?, token: Token?, digest: (Token) -> TokenDigest = { ProbeToken.digest($0) })
        -> AuthFailureLimiter.Reason? {
        if let entry, entry.tokenDigest == nil { return nil }  // allowed only with require_tokens = no
        guard let token else { return .missingToken }
        let matches = digest(token).matches(entry?.tokenDigest ?? decoy)
        guard entry != nil else { return .unknownProbe }
        return matches ? nil : .wrongToken
    }
}
