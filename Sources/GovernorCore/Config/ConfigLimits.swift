/// The range of every numeric configuration value.
///
/// Out of range is a `FILE:LINE: error:` naming the key and the range, never a
/// value the arithmetic downstream cannot hold: with every value inside these
/// bounds, no product or sum the governor forms from them can overflow (the
/// largest, tests × (test + delay) of one window, stays below 2^63 for any
/// school of fewer than 10^10 probes). docs/configuration.md lists the same ranges.
public enum ConfigLimits {
    /// A rate in Mbit/s (`contracted_download_mbps`, `target_download_mbps`,
    /// `poor_below_mbps`): more than a school's line ever carries, 10 Tbit/s.
    public static let mbps: ClosedRange<Double> = 0.001...10_000_000
    /// `mbps_per_student`.
    public static let mbpsPerStudent: ClosedRange<Double> = 0.001...100_000
    /// `below_target_days` ([Alerts]); at most the measurement window, which is where
    /// the governor keeps the daily medians.
    public static let belowTargetDays = 1...365
    /// `daily_tests_per_egress`.
    public static let dailyTestsPerEgress = 1...1_000_000
    /// `students`.
    public static let students = 1...10_000_000
    /// `measurement_window`, in seconds: 1 to 365 days (whole days).
    public static let measurementWindow = 86_400...(365 * 86_400)
    /// `test_duration`: how long one test occupies the school's uplink.
    public static let testDuration = 1...3600
    /// `[Timing] delay`: the pause between two tests of a school.
    public static let delay = 0...86_400
    public static let runsPerPeriod = 1...1000
    /// `[Governor] max_output`: 1 byte to 64 MiB.
    public static let maxOutput = 1...(64 << 20)
    /// `[Alerts] grace`.
    public static let grace = 0...86_400
    public static let missedRuns = 1...1000
    /// `[Alerts] repeat`: reminders while DOWN.
    public static let reminder = 60...(30 * 86_400)
    /// `[Alerts] retry_max`: the cap of the delivery backoff.
    public static let retryMax = 5...(30 * 86_400)
    /// `[Alerts] heartbeat_interval`: how often the heartbeat is called.
    /// `[Alerts] incident_min_schools`: set above the fleet's size to have no incidents.
    public static let incidentMinSchools = 2...10_000_000
    /// `[Alerts] incident_span`: schools that went down within this of each other.
    public static let incidentSpan = 60...86_400
    /// `[Alerts] incident_max`: an incident ends after this at the latest.
    public static let incidentMax = 600...(30 * 86_400)
    /// `[Alerts] incident_wait`: how long a school's DOWN email waits for an incident to form.
    public static let incidentWait = 0...3600
    public static let heartbeatInterval = 1...3600
    /// `[Alerts] heartbeat_fail_after`: how long the outbox may fail before the heartbeat says so.
    public static let heartbeatFailAfter = 1...(7 * 86_400)
    /// `[SSH] timeout`: how long a push test may run.
    public static let sshTimeout = 1...86_400
    public static let connectTimeout = 1...600
    public static let maxLateness = 1...86_400
    public static let port = 1...65_535
    /// `[Governor] request_timeout`: headers and body of one request.
    public static let requestTimeout = 1...600
    /// `[Governor] max_concurrent_tests`.
    public static let concurrentTests = 1...1_000_000
    /// `[Governor] lease_horizon`: how far ahead a probe may lease its runs.
    public static let leaseHorizon = 60...(7 * 86_400)
    /// `[Governor] max_connections_per_client`.
    public static let connectionsPerClient = 1...100_000
    /// `[Governor] max_connections`.
    public static let connections = 1...1_000_000

    /// "from 1s to 1h": a duration range as the configuration writes it.
    public static func describe(seconds range: ClosedRange<Int>) -> String {
        "from \(DurationValue.format(range.lowerBound)) to \(DurationValue.format(range.upperBound))"
    }
}
