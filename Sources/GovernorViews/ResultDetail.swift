public import GovernorWire
import GovernorCore

/// A stored result with its output, for the school page's list of recent results.
public struct ResultDetail: Sendable, Equatable {
    public var summary: ResultSummary
    public var probe: String
    public var output: String
    public var outputTruncated: Bool

    public init(summary: ResultSummary, probe: String, output: String, outputTruncated: Bool) {
        self.summary = summary
        self.probe = probe
        self.output = output
        self.outputTruncated = outputTruncated
    }
}
