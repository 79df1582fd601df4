import GovernorCore
import GovernorDashboard
import GovernorWire
import Metrics
import Prometheus
import Synchronization

/// The governor's metrics, recorded through swift-metrics into a Prometheus
/// registry of its own and served at `/metrics`.
///
/// The registry belongs to this value rather than to the process-wide
/// `MetricsSystem`, so that a test can run several governors in one process and
/// read each one's figures alone. Every name starts with `governor_`.
///
/// No label names a school or a probe: at 10,000 schools a label per school made
/// 40,000 series, a scrape of megabytes, and a start-up that spent most of its time
/// adding them to the registry one copy at a time. Per-school figures are in
/// `/v1/status`.
final class GovernorMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// `governor_runs_total` by outcome, made once: the counters are hit per run.
    private let scheduledRuns, doneRuns, failedRuns, missedRuns: Metrics.Counter
    /// Routes are patterns and statuses few, so this stays small.
    private let requestHandles = Mutex<[RequestKey: (count: Metrics.Counter, duration: Metrics.Timer)]>([:])

    /// Request durations: the API answers in well under a millisecond, so the
    /// buckets start at 100 µs.
    static let requestDurationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]
    /// How late tests start, in seconds: push dispatches aim at a few milliseconds,
    /// and `max_lateness` (60 s by default) is where a run is skipped instead.
    static let latenessBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    init(version: String = GovernorServer.version, startedAt: Double) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = ["governor_http_request_duration_seconds": Self.requestDurationBuckets]
        factory.valueHistogramBuckets = ["governor_run_start_lateness_seconds": Self.latenessBuckets]
        self.factory = factory
        Metrics.Gauge(label: "governor_build_info", dimensions: [("version", version)], factory: factory).record(1)
        Metrics.Gauge(label: "governor_start_time_seconds", factory: factory).record(startedAt)
        // Present from the start, so that a dashboard shows 0 rather than no data.
        for result in ["success", "failure"] {
            _ = Metrics.Counter(label: "governor_config_reloads_total", dimensions: [("result", result)], factory: factory)
        }
        _ = Metrics.Counter(label: "governor_outbox_delivery_failures_total", factory: factory)
        Metrics.Gauge(label: "governor_config_last_reload_timestamp_seconds", factory: factory).record(startedAt)
        func runs(_ outcome: String) -> Metrics.Counter {
            Metrics.Counter(label: "governor_runs_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        (scheduledRuns, doneRuns, failedRuns, missedRuns) = (runs("scheduled"), runs("done"), runs("failed"), runs("missed"))
    }

    /// One answered HTTP request. `route` is the route's pattern (`/v1/probes/{id}/next`),
    /// never the path itself, so that probe ids do not multiply the series.
    func requestServed(route: String, method: String, status: Int, seconds: Double) {
        let key = RequestKey(route: route, method: method, status: status)
        let handles = requestHandles.withLock { $0[key] } ?? makeRequestHandles(key)
        handles.count.increment()
        handles.duration.recordNanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The counter and timer of one route, method and status, made once: looking
    /// them up in the registry by their labels on every request was a measurable part
    /// of a probe's `/next`.
    private func makeRequestHandles(_ key: RequestKey) -> (count: Metrics.Counter, duration: Metrics.Timer) {
        let handles = (
            count: Metrics.Counter(label: "governor_http_requests_total",
                                   dimensions: [("route", key.route), ("method", key.method), ("status", "\(key.status)")], factory: factory),
            duration: Metrics.Timer(label: "governor_http_request_duration_seconds", dimensions: [("route", key.route), ("method", key.method)],
                                    factory: factory))
        requestHandles.withLock { $0[key] = handles }
        return handles
    }

    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// Runs written into the schedule.
    func runsScheduled(count: Int) {
        if count > 0 { scheduledRuns.increment(by: count) }
    }

    /// A stored result: done with exit status 0, failed otherwise.
    func runFinished(succeeded: Bool) {
        (succeeded ? doneRuns : failedRuns).increment()
    }

    /// Runs judged missed by the alert rule (no contact since the run time).
    func runsMissed(count: Int) {
        if count > 0 { missedRuns.increment(by: count) }
    }

    /// How late a test started after its run time (push: measured by the governor;
    /// pull: as the probe reported it).
    func startLateness(mode: String, seconds: Double) {
        Recorder(label: "governor_run_start_lateness_seconds", dimensions: [("mode", mode)], aggregate: true, factory: factory)
            .record(max(seconds, 0))
    }

    /// A probe request whose id and token did not match (`missing_token`,
    /// `unknown_probe`, `wrong_token`).
    func authFailed(reason: String) {
        Metrics.Counter(label: "governor_auth_failures_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    func outboxDeliveryFailed() {
        Metrics.Counter(label: "governor_outbox_delivery_failures_total", factory: factory).increment()
    }

    func configReloaded(success: Bool, at instant: Double) {
        Metrics.Counter(label: "governor_config_reloads_total", dimensions: [("result", success ? "success" : "failure")], factory: factory).increment()
        if success {
            Metrics.Gauge(label: "governor_config_last_reload_timestamp_seconds", factory: factory).record(instant)
        }
    }

    /// The figures that are states rather than events, set just before each scrape.
    func updateGauges(_ summary: StatusReport.Summary) {
        for (state, count) in [("up", summary.up), ("down", summary.down), ("never_seen", summary.neverSeen)] {
            Metrics.Gauge(label: "governor_probes", dimensions: [("state", state)], factory: factory).record(count)
        }
        Metrics.Gauge(label: "governor_schools", factory: factory).record(summary.schools)
        Metrics.Gauge(label: "governor_outbox_messages", factory: factory).record(summary.outboxPending)
    }

    /// The most tests of the fleet running at once on each UTC day the stored
    /// schedule holds (what `max_concurrent_tests` caps).
    func updatePeakConcurrency(_ peaks: [(day: LocalDate, peak: Int)]) {
        for (day, peak) in peaks {
            Metrics.Gauge(label: "governor_tests_peak_concurrent", dimensions: [("day", day.description)], factory: factory).record(peak)
        }
    }

    /// The Prometheus text exposition format, version 0.0.4.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
