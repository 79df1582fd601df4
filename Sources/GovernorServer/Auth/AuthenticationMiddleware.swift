import Hummingbird
import GovernorCore

/// Who a request was proven to come from. Set by the authentication middleware of
/// the route's group, read by the handler: a route added to a group cannot forget to
/// check, and a handler never sees a request that was not checked.
enum Identity: Sendable {
    /// A probe, by its bearer token; the probe named in the path.
    case probe(ProbeEntry)
    /// The operator, by the admin token (or any request when no admin token is set).
    case `operator`
}

extension GovernorRequestContext {
    /// The configuration the request was authenticated against, or (on a route
    /// outside the authenticated groups) the live one.
    func configuration(or live: LiveConfiguration) -> LiveConfiguration.Snapshot {
        configuration ?? live.snapshot
    }

    /// The probe a probe route serves: the authenticated probe itself, or for the
    /// operator, the probe the path names.
    /// - Throws: 404 when the operator names a probe the configuration lacks.
    func probe(in snapshot: LiveConfiguration.Snapshot) throws -> ProbeEntry {
        switch identity {
        case .probe(let entry):
            return entry
        case .operator:
            let id = try parameters.require("id")
            guard let entry = snapshot.probes[id] else { throw APIError.notFound("no probe is configured with the id '\(id)'") }
            return entry
        case nil:
            // Only a route outside the authenticated groups gets here: a wiring mistake.
            throw APIError.unauthorized("this endpoint needs authentication")
        }
    }
}

/// The probe routes' authentication: the probe named in the path, proven by its
/// bearer token.
///
/// An unknown id and a wrong token get the same answer, so that ids cannot be found
/// by trying; every failure is counted for the client's address, and an address
/// that keeps failing is told to slow down (429).
struct ProbeAuthenticator: RouterMiddleware {
    typealias Context = GovernorRequestContext
    let live: LiveConfiguration
    let failures: AuthFailureLimiter
    let clock: ServerClock
    /// The operator may read too (a probe's status and results), not act as a probe.
    var operatorMayRead = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let snapshot = live.snapshot
        context.configuration = snapshot
        if operatorMayRead, Authorization.isOperator(request, snapshot: snapshot) {
            context.identity = .operator
            return try await next(request, context)
        }
        let id = try context.parameters.require("id")
        let entry = snapshot.probes[id]
        let failure = ProbeCredentials.failure(of: entry, token: request.bearerToken)
        if let entry, failure == nil {
            context.identity = .probe(entry)
            return try await next(request, context)
        }
        let reason = failure ?? .unknownProbe
        // Behind a trusted proxy the failures count against the client, not the proxy.
        let address = context.clientAddress(of: request, trusted: snapshot.governor.trustedProxies)?.description ?? context.clientAddress
        if failures.record(reason, probe: id, address: address, at: clock.now()) {
            throw APIError(status: .tooManyRequests, code: "too_many_failures",
                           message: "too many failed authentications from this address; try again in a minute",
                           headers: [.retryAfter: "\(Int(AuthFailureLimiter.window))"])
        }
        if reason == .missingToken {
            throw APIError.unauthorized("send the probe's token as 'Authorization: Bearer TOKEN'")
        }
        throw APIError.unauthorized("the probe id and token do not match a probe of this governor")
    }
}

/// The operator routes' authentication: the admin token (`admin_token_sha256`), as a
/// bearer token (scripts, Prometheus) or, for the pages, as the password of HTTP basic
/// authentication, which a browser asks for when challenged.
struct OperatorAuthenticator: RouterMiddleware {
    typealias Context = GovernorRequestContext
    let live: LiveConfiguration
    /// Challenge with basic authentication (the dashboard's pages) rather than bearer.
    var pages = false
    /// The routes change the state (silences): without `admin_token_sha256` they are
    /// open only to clients on this machine, never to the network.
    var writes = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let snapshot = live.snapshot
        if writes, snapshot.governor.adminTokenSHA256 == nil, let peer = context.remoteAddress?.ipAddress.flatMap({ EgressAddress($0) }),
           !(AddressRange("127.0.0.0/8")!.contains(peer) || AddressRange("::1")!.contains(peer)) {
            throw APIError(status: .forbidden, code: "forbidden",
                           message: "changes over the network need the operator token: set 'admin_token_sha256' in [Governor] (governor token admin prints one)")
        }
        guard Authorization.isOperator(request, snapshot: snapshot) else {
            if pages {
                throw APIError(status: .unauthorized, code: "unauthorized",
                               message: "the dashboard needs the operator token: enter it as the password (any user name)",
                               headers: [.wwwAuthenticate: "Basic realm=\"governor\", charset=\"UTF-8\""])
            }
            throw APIError.unauthorized("this endpoint needs the operator token ('admin_token_sha256' in [Governor]) as 'Authorization: Bearer TOKEN'")
        }
        var context = context
        context.identity = .operator
        context.configuration = snapshot
        return try await next(request, context)
    }
}
