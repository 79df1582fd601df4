import GovernorCore
import GovernorStore

/// What intake makes of a test's output, pull and push alike.
enum ResultReading {
    /// Reads `result`'s output as `format` says, for a test that ran, and records
    /// what it found on the result: its measurement, or the failure its output
    /// reports. Returns the reading, or nil when there was nothing to read (the
    /// test did not run).
    ///
    /// - A test that exited 0 gets its measurement, or fails by what its output says
    ///   (`unreadable-output`, `tool-error`, `rate-limited`).
    /// - A test that exited non-zero has failed already and gets no measurement; a
    ///   tool's message in its output still becomes its failure, which says more than
    ///   an exit status.
    @discardableResult
    static func apply(to result: inout TestResult, format: ResultFormat) -> MeasurementReading? {
        guard result.failure == nil, let exitCode = result.exitCode else { return nil }
        var reading = MeasurementReader.read(result.output, format: format)
        if case .unreadable(let why) = reading, result.outputTruncated {
            reading = .unreadable(why + " (the output was cut at max_output; raise it in [Governor] if the tool writes more)")
        }
        if exitCode == 0 {
            result.measurement = reading.measurement
            result.failure = reading.failure
        } else if case .unreadable = reading {
            // A failed test's output need not be readable: its exit status says enough.
        } else if let failure = reading.failure {
            result.failure = failure
        }
        return reading
    }
}
