public import GovernorWire
import GovernorCore

/// A stored result with its output, for the school page's list of recent results.
public struct ResultDetail: Sendable, Equatable {
    public var summary: ResultSummary
    public var probe: String
    public var output: String
    public var outputTruncated: Bool
    /// The probe's group for a result of a group run.
    public var group: String?

    public init(summary: ResultSummary, probe: String, output: String, outputTruncated: Bool, group: String? = nil) {
        self.group = group
        self.summary = summary
        self.probe = probe
        self.output = output
        self.outputTruncated = outputTruncated
    }
}
