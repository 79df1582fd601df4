import Hummingbird

/// Counts every request by route, method and status, and times it, into the
/// governor's own metrics registry.
///
/// It sits outside ``APIErrorMiddleware``, so it sees the status the client gets.
/// Paths that match no route are counted as `unmatched`, so that scans of random
/// paths cannot create series without bound.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GovernorMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            // The router names a path no route matched "NotFound".
            let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
            metrics.requestServed(route: route, method: request.method.rawValue, status: status, seconds: seconds)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
