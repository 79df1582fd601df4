import GovernorCore
import GovernorStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The routes of `governor serve`; each controller gets only the parts it uses.
func buildRouter(_ parts: GovernorComponents, benchmarkRoutes: Bool = false) -> Router<GovernorRequestContext> {
    let router = Router(context: GovernorRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: parts.metrics))
    router.add(middleware: ResponseCompressionMiddleware())
    router.add(middleware: APIErrorMiddleware(outages: parts.outages))
    ProbeController(live: parts.live, contacts: parts.contacts, egress: parts.egress, schedule: parts.schedule, database: parts.database,
                    results: parts.results, status: parts.status, authFailures: parts.authFailures, clock: parts.clock).addRoutes(to: router)
    SchoolController(live: parts.live, status: parts.status, schedule: parts.schedule, database: parts.database,
                     stateHealth: parts.stateHealth, clock: parts.clock)
        .addRoutes(to: router)
    MeasurementController(live: parts.live, status: parts.status, database: parts.database, clock: parts.clock).addRoutes(to: router)
    SilenceController(live: parts.live, database: parts.database, silences: parts.silences, clock: parts.clock, logger: parts.logger)
        .addRoutes(to: router)
    IncidentController(live: parts.live, incidents: parts.incidents).addRoutes(to: router)
    DashboardController(live: parts.live, status: parts.status, database: parts.database, metrics: parts.metrics, schedule: parts.schedule)
        .addRoutes(to: router)
    // The API's contract, as kept in Sources/GovernorServer/Resources/openapi.json.
    let document = ByteBuffer(bytes: PackageResources.openapi_json)
    router.get("/openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
    }
    if benchmarkRoutes {
        // The benchmark's baseline: the cheapest route the framework can serve.
        let constant = ByteBuffer(string: "{\"constant\":true}\n")
        router.get("/bench/constant") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: constant))
        }
    }
    return router
}

/// Limits that keep one slow or hostile client from tying up the server.
enum ConnectionLimits {
    /// A connection with no traffic for this long is closed.
    static let idleTimeout = TimeAmount.seconds(30)
    /// Request line and headers together.
    static let maxHeaderBytes = 16 * 1024
    static let maxHeaderCount = 100
}

/// The HTTP application, with the background services it runs beside.
func buildApplication(
    _ parts: GovernorComponents, address: ListenAddress, services: [any Service], benchmarkRoutes: Bool,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void
) -> some ApplicationProtocol {
    let governor = parts.live.snapshot.governor
    let requestTimeout = TimeAmount.seconds(Int64(governor.requestTimeoutSeconds))
    let totalLimit = governor.maxConnections ?? ConnectionCounter.defaultTotalLimit()
    parts.logger.info("holding at most \(totalLimit) connections (max_connections\(governor.maxConnections == nil ? ", from the descriptor limit" : ""))")
    let counter = ConnectionCounter(limit: governor.maxConnectionsPerClient, totalLimit: totalLimit, logger: parts.logger)
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ConnectionLimitHandler(counter: counter), RequestDeadlineHandler(timeout: requestTimeout)],
        idleTimeout: ConnectionLimits.idleTimeout,
        httpDecoderConfiguration: .init(maxHeaderFieldSize: ConnectionLimits.maxHeaderBytes,
                                        maxHeaderListSize: ConnectionLimits.maxHeaderBytes,
                                        maxHeaderFieldCount: ConnectionLimits.maxHeaderCount))
    return Application(
        router: buildRouter(parts, benchmarkRoutes: benchmarkRoutes),
        server: .http1(configuration: http1),
        configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "governor"),
        services: services,
        onServerRunning: onServerRunning,
        logger: parts.logger)
}
