import GovernorCore
import GovernorWire
import GovernorStore

/// The limits of `POST /v1/probes/{id}/results`.
enum ResultLimits {
    /// The largest body taken. The probe sends at most 1 MiB of output, which JSON
    /// escaping can make six times longer; anything larger gets 413 with the code
    /// `result_too_large`, which tells the probe to cut its output and send again.
    static let maxBodyBytes = 8 << 20
    /// How far from the governor's clock a reported time may be: a probe delivers
    /// queued results for up to `[Probe] queue_max_age` (7 days by default).
    static let pastSeconds: Double = 30 * 86_400
    static let futureSeconds: Double = 86_400
    /// A probe's clock may be wrong, but not by more than a day.
    static let maxClockOffsetMs = 86_400_000.0
    /// A probe that spawned its test more than a day from the run time did not run it.
    static let maxStartLatenessMs = 86_400_000.0
    static let exitCodes = 0...255
    static let maxIdempotencyKeyBytes = 128
}

/// Turns a probe's report into a result to store, or refuses it with the reason.
///
/// Refusals are ``APIError``s with the code `result_unacceptable`: the one answer
/// on which a probe drops a queued result, since sending it again cannot help.
enum ResultIntake {
    static func unacceptable(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "result_unacceptable", message: message)
    }

    /// Validates `report` against the governor's clock `now` (seconds).
    static func result(of report: ResultReport, probe entry: ProbeEntry, maxOutputBytes: Int, now: Double) throws(APIError) -> TestResult {
        func instant(_ text: String, _ field: String) throws(APIError) -> Double {
            guard let value = RFC3339.parsePrecise(text) else {
                throw unacceptable("'\(field)' is '\(text)'; expected an RFC 3339 time such as 2026-11-23T07:00:00Z")
            }
            guard value >= now - ResultLimits.pastSeconds && value <= now + ResultLimits.futureSeconds else {
                throw unacceptable("'\(field)' is \(text), more than 30 days before or a day after the governor's clock (\(RFC3339.format(UnixTime(now))))")
            }
            return value
        }
        let runAt = try instant(report.runAt, "run_at")
        let startedAt = try instant(report.startedAt, "started_at")
        let finishedAt = try instant(report.finishedAt, "finished_at")
        guard finishedAt >= startedAt else {
            throw unacceptable("'finished_at' (\(report.finishedAt)) is before 'started_at' (\(report.startedAt))")
        }
        guard ResultLimits.exitCodes.contains(report.exitCode) else {
            throw unacceptable("'exit_code' is \(report.exitCode); expected 0 to 255 (128 + N for a test ended by signal N)")
        }
        if let offset = report.clockOffsetMs, !(offset.isFinite && abs(offset) <= ResultLimits.maxClockOffsetMs) {
            throw unacceptable("'clock_offset_ms' is \(offset); a probe's clock more than a day off the governor's cannot be measured")
        }
        if let late = report.startLatenessMs, !(late.isFinite && abs(late) <= ResultLimits.maxStartLatenessMs) {
            throw unacceptable("'start_lateness_ms' is \(late); a test started more than a day from its run time is not a run of it")
        }
        var key = "run:\(UnixTime(runAt.rounded(.down)))"
        if let adHoc = report.idempotencyKey {
            guard !adHoc.isEmpty, adHoc.utf8.count <= ResultLimits.maxIdempotencyKeyBytes, adHoc.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw unacceptable("'idempotency_key' must be 1 to \(ResultLimits.maxIdempotencyKeyBytes) bytes without spaces or control characters")
            }
            key = "key:" + adHoc
        }
        let (output, cut) = ResultOutput.storable(report.output, limit: maxOutputBytes)
        return TestResult(
            probe: entry.probe.name, school: entry.school, mode: entry.probe.mode, runAt: UnixTime(runAt.rounded(.down)),
            startedAtMs: Int64((startedAt * 1000).rounded()), finishedAtMs: Int64((finishedAt * 1000).rounded()),
            exitCode: report.exitCode, output: output, outputTruncated: cut || report.outputTruncated == true,
            clockOffsetMs: report.clockOffsetMs, receivedAt: UnixTime(now.rounded(.down)), idempotencyKey: key,
            probeStartLatenessMs: report.startLatenessMs,
            // A scheduled run of a probe of a group is a group run; an ad-hoc run is its own.
            group: report.idempotencyKey == nil ? entry.group : nil)
    }
}
