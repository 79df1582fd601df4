public import Foundation
public import Hummingbird
public import NIOCore
import GovernorCore
import HTTPTypes

/// The request context of the governor's API: JSON with sorted keys, so that
/// responses are stable byte for byte.
public struct GovernorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address, for the authentication-failure accounting.
    public let remoteAddress: SocketAddress?
    /// Who the request comes from, as the route group's authentication proved it.
    var identity: Identity?
    /// The configuration the authentication checked the request against; the handler
    /// reads the same one, so that a reload between the two cannot split a request.
    var configuration: LiveConfiguration.Snapshot?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text; `unknown` when the channel has none (in-process tests).
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }

    /// The address the request comes from: the peer's, or, when the peer is one of
    /// `[Governor] trusted_proxies`, the client its `X-Forwarded-For` names. Nil when
    /// the channel has no IP peer (in-process tests).
    func clientAddress(of request: Request, trusted: [AddressRange]) -> EgressAddress? {
        guard let peer = remoteAddress?.ipAddress.flatMap({ EgressAddress($0) }) else { return nil }
        guard !trusted.isEmpty else { return peer }
        return ForwardedClient.address(peer: peer, forwardedFor: request.headers[values: .xForwardedFor], trusted: trusted)
    }

    public var responseEncoder: JSONEncoder { Self.makeEncoder() }

    /// The encoder of every JSON answer, also for those encoded in parts (``StatusResponse``).
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension HTTPField.Name {
    /// The addresses a request passed through, appended by each proxy (de facto standard).
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
