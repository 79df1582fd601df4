import GovernorCore
import GovernorStore
import GovernorViews
import GovernorWire
import Prometheus
import Synchronization

/// The governor's metrics, in a Prometheus registry of its own, served at `/metrics`.
///
/// The registry belongs to this value rather than to the process, so that a test can
/// run several governors in one process and read each one's figures alone. Every
/// name starts with `governor_`, and every family carries its help text
/// (``GovernorMetrics/help``): `promtool check metrics` finds nothing to say. The
/// families are made on the registry directly, not through swift-metrics, whose
/// factory registers them without help.
///
/// No label names a school or a probe: at 10,000 schools a label per school made
/// 40,000 series, a scrape of megabytes, and a start-up that spent most of its time
/// adding them to the registry one copy at a time. Per-school figures are in
/// `/v1/status`.
final class GovernorMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// `governor_runs_total` by outcome, made once: the counters are hit per run.
    private let scheduledRuns, doneRuns, failedRuns, missedRuns: Counter
    /// `governor_result_readings_total` by outcome, made once.
    private let readings: [ResultReadingOutcome: Counter]
    /// Routes are patterns and statuses few, so this stays small.
    private let requestHandles = Mutex<[RequestKey: (count: Counter, duration: DurationHistogram)]>([:])

    /// Each family's `# HELP` line: what it counts, for the operator who reads it.
    static let help: [String: String] = [
        "governor_build_info": "The running governor's version, as a label; always 1.",
        "governor_start_time_seconds": "When this governor process started, in Unix seconds.",
        "governor_config_reloads_total": "Configuration reloads (SIGHUP or systemctl reload), by result: success, or failure (the old configuration stays).",
        "governor_config_last_reload_timestamp_seconds": "When the configuration in force was loaded, in Unix seconds.",
        "governor_outbox_delivery_failures_total": "Failed attempts to deliver queued alert email; each message is retried until it is sent.",
        "governor_runs_total": "Runs by outcome: scheduled (written into the schedule), done (exit 0), failed (another exit or a push failure), missed (no contact since the run time).",
        "governor_http_requests_total": "HTTP requests answered, by route pattern, method and status.",
        "governor_http_request_duration_seconds": "Time to answer an HTTP request, by route pattern and method.",
        "governor_run_start_lateness_seconds": "How late tests started after their run time, by mode: push as the governor measured it, pull as the probe reported it.",
        "governor_auth_failures_total": "Probe requests whose id and token did not match, by reason: missing_token, unknown_probe, wrong_token.",
        "governor_probes": "Probes by state: up, down (missed_runs runs missed in a row), never_seen.",
        "governor_schools": "Schools in the configuration in force.",
        "governor_outbox_messages": "Alert email queued and not delivered yet.",
        "governor_result_readings_total": "Results of tests that ran, by what reading their output gave: measured, unrecognised (no format recognised it, or result_format = none), unreadable (the school's explicit format could not read it), tool_error, rate_limited.",
        "governor_schools_by_measurement": "Schools by where their window's median download stands: meets (at least the target), below, poor (below poor_below_mbps), no_data.",
        "governor_schools_meeting_target_ratio": "KPI: the share of schools with measurements whose window median download meets their target.",
        "governor_schools_reaching_contract_ratio": "KPI: the share of measured schools with a contract whose window median download is at least 80 % of it.",
        "governor_schools_reported_recently_ratio": "KPI: the share of schools with a measurement in their last 7 open days.",
        "governor_egresses_shared": "Egress addresses more than one probe is behind (a school's NAT, a district's proxy).",
        "governor_probes_sharing_egress": "Probes behind an egress address that another probe is behind too.",
        "governor_egresses_over_daily_budget": "Egress addresses that carried more tests in the last 24 hours than daily_tests_per_egress (0 when it is unset).",
        "governor_incidents_open": "Incidents open now: many schools DOWN together, told in one email (docs/alerts.md).",
        "governor_probe_identity_conflicts": "Probes whose id was seen switching at least twice in 24 hours between two addresses of one family: one id on several boxes.",
        "governor_alertmanager_posts_total": "Posts of the alerts to Alertmanager, by result: accepted, failed (unreachable, or an answer of 400 or more).",
        "governor_alertmanager_unreachable": "Alertmanagers (of [Alerts] alertmanager) whose last post failed.",
        "governor_tests_peak_concurrent": "The most tests of the fleet running at once on each UTC day the stored schedule holds (what max_concurrent_tests caps).",
    ]

    /// A family's name with its help text: the whole name is the descriptor's metric
    /// name (the governor's names carry their unit already).
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

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
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func runs(_ outcome: String) -> Counter {
            registry.makeCounter(descriptor: Self.descriptor("governor_runs_total"), labels: [("outcome", outcome)])
        }
        (scheduledRuns, doneRuns, failedRuns, missedRuns) = (runs("scheduled"), runs("done"), runs("failed"), runs("missed"))
        readings = Dictionary(uniqueKeysWithValues: ResultReadingOutcome.allCases.map { outcome in
            (outcome, registry.makeCounter(descriptor: Self.descriptor("governor_result_readings_total"), labels: [("outcome", outcome.rawValue)]))
        })
        gauge("governor_build_info", [("version", version)]).set(1.0)
        gauge("governor_start_time_seconds").set(startedAt)
        // Present from the start, so that a dashboard shows 0 rather than no data.
        for result in ["success", "failure"] {
            _ = counter("governor_config_reloads_total", [("result", result)])
        }
        _ = counter("governor_outbox_delivery_failures_total")
        gauge("governor_config_last_reload_timestamp_seconds").set(startedAt)
    }

    private func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
        labels.isEmpty ? registry.makeCounter(descriptor: Self.descriptor(name)) : registry.makeCounter(descriptor: Self.descriptor(name), labels: labels)
    }

    private func gauge(_ name: String, _ labels: [(String, String)] = []) -> Gauge {
        labels.isEmpty ? registry.makeGauge(descriptor: Self.descriptor(name)) : registry.makeGauge(descriptor: Self.descriptor(name), labels: labels)
    }

    /// One answered HTTP request. `route` is the route's pattern (`/v1/probes/{id}/next`),
    /// never the path itself, so that probe ids do not multiply the series.
    func requestServed(route: String, method: String, status: Int, seconds: Double) {
        let key = RequestKey(route: route, method: method, status: status)
        let handles = requestHandles.withLock { $0[key] } ?? makeRequestHandles(key)
        handles.count.increment()
        handles.duration.recordNanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The counter and histogram of one route, method and status, made once: looking
    /// them up in the registry by their labels on every request was a measurable part
    /// of a probe's `/next`.
    private func makeRequestHandles(_ key: RequestKey) -> (count: Counter, duration: DurationHistogram) {
        let handles = (
            count: counter("governor_http_requests_total", [("route", key.route), ("method", key.method), ("status", "\(key.status)")]),
            duration: registry.makeDurationHistogram(
                descriptor: Self.descriptor("governor_http_request_duration_seconds"), labels: [("route", key.route), ("method", key.method)],
                buckets: Self.requestDurationBuckets))
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
        if count > 0 { scheduledRuns.increment(by: Int64(count)) }
    }

    /// A stored result: done with exit status 0, failed otherwise.
    func runFinished(succeeded: Bool) {
        (succeeded ? doneRuns : failedRuns).increment()
    }

    /// What reading a stored result's output gave; nothing for a test that did not run.
    func resultRead(_ result: TestResult) {
        if let outcome = ResultReadingOutcome(of: result) { readings[outcome]?.increment() }
    }

    /// Runs judged missed by the alert rule (no contact since the run time).
    func runsMissed(count: Int) {
        if count > 0 { missedRuns.increment(by: Int64(count)) }
    }

    /// How late a test started after its run time (push: measured by the governor;
    /// pull: as the probe reported it).
    func startLateness(mode: String, seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.descriptor("governor_run_start_lateness_seconds"), labels: [("mode", mode)],
                                    buckets: Self.latenessBuckets)
            .record(max(seconds, 0))
    }

    /// A probe request whose id and token did not match (`missing_token`,
    /// `unknown_probe`, `wrong_token`).
    func authFailed(reason: String) {
        counter("governor_auth_failures_total", [("reason", reason)]).increment()
    }

    func outboxDeliveryFailed() {
        counter("governor_outbox_delivery_failures_total").increment()
    }

    func configReloaded(success: Bool, at instant: Double) {
        counter("governor_config_reloads_total", [("result", success ? "success" : "failure")]).increment()
        if success {
            gauge("governor_config_last_reload_timestamp_seconds").set(instant)
        }
    }

    /// The figures that are states rather than events, set just before each scrape.
    func updateGauges(_ summary: StatusReport.Summary) {
        for (state, count) in [("up", summary.up), ("down", summary.down), ("never_seen", summary.neverSeen)] {
            gauge("governor_probes", [("state", state)]).set(Double(count))
        }
        gauge("governor_schools").set(Double(summary.schools))
        gauge("governor_outbox_messages").set(Double(summary.outboxPending))
        if let measurements = summary.measurements {
            for (state, count) in [("meets", measurements.meets), ("below", measurements.below), ("poor", measurements.poor), ("no_data", measurements.noData)] {
                gauge("governor_schools_by_measurement", [("state", state)]).set(Double(count))
            }
            // A share without schools to count is absent, not 0: a dashboard shows no data.
            for (name, share) in [("governor_schools_meeting_target_ratio", measurements.meetingTargetShare),
                                  ("governor_schools_reaching_contract_ratio", measurements.reachingContractShare),
                                  ("governor_schools_reported_recently_ratio", measurements.reportedRecentlyShare)] {
                if let share { gauge(name).set(share) }
            }
        }
        if let egress = summary.egress {
            gauge("governor_egresses_shared").set(Double(egress.sharedEgresses))
            gauge("governor_probes_sharing_egress").set(Double(egress.probesSharing))
            gauge("governor_egresses_over_daily_budget").set(Double(egress.overDailyBudgetCount))
            gauge("governor_probe_identity_conflicts").set(Double(egress.identityConflictCount))
        }
        if let open = summary.incidentsOpen { gauge("governor_incidents_open").set(Double(open)) }
    }

    func alertmanagerPosted(accepted: Bool) {
        counter("governor_alertmanager_posts_total", [("result", accepted ? "accepted" : "failed")]).increment()
    }

    func alertmanagersUnreachable(_ count: Int) {
        gauge("governor_alertmanager_unreachable").set(Double(count))
    }

    /// The most tests of the fleet running at once on each UTC day the stored
    /// schedule holds (what `max_concurrent_tests` caps).
    func updatePeakConcurrency(_ peaks: [(day: LocalDate, peak: Int)]) {
        for (day, peak) in peaks {
            gauge("governor_tests_peak_concurrent", [("day", day.description)]).set(Double(peak))
        }
    }

    /// The Prometheus text exposition format, version 0.0.4.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

/// What reading a stored result's output gave, as `/metrics` counts it.
enum ResultReadingOutcome: String, CaseIterable {
    case measured, unrecognised, unreadable
    case toolError = "tool_error"
    case rateLimited = "rate_limited"

    /// Read from the stored result itself, so that the count and the result agree;
    /// nil for a test that did not run, or failed without a message in its output.
    init?(of result: TestResult) {
        if result.measurement != nil {
            self = .measured
            return
        }
        guard let failure = result.failure else {
            guard result.exitCode == 0 else { return nil }
            self = .unrecognised
            return
        }
        switch RunFailure.kind(of: failure) {
        case RunFailure.unreadableOutput: self = .unreadable
        case RunFailure.toolError: self = .toolError
        case RunFailure.rateLimited: self = .rateLimited
        default: return nil
        }
    }
}
